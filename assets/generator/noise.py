"""Value-noise fields: fractal (fBm), domain-warped and ridged."""

from __future__ import annotations

import numpy as np

from .numerics import F32, resize, sample


def fbm(rng, w, h, scale, octaves=6, persistence=0.5, lacunarity=2.0, aspect=1.0):
    """Fractal (value-noise) field, zero mean, unit std.

    ``scale`` is the size in pixels of the coarsest features; ``aspect`` > 1
    stretches features horizontally.
    """
    total = np.zeros((h, w), F32)
    amp = 1.0
    freq = 1.0
    for _ in range(octaves):
        cx = scale * aspect / freq
        cy = scale / freq
        if cy < 1.5:
            break
        gw = int(w / cx) + 4
        gh = int(h / cy) + 4
        g = rng.standard_normal((gh, gw)).astype(F32)
        # resize a slightly larger grid and crop so edges are not special
        big = resize(g, int(gw * cx), int(gh * cy))
        oy = int(rng.integers(0, max(1, big.shape[0] - h)))
        ox = int(rng.integers(0, max(1, big.shape[1] - w)))
        total += amp * big[oy:oy + h, ox:ox + w]
        amp *= persistence
        freq *= lacunarity
    total -= total.mean()
    total /= total.std() + 1e-6
    return total


def warped_fbm(rng, w, h, scale, octaves=6, warp=0.5, persistence=0.5, aspect=1.0):
    """Domain-warped fBm: wispy, flowing structure."""
    pad = int(scale * warp * 4) + 4
    base = fbm(rng, w + 2 * pad, h + 2 * pad, scale, octaves, persistence, aspect=aspect)
    wx = fbm(rng, w, h, scale * 1.3, 3, 0.45)
    wy = fbm(rng, w, h, scale * 1.3, 3, 0.45)
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    out = sample(base, xx + pad + wx * scale * warp, yy + pad + wy * scale * warp)
    out -= out.mean()
    out /= out.std() + 1e-6
    return out


def ridged(n, sharp=4.0):
    """Turn a zero-mean field into bright thin ridges along its zero crossings."""
    return (1.0 - np.clip(np.abs(n), 0, 1)) ** sharp
