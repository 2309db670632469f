"""What dying stars leave behind: planetary nebulae and supernova remnants."""

from __future__ import annotations

import math

import numpy as np

from .medium import extinction
from .noise import fbm, ridged, warped_fbm
from .numerics import F32, blur, grid, lerp_palette, rgb, smoothstep
from .output import tonemap
from .sky import elongated_blobs, sky
from .stars import render_stars, star_field


def helix(rng, w, h):
    X, Y = grid(w, h)
    n = fbm(rng, w, h, 0.15 * w, 7, 0.6)
    u = X / (0.30 * w)
    v = Y / (0.26 * w)
    r = np.sqrt(u * u + v * v) * (1 + 0.06 * n)
    clump = np.exp(0.5 * fbm(rng, w, h, 0.04 * w, 7, 0.6))
    inner = np.exp(-(r / 0.75) ** 2) * (0.7 + 0.3 * n)
    ring = np.exp(-((r - 1.0) / 0.22) ** 2) * clump
    ring2 = np.exp(-((r - 1.25) / 0.12) ** 2) * clump * 0.7
    halo = np.exp(-((r - 1.7) / 0.35) ** 2) * np.exp(0.6 * n) * 0.15
    img = sky(rng, w, h, 7000, 40)
    img += inner[:, :, None] * rgb(0.30, 0.75, 0.85) * 0.12
    img += (np.exp(-((r - 0.8) / 0.2) ** 2) * clump)[:, :, None] * rgb(0.9, 0.8, 0.5) * 0.06
    img += ring[:, :, None] * rgb(1.0, 0.35, 0.22) * 0.12
    img += ring2[:, :, None] * rgb(1.0, 0.25, 0.3) * 0.09
    img += halo[:, :, None] * rgb(1.0, 0.3, 0.3) * 0.1
    cometary_knots(rng, img, w, h)
    img += render_stars(w, h, np.array([w / 2]), np.array([h / 2]), np.array([40.0], F32),
                        np.array([[0.8, 0.9, 1.0]], F32), 0.8, 1.0)
    return tonemap(img, rng, stretch=10, sat=1.1)


def cometary_knots(rng, img, w, h, k=900):
    """Knots on the inner ring with tails pointing away from the central star."""
    th = rng.uniform(0, 2 * math.pi, k)
    rk = rng.normal(0.85, 0.08, k)
    xs = w / 2 + np.cos(th) * rk * 0.30 * w
    ys = h / 2 + np.sin(th) * rk * 0.26 * w
    ang = np.arctan2((ys - h / 2) / 0.26, (xs - w / 2) / 0.30)
    amps = rng.uniform(0.04, 0.2, k)
    cols = np.tile(rgb(1.0, 0.55, 0.4), (k, 1))
    elongated_blobs(img, xs, ys, ang, rng.uniform(3, 9, k), rng.uniform(0.8, 1.6, k), amps, cols)


def bipolar(rng, w, h):
    X, Y = grid(w, h)
    a = 0.35
    u = (X * math.cos(a) + Y * math.sin(a)) / (0.42 * w)
    v = (-X * math.sin(a) + Y * math.cos(a)) / (0.42 * w)
    n = fbm(rng, w, h, 0.08 * w, 7, 0.6)
    au = np.abs(u)
    prof = 0.30 * np.sqrt(np.maximum(0, 1 - (2 * au - 1) ** 2)) + 0.03  # round lobes
    d = np.abs(v) / prof
    lobe = smoothstep(1.25, 0.9, d + 0.15 * n) * (0.25 + 0.75 * smoothstep(0.4, 1.0, d)) \
        * smoothstep(1.05, 0.9, au + 0.05 * n)
    lobe *= np.exp(0.6 * fbm(rng, w, h, 0.05 * w, 7, 0.6))
    inner = np.exp(-(u * u + v * v) / 0.05) * (1 + 0.3 * n)
    img = sky(rng, w, h, 6000, 50)
    col = lerp_palette(au, [(0, (0.9, 0.9, 1.0)), (0.3, (0.45, 0.6, 1.0)),
                            (0.8, (1.0, 0.35, 0.3)), (1.0, (1.0, 0.2, 0.2))])
    img += (lobe * 0.07)[:, :, None] * col
    img += inner[:, :, None] * rgb(1.0, 0.9, 0.8) * 0.25
    # dusty torus pinching the waist
    torus = np.exp(-(u / 0.06) ** 2) * np.exp(-(v / 0.2) ** 2)
    img *= extinction(torus * 3.0 * np.exp(0.5 * n))
    img += render_stars(w, h, np.array([w / 2 + 1]), np.array([h / 2]), np.array([8.0], F32),
                        np.array([[0.9, 0.95, 1.0]], F32), 0.8, 1.0)
    return tonemap(img, rng, stretch=10, sat=1.15)


# (radius, colour, brightness) of each filament shell of the remnant
VEIL_SHELLS = [(0.80, rgb(0.25, 0.75, 1.0), 0.06), (0.78, rgb(1.0, 0.25, 0.3), 0.05),
               (0.86, rgb(0.3, 0.7, 1.0), 0.035), (0.72, rgb(1.0, 0.3, 0.35), 0.03)]


def veil(rng, w, h):
    X, Y = grid(w, h, 0.98 * w, 1.05 * h)
    rr = np.sqrt(X * X + Y * Y) / w + 0.25
    img = star_field(rng, w, h, 22000, fmin=0.03, fmax=8, alpha=1.5, spikes=3)
    for r0, col, amp in VEIL_SHELLS:
        n = warped_fbm(rng, w, h, 0.25 * w, 6, 0.3, 0.5)
        d = (rr - r0) / 0.04 + 1.2 * n
        fil = blur((1 - np.abs(np.sin(d * math.pi * 0.5))) ** 7, 0.8)
        fade = np.exp(0.8 * fbm(rng, w, h, 0.2 * w, 4, 0.5)) * np.exp(-((rr - r0) / 0.07) ** 2)
        img += (fil * fade * amp * 6)[:, :, None] * col
        img += (blur(fil * fade, 6) * amp * 1.5)[:, :, None] * col
    return tonemap(img, rng, stretch=12, sat=1.1)


def crab(rng, w, h):
    X, Y = grid(w, h)
    a = -0.5
    u = (X * math.cos(a) + Y * math.sin(a)) / (0.36 * w)
    v = (-X * math.sin(a) + Y * math.cos(a)) / (0.25 * w)
    n = fbm(rng, w, h, 0.2 * w, 5, 0.5)
    r = np.sqrt(u * u + v * v) * (1 + 0.12 * n)
    env = smoothstep(1.05, 0.7, r)
    sync = np.exp(-(r / 0.6) ** 2) * (1 + 0.25 * fbm(rng, w, h, 0.03 * w, 6, 0.6, aspect=3))
    img = sky(rng, w, h, 6000, 40)
    img += sync[:, :, None] * rgb(0.6, 0.75, 1.0) * 0.14
    hue = fbm(rng, w, h, 0.12 * w, 4, 0.5)
    col = lerp_palette(hue * 0.3 + 0.5, [(0, (1.0, 0.2, 0.15)), (0.5, (1.0, 0.45, 0.2)),
                                         (1.0, (0.9, 0.85, 0.45))])
    for sc, amp in ((0.15, 0.12), (0.07, 0.07)):
        f = blur(ridged(warped_fbm(rng, w, h, sc * w, 6, 0.2, 0.55), 5.0), 1.5)
        img += (f * env * (0.3 + 0.7 * smoothstep(0.3, 0.95, r)) * amp)[:, :, None] * col
    xs = np.array([w / 2 + 6, w / 2 - 12.0])
    ys = np.array([h / 2 - 4, h / 2 + 6.0])
    cols = np.array([[0.9, 0.95, 1.0], [1.0, 0.95, 0.85]], F32)
    img += render_stars(w, h, xs, ys, np.array([6.0, 5.0], F32), cols, 0.8, 1.0)
    return tonemap(img, rng, stretch=10, sat=1.1)
