"""From a packaged texture to a finished photograph: tiles, crop, levels, size, JPEG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .numerics import F32
from .output import MIN_LONG_SIDE, save_jpeg

MAX_LONG_SIDE = 1600   # larger sources are reduced: more pixels would only cost bytes
TILE = 512             # Stellarium splits its largest pictures into tiles of this size


def load_rgb(path: Path) -> Image.Image:
    """The picture at ``path`` in RGB; transparent parts become black sky."""
    with Image.open(path) as im:
        im.load()
        if im.mode in ("RGB", "L"):
            return im.convert("RGB")
        rgba = im.convert("RGBA")
    sky = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
    sky.alpha_composite(rgba)
    return sky.convert("RGB")


def mosaic(paths: list[list[Path | None]]) -> Image.Image:
    """Tiles laid out row by row (top row first); ``None`` leaves a tile of black sky."""
    rows, cols = len(paths), len(paths[0])
    canvas = Image.new("RGB", (cols * TILE, rows * TILE))
    for r, row in enumerate(paths):
        for c, path in enumerate(row):
            if path is not None:
                canvas.paste(load_rgb(path).resize((TILE, TILE), Image.LANCZOS),
                             (c * TILE, r * TILE))
    return canvas


def set_levels(im: Image.Image, low: float, high: float, gamma: float) -> Image.Image:
    """Stretch the brightness between two percentiles of luminance to full range.

    Dark sources keep their sky black at the ``low`` percentile and their brightest
    ``100 - high`` per cent clipped to white; ``gamma`` > 1 lifts faint nebulosity.
    """
    a = np.asarray(im).astype(F32) / 255.0
    lum = a.mean(-1)
    black, white = np.percentile(lum, [low, high])
    a = np.clip((a - black) / max(float(white - black), 1e-3), 0.0, 1.0) ** (1.0 / gamma)
    return Image.fromarray((a * 255 + 0.5).astype(np.uint8), "RGB")


def fit_size(im: Image.Image) -> Image.Image:
    """Scale with Lanczos so the long side lies within MIN_LONG_SIDE..MAX_LONG_SIDE.

    A crop below the collection's minimum is enlarged to it, never further.
    """
    long_side = max(im.size)
    target = min(max(long_side, MIN_LONG_SIDE), MAX_LONG_SIDE)
    if target == long_side:
        return im
    scale = target / long_side
    return im.resize((round(im.size[0] * scale), round(im.size[1] * scale)), Image.LANCZOS)


def finish(im: Image.Image, crop, levels, out: Path) -> tuple[int, int, tuple[int, int]]:
    """Crop, set levels, fit the size and save; returns (bytes, JPEG quality, size)."""
    if crop:
        im = im.crop(crop)
    if levels:
        im = set_levels(im, *levels)
    im = fit_size(im)
    n, q = save_jpeg(np.asarray(im), out, 90)
    return n, q, im.size
