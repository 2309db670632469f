"""Telegram's limits for photos, and fitting an image inside them for upload.

Whatever a file holds, the functions that read it raise ImageError (an OSError) and nothing
else: Pillow's plugins also raise ValueError, SyntaxError, struct.error and more on damaged
input, and a caller must be able to treat all of them as "one bad file".
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image

MAX_BYTES = 10 * 1024 * 1024
MAX_DIMENSIONS_SUM = 10_000
MAX_ASPECT_RATIO = 20
# Formats Telegram shows as a photo; anything else Pillow can read is re-encoded as JPEG.
UPLOADABLE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
JPEG_QUALITIES = (90, 80, 70, 60)
PAD_COLOUR = (0, 0, 0)
# A re-encoded image gets at most this many pixels. Telegram keeps no photo larger than
# 2560 on its long side, and the small copy must fit in memory beside the full decode.
MAX_REENCODED_PIXELS = 2560 * 2560
# The decode of one image may take this much memory (Pillow's own warning threshold, at four
# bytes a pixel): with it the whole bot stays under about 450 MB.
MAX_DECODED_BYTES = Image.MAX_IMAGE_PIXELS * 4
# Pixels converted to RGB at a time while shrinking: one band is about 4 MB.
BAND_PIXELS = 1 << 20
# The decoded pixels of one big image are the largest thing the bot ever holds: however many
# callers ask at once, one image is decoded at a time.
PREPARE_SLOTS = threading.BoundedSemaphore(1)
# What undoes each EXIF orientation (as in ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


class ImageError(OSError):
    """A file that cannot be used as an image, whatever was wrong with it."""


@dataclass(frozen=True)
class Probe:
    """What an image file's header says, read without decoding the pixels."""

    format: str
    width: int
    height: int
    size_bytes: int

    @property
    def fits_telegram(self) -> bool:
        """Whether the file can be uploaded as a photo exactly as it is."""
        long_side, short_side = max(self.width, self.height), min(self.width, self.height)
        return (
            self.format in UPLOADABLE_FORMATS
            and self.size_bytes <= MAX_BYTES
            and self.width + self.height <= MAX_DIMENSIONS_SUM
            and long_side <= MAX_ASPECT_RATIO * short_side
        )


def probe(path: Path) -> Probe:
    """Read an image's format and size from its header; raise ImageError if it is not one."""
    with _opened(path) as (image, file):  # lazy: only the header is read here
        return _probe_of(image, file)


def verify(path: Path) -> Probe:
    """Decode the image as an upload would; raise ImageError if any of it is unusable."""
    with PREPARE_SLOTS, _opened(path) as (image, file):
        info = _probe_of(image, file)
        _decode(image, info)
    return info


def prepare_upload(path: Path) -> bytes:
    """Decode the whole file once (that is the check), then return the bytes to upload."""
    with PREPARE_SLOTS:
        with _opened(path) as (image, file):
            picture = _decode(image, _probe_of(image, file))
            if picture is None:
                file.seek(0)  # the very bytes just verified, even if the file is replaced now
                return file.read()
        # The full decode is freed by now; only the small picture is left to encode.
        with _as_image_error():
            return _encode_under_limit(_pad_to_aspect_ratio(picture))


@contextmanager
def _opened(path: Path) -> Iterator[tuple[Image.Image, BinaryIO]]:
    with _as_image_error(), path.open("rb") as file, Image.open(file) as image:
        yield image, file


@contextmanager
def _as_image_error() -> Iterator[None]:
    try:
        yield
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        # Pillow's guard (about 179 megapixels) keeps a huge file from exhausting memory.
        raise ImageError(f"too large to process: {error}") from None
    except Image.UnidentifiedImageError:
        raise ImageError("not an image format Pillow can read, or a damaged one") from None
    except Exception as error:  # not BaseException: Ctrl+C and exits must still get through
        raise ImageError(_describe(error)) from error


def _describe(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror  # the file name is the caller's to say
    text = str(error)
    if isinstance(error, OSError):
        return text or "read error"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _probe_of(image: Image.Image, file: BinaryIO) -> Probe:
    size_bytes = os.fstat(file.fileno()).st_size
    if size_bytes == 0:
        raise ImageError("empty file")
    if image.width < 1 or image.height < 1:
        raise ImageError(f"it claims a size of {image.width}x{image.height} pixels")
    return Probe(image.format or "", image.width, image.height, size_bytes)


def _decode(image: Image.Image, info: Probe) -> Image.Image | None:
    """Decode every pixel; return the fitted RGB picture, or None if the file fits as it is."""
    if info.fits_telegram:
        _check_decoded_size(image)
        image.load()
        return None
    target = _fitted_size(image.width, image.height)
    image.draft("RGB", target)  # JPEG decodes straight to a smaller scale: much faster
    _check_decoded_size(image)
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    picture = _shrink(image, target)
    if orientation in _UPRIGHT:
        picture = picture.transpose(_UPRIGHT[orientation])
    return picture


def _check_decoded_size(image: Image.Image) -> None:
    decoded = image.width * image.height * _bytes_per_pixel(image.mode)
    if decoded > MAX_DECODED_BYTES:
        raise ImageError(f"too large to process: {image.width}x{image.height} pixels in mode "
                         f"{image.mode} take {decoded >> 20} MB to decode")


def _bytes_per_pixel(mode: str) -> int:
    # How Pillow stores a decoded pixel: three-band images take four bytes, like RGBA.
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def _shrink(image: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Shrink to target a band at a time, converting only each band (not the image) to RGB."""
    image.load()  # the one full decode; it raises on a damaged file
    factor = max(1, min(image.width // target[0], image.height // target[1]))
    rows = factor * max(1, BAND_PIXELS // (image.width * factor))
    reduced = Image.new("RGB", (-(-image.width // factor), -(-image.height // factor)))
    for top in range(0, image.height, rows):
        band = image.crop((0, top, image.width, min(top + rows, image.height)))
        reduced.paste(_rgb(band).reduce(factor), (0, top // factor))
    image.close()  # free the full decode before the final resize needs memory of its own
    if reduced.size == target:
        return reduced
    return reduced.resize(target, Image.Resampling.LANCZOS)


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def _fitted_size(width: int, height: int) -> tuple[int, int]:
    # Leave room for the padding that a too-narrow image may still need.
    limit = MAX_DIMENSIONS_SUM * 0.9
    scale = min(1.0, limit / (width + height), (MAX_REENCODED_PIXELS / (width * height)) ** 0.5)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _pad_to_aspect_ratio(picture: Image.Image) -> Image.Image:
    width, height = picture.size
    long_side = max(width, height)
    short_needed = -(-long_side // MAX_ASPECT_RATIO)
    if min(width, height) >= short_needed:
        return picture
    size = (width, short_needed) if width >= height else (short_needed, height)
    canvas = Image.new("RGB", size, PAD_COLOUR)
    canvas.paste(picture, ((size[0] - width) // 2, (size[1] - height) // 2))
    return canvas


def _encode_under_limit(picture: Image.Image) -> bytes:
    while True:
        for quality in JPEG_QUALITIES:
            buffer = io.BytesIO()
            picture.save(buffer, "JPEG", quality=quality, optimize=True)
            if buffer.tell() <= MAX_BYTES:
                return buffer.getvalue()
        picture = picture.resize((max(1, picture.width // 2), max(1, picture.height // 2)))
