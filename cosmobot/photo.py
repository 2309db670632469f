"""Telegram's limits for photos, and fitting an image inside them for upload."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

MAX_BYTES = 10 * 1024 * 1024
MAX_DIMENSIONS_SUM = 10_000
MAX_ASPECT_RATIO = 20
# Formats Telegram shows as a photo; anything else Pillow can read is re-encoded as JPEG.
UPLOADABLE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
JPEG_QUALITIES = (90, 80, 70, 60)
PAD_COLOUR = (0, 0, 0)


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
    """Read an image's format and size from its header; raise OSError if it is not one."""
    size_bytes = path.stat().st_size
    if size_bytes == 0:
        raise OSError("empty file")
    with _open(path) as image:  # lazy: only the header is read here
        return Probe(image.format or "", image.width, image.height, size_bytes)


def verify(path: Path) -> Probe:
    """Decode the whole image, raising OSError if any of it is corrupt or truncated."""
    info = probe(path)
    with _open(path) as image:
        image.load()
    return info


def prepare_upload(path: Path) -> bytes:
    """Check that the whole file decodes, then return the bytes to upload for it."""
    return upload_bytes(path, verify(path))


def _open(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except Image.DecompressionBombError as error:
        # Pillow's guard (about 179 megapixels) keeps a huge file from exhausting memory.
        raise OSError(f"too large to process: {error}") from None


def upload_bytes(path: Path, info: Probe) -> bytes:
    """Return the bytes to upload: the file itself, or a re-encoding that fits the limits."""
    if info.fits_telegram:
        return path.read_bytes()
    with _open(path) as image:
        target = _fitted_size(image.width, image.height)
        image.draft("RGB", target)  # JPEG decodes straight to a smaller scale: much faster
        picture = ImageOps.exif_transpose(image).convert("RGB")
    picture = _pad_to_aspect_ratio(picture.resize(target, Image.Resampling.LANCZOS))
    return _encode_under_limit(picture)


def _fitted_size(width: int, height: int) -> tuple[int, int]:
    # Leave room for the padding that a too-narrow image may still need.
    limit = MAX_DIMENSIONS_SUM * 0.9
    scale = min(1.0, limit / (width + height))
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
