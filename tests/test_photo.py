"""Fitting images inside Telegram's photo limits for upload, in bounded memory."""

import io
import os
import struct
import threading
import zlib

import pytest
from PIL import Image, ImageFile

from cosmobot.images import photo
from tests.benchmarks.prepare_memory import make_rgb_png, measure
from tests.factories import make_image

# The whole bot, preparing an 81-megapixel RGB PNG (243 MB of pixels), stays under this.
MEMORY_BUDGET_MB = 450


def fits(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        image.load()
    return (
        len(data) <= photo.MAX_BYTES
        and width + height <= photo.MAX_DIMENSIONS_SUM
        and max(width, height) <= photo.MAX_ASPECT_RATIO * min(width, height)
    )


def test_a_small_jpeg_is_uploaded_unchanged(tmp_path):
    path = make_image(tmp_path / "a.jpg")
    info = photo.probe(path)
    assert info.fits_telegram
    assert photo.prepare_upload(path) == path.read_bytes()


def test_too_many_pixels_are_downscaled(tmp_path):
    path = make_image(tmp_path / "wide.jpg", size=(9000, 3000))
    info = photo.probe(path)
    assert not info.fits_telegram
    assert fits(photo.prepare_upload(path))


def test_extreme_aspect_ratio_is_padded(tmp_path):
    path = make_image(tmp_path / "strip.png", size=(3000, 100))
    info = photo.probe(path)
    assert not info.fits_telegram
    data = photo.prepare_upload(path)
    assert fits(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.width == 3000  # padded, not shrunk: nothing of the picture is lost


def test_more_than_ten_megabytes_is_recompressed(tmp_path):
    path = tmp_path / "noise.png"
    Image.frombytes("RGB", (2400, 2400), os.urandom(2400 * 2400 * 3)).save(path)
    info = photo.probe(path)
    assert info.size_bytes > photo.MAX_BYTES and not info.fits_telegram
    assert fits(photo.prepare_upload(path))


def test_other_formats_are_reencoded_as_jpeg(tmp_path):
    path = make_image(tmp_path / "old.bmp")
    info = photo.probe(path)
    assert info.format == "BMP" and not info.fits_telegram
    with Image.open(io.BytesIO(photo.prepare_upload(path))) as image:
        assert image.format == "JPEG"


def test_exif_orientation_is_applied_to_a_reencoded_image(tmp_path):
    path = tmp_path / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to show"
    Image.new("RGB", (9500, 800), (200, 0, 0)).save(path, exif=exif)  # too wide to fit
    with Image.open(io.BytesIO(photo.prepare_upload(path))) as image:
        assert image.height > image.width


def test_a_png_damaged_in_one_byte_is_an_image_error(tmp_path):
    path = make_image(tmp_path / "a.png")
    data = bytearray(path.read_bytes())
    data[11] = 5  # the IHDR chunk now claims 5 bytes: Pillow raises ValueError
    path.write_bytes(bytes(data))
    for read in (photo.probe, photo.verify, photo.prepare_upload):
        with pytest.raises(photo.ImageError, match="IHDR"):
            read(path)


def test_any_error_while_shrinking_is_an_image_error(tmp_path, monkeypatch):
    path = make_image(tmp_path / "old.bmp")  # a BMP is always re-encoded

    def damaged(*args, **kwargs):
        raise ValueError("tile cannot extend outside image")  # as a damaged GIF gives

    monkeypatch.setattr(Image.Image, "reduce", damaged)
    with pytest.raises(photo.ImageError, match="tile cannot extend outside image"):
        photo.prepare_upload(path)


def test_a_header_claiming_too_many_pixels_is_an_image_error(tmp_path):
    path = bomb_png(tmp_path / "bomb.png", 20_000, 20_000)
    with pytest.raises(photo.ImageError, match="too large"):
        photo.probe(path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_too_large_to_decode_here_is_refused_before_decoding(tmp_path, monkeypatch):
    path = bomb_png(tmp_path / "big.png", 12_000, 9_000, colour_type=2)  # RGB: 432 MB decoded

    def no_decoding(image):
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(photo.ImageError, match="too large to process"):
        photo.prepare_upload(path)


def test_images_are_prepared_one_at_a_time(tmp_path, monkeypatch):
    paths = [make_image(tmp_path / f"{n}.bmp") for n in range(4)]
    active, most, crowded = [0], [0], threading.Event()
    lock, real_load = threading.Lock(), ImageFile.ImageFile.load

    def counting_load(image):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
            if active[0] > 1:
                crowded.set()
        crowded.wait(0.3)  # a second decode, if allowed, starts while this one waits
        with lock:
            active[0] -= 1
        return real_load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    threads = [threading.Thread(target=photo.prepare_upload, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_a_huge_png_is_prepared_within_the_memory_budget(tmp_path):
    path = make_rgb_png(tmp_path / "rgb-81mp.png")
    figures = measure(path)  # in a fresh process that imports the whole bot
    assert figures["peak_mb"] < MEMORY_BUDGET_MB, figures
    assert figures["output_bytes"] <= photo.MAX_BYTES


def bomb_png(path, width, height, colour_type=0):
    """A PNG of a few hundred bytes whose header claims width x height pixels."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 256)) + chunk(b"IEND", b""))
    return path
