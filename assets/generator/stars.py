"""Point sources: stellar colours and brightnesses, PSF rendering, diffraction spikes."""

from __future__ import annotations

import math

import numpy as np

from .numerics import F32, convolve_gauss, window


def star_colour(temp):
    """Approximate sRGB-ish colour of a black body at ``temp`` kelvin (array)."""
    t = np.asarray(temp, F32) / 100.0
    r = np.where(t <= 66, 255.0, 329.7 * np.power(np.maximum(t - 60, 1e-3), -0.1332))
    g = np.where(t <= 66, 99.47 * np.log(np.maximum(t, 1e-3)) - 161.1,
                 288.1 * np.power(np.maximum(t - 60, 1e-3), -0.0755))
    b = np.where(t >= 66, 255.0,
                 np.where(t <= 19, 0.0, 138.5 * np.log(np.maximum(t - 10, 1e-3)) - 305.0))
    c = np.stack([r, g, b], -1).clip(0, 255) / 255.0
    c = c / c.max(-1, keepdims=True)
    return c.astype(F32)


def random_temps(rng, n, hot=0.25, cool=0.25):
    """Mix of stellar temperatures; ``hot``/``cool`` weight blue and red stars."""
    u = rng.random(n)
    t = rng.normal(5800, 900, n)
    t = np.where(u < hot, rng.uniform(7500, 16000, n), t)
    t = np.where(u > 1 - cool, rng.uniform(3000, 4600, n), t)
    return np.clip(t, 2800, 20000)


def power_flux(rng, n, fmin, fmax, alpha=1.35):
    """Power-law brightnesses: many faint stars, few bright ones, capped at ``fmax``."""
    u = rng.random(n)
    f = fmin * (1 - u) ** (-1.0 / alpha)
    return np.minimum(f, fmax).astype(F32)


def positions_from_density(rng, density, n):
    """``n`` random positions distributed like the 2-D ``density`` map."""
    h, w = density.shape
    p = np.maximum(density, 0).astype(np.float64).ravel()
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    idx = np.searchsorted(cdf, rng.random(n))
    idx = np.minimum(idx, p.size - 1)
    ys, xs = np.divmod(idx, w)
    return xs + rng.random(n), ys + rng.random(n)


def splat(acc, xs, ys, vals):
    """Bilinear-splat point sources into HxWx3 accumulator."""
    h, w = acc.shape[:2]
    xs = np.asarray(xs, np.float64) - 0.5
    ys = np.asarray(ys, np.float64) - 0.5
    x0 = np.floor(xs).astype(np.int64)
    y0 = np.floor(ys).astype(np.int64)
    fx = (xs - x0)[:, None]
    fy = (ys - y0)[:, None]
    flat = acc.reshape(-1, 3)
    corners = ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
               (0, 1, (1 - fx) * fy), (1, 1, fx * fy))
    for dx, dy, wt in corners:
        xi = x0 + dx
        yi = y0 + dy
        ok = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        np.add.at(flat, yi[ok] * w + xi[ok], (vals * wt)[ok])


def render_stars(w, h, xs, ys, flux, cols, psf=0.75, glow=1.0, spikes=0, spike_len=1.0,
                 spike_angle=0.0, spike_min=None):
    """Render point sources with a PSF core, soft halo and optional diffraction spikes."""
    acc = np.zeros((h, w, 3), F32)
    splat(acc, xs, ys, flux[:, None] * cols)
    ks = [(psf, 1.0)]
    if glow > 0:
        ks += [(1.8, 0.10 * glow), (4.0, 0.04 * glow), (14.0, 0.012 * glow)]
    img = convolve_gauss(acc, ks)
    if spikes:
        order = np.argsort(-flux)[:spikes]
        fmin = spike_min if spike_min is not None else 0
        for i in order:
            if flux[i] < fmin:
                continue
            add_spikes(img, xs[i], ys[i], flux[i], cols[i], spike_len, spike_angle)
    return img


def add_spikes(img, x, y, flux, col, length=1.0, angle=0.0, arms=4, width=0.9):
    """Add the diffraction spikes of one bright star to ``img`` in place."""
    h, w = img.shape[:2]
    L = length * 9.0 * math.sqrt(flux) + 6
    box = window(x, y, int(min(L * 2.2, 700)), w, h)
    if box is None:
        return
    x0, x1, y0, y1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
    dx = xx + 0.5 - x
    dy = yy + 0.5 - y
    acc = np.zeros(dx.shape, F32)
    for k in range(arms // 2):
        a = angle + math.pi * k / (arms // 2)
        ca, sa = math.cos(a), math.sin(a)
        along = dx * ca + dy * sa
        perp = -dx * sa + dy * ca
        acc += (np.exp(-np.abs(along) / (L * 0.35)) * np.exp(-(perp / width) ** 2)
                / (1 + (along / 3.0) ** 2) ** 0.25)
    # faint chromatic smear so spikes are not pure white
    img[y0:y1, x0:x1] += (acc * flux * 0.045)[:, :, None] * (0.6 * col + 0.4)


def star_field(rng, w, h, n, density=None, fmin=0.02, fmax=60, alpha=1.35, hot=0.25, cool=0.25,
               psf=0.75, glow=1.0, spikes=0, spike_len=1.0, spike_angle=0.0):
    """``n`` random stars, uniform or following ``density``, rendered to linear HxWx3."""
    if density is None:
        xs = rng.random(n) * w
        ys = rng.random(n) * h
    else:
        xs, ys = positions_from_density(rng, density, n)
    flux = power_flux(rng, n, fmin, fmax, alpha)
    cols = star_colour(random_temps(rng, n, hot, cool))
    cols = 0.75 * cols + 0.25  # stars look paler than pure black-body hues
    return render_stars(w, h, xs, ys, flux, cols, psf, glow, spikes, spike_len, spike_angle)
