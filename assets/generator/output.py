"""From linear light to a baseline JPEG whose size suits Telegram and the repository."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

from .numerics import F32

MIN_BYTES = 80 * 1024
MAX_BYTES = 600 * 1024
MIN_LONG_SIDE = 1000  # pixels, the collection's rule for the long side of every image


def tonemap(img, rng, stretch=6.0, exposure=1.0, black=0.0, gamma=1.0, sat=1.0, grain=0.006):
    """asinh-stretch linear HxWx3 light into 8-bit RGB, with soft highlights and film grain."""
    x = np.maximum(img * exposure - black, 0)
    lum = x.mean(-1, keepdims=True) + 1e-6
    m = np.arcsinh(lum * stretch) / math.asinh(stretch)
    y = x * (m / lum)
    if sat != 1.0:
        l2 = y.mean(-1, keepdims=True)
        y = l2 + (y - l2) * sat
    # roll highlights off towards white instead of hard per-channel clipping
    mx = y.max(-1, keepdims=True)
    over = np.clip(mx - 1.0, 0, None)
    y = y / np.maximum(mx, 1.0) + over / (1 + over)
    y = np.clip(y, 0, 1) ** (1.0 / gamma)
    if grain:
        y = y + rng.normal(0, grain, y.shape[:2])[:, :, None].astype(F32)
    return np.clip(y * 255 + 0.5, 0, 255).astype(np.uint8)


def save_jpeg(arr: np.ndarray, path: Path, quality: int = 90) -> tuple[int, int]:
    """Save 8-bit RGB, nudging the quality until the file lands inside the size limits.

    Returns (bytes written, quality used).
    """
    im = Image.fromarray(arr, "RGB")
    q = quality
    for _ in range(12):
        data = _encode(im, q)
        if len(data) > MAX_BYTES * 0.95 and q > 60:
            q -= 4
        elif len(data) < MIN_BYTES * 1.1 and q < 96:
            q += 2
        else:
            break
    path.write_bytes(data)
    return len(data), q


def _encode(im, q):
    buf = io.BytesIO()
    # at the top qualities 4:2:0 chroma would be the largest remaining loss
    im.save(buf, "JPEG", quality=q, optimize=True, subsampling=0 if q >= 93 else 2)
    return buf.getvalue()
