"""Uploaded photos: Telegram's checks on the image and the PhotoSizes it mints for it."""

from __future__ import annotations

import io
import secrets

from PIL import Image

from tests.fakebotapi.errors import ApiError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Telegram keeps a thumbnail, a medium size and the original (None: not scaled).
SIDES = (90, 320, None)


def mint_photo_sizes(data: bytes) -> list[dict]:
    """Check an uploaded photo like Telegram does; return its PhotoSizes, smallest first."""
    if len(data) > MAX_PHOTO_BYTES:
        raise ApiError(400, f"Bad Request: file of size {len(data)} bytes is too big for a "
                            f"photo; the maximum size is {MAX_PHOTO_BYTES} bytes")
    width, height = _image_size(data)
    return [_photo_size(width, height, side, len(data)) for side in SIDES]


def _valid_dimensions(width: int, height: int) -> bool:
    return width + height <= 10000 and max(width, height) <= 20 * min(width, height)


def _image_size(data: bytes) -> tuple[int, int]:
    try:
        with Image.open(io.BytesIO(data)) as image:
            size = image.size
            if _valid_dimensions(*size):
                image.load()  # decode fully: a truncated file must fail like on Telegram
    except Exception as exc:  # Pillow raises many exception types for unreadable input
        raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from exc
    if not _valid_dimensions(*size):
        raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    return size


def _photo_size(width: int, height: int, side: int | None, total_bytes: int) -> dict:
    scale = 1.0 if side is None else min(1.0, side / max(width, height))
    return {"file_id": "AgACAgIAAxkBAA" + secrets.token_urlsafe(50)[:66],
            "file_unique_id": "AQAD" + secrets.token_urlsafe(9)[:12],
            "file_size": max(1, round(total_bytes * scale * scale)),
            "width": max(1, round(width * scale)), "height": max(1, round(height * scale))}
