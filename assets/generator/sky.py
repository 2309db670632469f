"""Small extended sources (knots, distant galaxies) and the backdrops built from them."""

from __future__ import annotations

import math

import numpy as np

from .noise import fbm
from .numerics import F32, grid, rgb, window
from .stars import star_field


def gaussian_blobs(img, xs, ys, sig, amps, cols):
    """Add small 2-D gaussian blobs (HII knots, small clusters)."""
    h, w = img.shape[:2]
    for x, y, s, a, c in zip(xs, ys, sig, amps, cols):
        box = window(x, y, int(s * 3.5) + 2, w, h)
        if box is None:
            continue
        x0, x1, y0, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
        g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s)) * a
        img[y0:y1, x0:x1] += g[:, :, None] * c


def elongated_blobs(img, xs, ys, ang, length, width, amps, cols):
    """Add knots with exponential tails pointing along ``ang`` (cometary knots)."""
    h, w = img.shape[:2]
    for x, y, a, L, s, amp, c in zip(xs, ys, ang, length, width, amps, cols):
        box = window(x, y, int(L * 3 + s * 3) + 2, w, h)
        if box is None:
            continue
        x0, x1, y0, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
        dx, dy = xx - x, yy - y
        al = dx * math.cos(a) + dy * math.sin(a)
        pe = -dx * math.sin(a) + dy * math.cos(a)
        tail = np.where(al > 0, np.exp(-al / L), np.exp(-(al / s) ** 2))
        g = tail * np.exp(-(pe / s) ** 2) * amp
        img[y0:y1, x0:x1] += g[:, :, None] * c


def background_galaxies(rng, img, n, size=(2.0, 9.0), bright=(0.02, 0.25)):
    """Small distant galaxies: reddish ellipticals and bluish edge-on/face-on disks."""
    h, w = img.shape[:2]
    for _ in range(n):
        x, y = rng.random() * w, rng.random() * h
        s = size[0] * (size[1] / size[0]) ** (rng.random() ** 1.8)
        a = bright[0] * (bright[1] / bright[0]) ** rng.random()
        q = rng.uniform(0.25, 1.0)
        pa = rng.uniform(0, math.pi)
        elliptical = rng.random() < 0.45
        box = window(x, y, int(s * 6) + 2, w, h)
        if box is None:
            continue  # off the frame; skipping its colour draw is part of the seeded sequence
        x0, x1, y0, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
        dx, dy = xx - x, yy - y
        u = dx * math.cos(pa) + dy * math.sin(pa)
        v = (-dx * math.sin(pa) + dy * math.cos(pa)) / q
        prof, col = _distant_galaxy(rng, np.sqrt(u * u + v * v) / s, elliptical)
        img[y0:y1, x0:x1] += (prof * a)[:, :, None] * col


def _distant_galaxy(rng, rr, elliptical):
    """Profile and colour of one distant galaxy at scaled radius ``rr``."""
    if elliptical:
        return np.exp(-3.0 * (rr ** 0.5)), rgb(1.0, 0.78, 0.55) * rng.uniform(0.8, 1.1)
    prof = np.exp(-1.8 * rr) + 0.8 * np.exp(-(rr / 0.25) ** 2)
    return prof, rgb(0.75, 0.82, 1.0) * rng.uniform(0.8, 1.1)


def sky(rng, w, h, n=5000, galaxies=60, fmax=20):
    """Sparse background sky: faint stars and a sprinkling of distant galaxies."""
    img = star_field(rng, w, h, n, fmin=0.03, fmax=fmax, alpha=1.45, spikes=3, spike_angle=0.0)
    if galaxies:
        background_galaxies(rng, img, galaxies)
    return img


def faint_sky(rng, w, h, n=1500):
    """Dim stars only, behind planets and moons that would outshine anything more."""
    return star_field(rng, w, h, n, fmin=0.02, fmax=4, alpha=1.6, glow=0.4)


def galaxy_scene(rng, w, h, bg_stars=4000, galaxies=80):
    """Deep-sky backdrop for galaxies: faint stars and many distant galaxies."""
    img = star_field(rng, w, h, bg_stars, fmin=0.02, fmax=3, alpha=1.6, glow=0.5)
    background_galaxies(rng, img, galaxies)
    return img


def foreground_stars(rng, w, h, n=40, fmax=60):
    """A few bright Milky Way stars with spikes, in front of everything."""
    return star_field(rng, w, h, n, fmin=0.2, fmax=fmax, alpha=1.2, spikes=5, spike_len=0.8)


def milky_way_density(rng, w, h, band_angle=0.25, band_width=0.35, offset=0.0, clumpy=1.0):
    """The galactic band across the frame: (band profile, cloud texture, distance across)."""
    X, Y = grid(w, h)
    ca, sa = math.cos(band_angle), math.sin(band_angle)
    across = (-X * sa + Y * ca) / h - offset
    band = np.exp(-(across / band_width) ** 2)
    clouds = np.exp(clumpy * fbm(rng, w, h, 0.3 * w, 8, 0.55))
    return band, clouds, across
