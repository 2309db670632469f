"""Fitting images inside Telegram's photo limits for upload."""

import io
import os

from PIL import Image

from cosmobot import photo
from tests.factories import make_image


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
    assert photo.upload_bytes(path, info) == path.read_bytes()


def test_too_many_pixels_are_downscaled(tmp_path):
    path = make_image(tmp_path / "wide.jpg", size=(9000, 3000))
    info = photo.probe(path)
    assert not info.fits_telegram
    assert fits(photo.upload_bytes(path, info))


def test_extreme_aspect_ratio_is_padded(tmp_path):
    path = make_image(tmp_path / "strip.png", size=(3000, 100))
    info = photo.probe(path)
    assert not info.fits_telegram
    data = photo.upload_bytes(path, info)
    assert fits(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.width == 3000  # padded, not shrunk: nothing of the picture is lost


def test_more_than_ten_megabytes_is_recompressed(tmp_path):
    path = tmp_path / "noise.png"
    Image.frombytes("RGB", (2400, 2400), os.urandom(2400 * 2400 * 3)).save(path)
    info = photo.probe(path)
    assert info.size_bytes > photo.MAX_BYTES and not info.fits_telegram
    assert fits(photo.upload_bytes(path, info))


def test_other_formats_are_reencoded_as_jpeg(tmp_path):
    path = make_image(tmp_path / "old.bmp")
    info = photo.probe(path)
    assert info.format == "BMP" and not info.fits_telegram
    with Image.open(io.BytesIO(photo.upload_bytes(path, info))) as image:
        assert image.format == "JPEG"
