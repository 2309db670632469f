"""Array helpers shared by the renderers: resizing, gaussian blur, sampling, ramps, blending."""

from __future__ import annotations

import numpy as np
from PIL import Image

F32 = np.float32


def resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bicubic resize of a 2-D float array."""
    im = Image.fromarray(np.ascontiguousarray(a, dtype=F32), "F")
    return np.asarray(im.resize((w, h), Image.BICUBIC))


def _fast_len(n: int) -> int:
    """Smallest 5-smooth integer >= n (fast FFT size)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (FFT, reflect-padded) of a 2-D or HxWxC float array."""
    if sigma <= 0:
        return a
    return convolve_gauss(a, [(sigma, 1.0)])


def convolve_gauss(a: np.ndarray, kernels) -> np.ndarray:
    """Convolve with a sum of normalised gaussians [(sigma, weight), ...]."""
    if a.ndim == 3:
        return np.stack([convolve_gauss(a[:, :, c], kernels) for c in range(a.shape[2])], -1)
    smax = max(s for s, _ in kernels)
    pad = int(min(3 * smax + 2, min(a.shape) - 1))
    ph = _fast_len(a.shape[0] + 2 * pad) - a.shape[0] - pad
    pw = _fast_len(a.shape[1] + 2 * pad) - a.shape[1] - pad
    p = np.pad(a.astype(F32), [(pad, ph), (pad, pw)], mode="reflect")
    hh, ww = p.shape
    spec = np.fft.rfft2(p)
    fy = np.fft.fftfreq(hh).astype(F32)[:, None]
    fx = np.fft.rfftfreq(ww).astype(F32)[None, :]
    f2 = fx ** 2 + fy ** 2
    k = sum(wt * np.exp(-2 * np.pi ** 2 * s ** 2 * f2) for s, wt in kernels).astype(F32)
    out = np.fft.irfft2(spec * k, s=(hh, ww))
    return out[pad:pad + a.shape[0], pad:pad + a.shape[1]].astype(F32)


def sample(a, x, y):
    """Bilinear sample of 2-D array ``a`` at float pixel coords (edge clamped)."""
    h, w = a.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0 = x.astype(np.int32)
    y0 = y.astype(np.int32)
    fx = (x - x0).astype(F32)
    fy = (y - y0).astype(F32)
    a00 = a[y0, x0]
    a01 = a[y0, x0 + 1]
    a10 = a[y0 + 1, x0]
    a11 = a[y0 + 1, x0 + 1]
    return (a00 * (1 - fx) + a01 * fx) * (1 - fy) + (a10 * (1 - fx) + a11 * fx) * fy


def smoothstep(e0, e1, x):
    """Hermite ramp from 0 at ``e0`` to 1 at ``e1`` (either order)."""
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def grid(w, h, cx=None, cy=None):
    """Pixel offsets (X, Y) from (cx, cy), the frame centre by default."""
    cx = w / 2 if cx is None else cx
    cy = h / 2 if cy is None else cy
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    return xx - cx, yy - cy


def window(x, y, r, w, h):
    """Bounds (x0, x1, y0, y1) of the square of radius ``r`` around (x, y), clipped to the
    w x h frame, or None when none of it is inside."""
    x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
    y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, x1, y0, y1


def rgb(*c):
    """A colour (or any vector) as a float32 array."""
    return np.array(c, F32)


def lerp_palette(t, stops):
    """Map t in [0,1] through a list of (pos, (r,g,b)) stops -> HxWx3."""
    t = np.clip(t, 0, 1)
    pos = np.array([s[0] for s in stops], F32)
    cols = np.array([s[1] for s in stops], F32)
    out = np.empty(t.shape + (3,), F32)
    for c in range(3):
        out[..., c] = np.interp(t, pos, cols[:, c])
    return out


def over(base, top, alpha):
    """Alpha-blend ``top`` over ``base``."""
    return base * (1 - alpha) + top * alpha
