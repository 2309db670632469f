"""Galaxy scenes: spirals, ellipticals, edge-on disks, a ring, a pair and a lensing cluster."""

from __future__ import annotations

import math

import numpy as np

from .galaxy_light import (BULGE, HII, OLD, Spiral, elliptical_light, globular_swarm, sersic,
                           spiral_galaxy)
from .medium import extinction
from .noise import fbm
from .numerics import F32, blur, grid, rgb, smoothstep
from .output import tonemap
from .sky import foreground_stars, galaxy_scene, gaussian_blobs
from .stars import positions_from_density, star_field


def grand_design(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, Spiral(cx=0.5 * w, cy=0.5 * h, R=0.42 * h * 1.3, incl=25,
                                           pa=0.4, arms=2, pitch=17, armsharp=3.0, hii=500,
                                           dust=1.0))
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.15)


def tilted(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, Spiral(cx=0.5 * w, cy=0.5 * h, R=0.55 * w, incl=68, pa=-0.45,
                                           arms=2, pitch=12, armsharp=2.0, arm_warp=0.9, hii=350,
                                           dust=1.5, bulge=1.4, bulge_re=0.07))
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


def barred(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, Spiral(cx=0.5 * w, cy=0.5 * h, R=0.42 * h, incl=35, pa=1.2,
                                           arms=2, pitch=20, bar=3.0, bar_len=0.32, armsharp=2.5,
                                           hii=400, bulge=0.8, bulge_re=0.05, dust=1.3))
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.15)


def flocculent(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, Spiral(cx=0.5 * w, cy=0.5 * h, R=0.5 * h * 1.2, incl=45,
                                           pa=2.4, arms=4, pitch=24, flocc=0.35, arm_warp=1.5,
                                           armsharp=2.0, hii=700, bulge=0.7, bulge_re=0.06,
                                           dust=1.4, young=1.2))
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


def giant_elliptical(rng, w, h):
    img = galaxy_scene(rng, w, h, galaxies=160)
    img += elliptical_light(w, h, 0.5 * w, 0.5 * h, 0.12 * h, 0.78, 0.3, 4.0, 0.25)
    img += elliptical_light(w, h, 0.78 * w, 0.3 * h, 0.03 * h, 0.6, 1.1, 3.0, 0.08)
    img += elliptical_light(w, h, 0.22 * w, 0.72 * h, 0.02 * h, 0.8, 0.2, 2.5, 0.06)
    img += globular_swarm(rng, w, h, 0.5 * w, 0.5 * h, 1400, 0.06 * h, 1.0)
    img += foreground_stars(rng, w, h, 25)
    return tonemap(img, rng, stretch=40, sat=1.05)


def dusty_elliptical(rng, w, h):
    img = galaxy_scene(rng, w, h, bg_stars=9000, galaxies=40)
    img += star_field(rng, w, h, 400, fmin=0.2, fmax=30, alpha=1.3, spikes=6)
    img += elliptical_light(w, h, 0.5 * w, 0.5 * h, 0.14 * h, 0.9, 0.0, 3.5, 0.22)
    X, Y = grid(w, h)
    a = -0.6
    u = (X * math.cos(a) + Y * math.sin(a)) / h
    v = (-X * math.sin(a) + Y * math.cos(a)) / h
    warp = 0.05 * np.tanh(u / 0.15) - 0.03 * u
    n = fbm(rng, w, h, 0.05 * w, 7, 0.62)
    lane = (np.exp(-((v - warp) / (0.055 + 0.02 * np.abs(u) / 0.3)) ** 2)
            * smoothstep(0.42, 0.2, np.abs(u)))
    tau = lane * 3.0 * np.exp(0.6 * n) * (0.75 + 0.25 * np.cos(u * 25 + 0.5 * n))
    young = lane * smoothstep(0.5, 1.5, n) * 0.02
    img = img * extinction(tau)
    img += young[:, :, None] * rgb(1.0, 0.45, 0.6)
    return tonemap(img, rng, stretch=35, sat=1.15)


def edge_on(rng, w, h):
    img = galaxy_scene(rng, w, h)
    X, Y = grid(w, h)
    a = 0.12
    u = (X * math.cos(a) + Y * math.sin(a)) / w
    z = (-X * math.sin(a) + Y * math.cos(a)) / w
    n = fbm(rng, w, h, 0.06 * w, 7, 0.6, aspect=3)
    disk = np.exp(-np.abs(u) / 0.13) / np.cosh(z / 0.018) ** 2
    thick = np.exp(-np.abs(u) / 0.15) / np.cosh(z / 0.05) ** 2 * 0.35
    bulge = sersic(np.sqrt(u ** 2 + (z / 0.7) ** 2), 0.04, 2.0) * 0.3
    light = (disk[:, :, None] * rgb(0.85, 0.85, 0.95) + thick[:, :, None] * OLD
             + bulge[:, :, None] * BULGE)
    lane = (np.exp(-((z - 0.003) / 0.009) ** 2) * np.exp(-np.abs(u) / 0.2)
            * smoothstep(0.45, 0.3, np.abs(u)))
    tau = (lane * 5.0 * (0.55 + 0.45 * np.exp(0.5 * n))
           + 0.8 * smoothstep(1.0, 2.0, n) * np.exp(-(z / 0.02) ** 2) * disk ** 0.2)
    img += light * 0.3 * extinction(tau)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=40, sat=1.1)


def sombrero(rng, w, h):
    img = galaxy_scene(rng, w, h)
    X, Y = grid(w, h)
    a = -0.1
    u = (X * math.cos(a) + Y * math.sin(a)) / (1.25 * w)
    v = (-X * math.sin(a) + Y * math.cos(a)) / (1.25 * w)
    ci = 0.14
    yp = v / ci
    r = np.sqrt(u * u + yp * yp)
    n = fbm(rng, w, h, 0.04 * w, 7, 0.6, aspect=4)
    bulge = sersic(np.sqrt(u * u + (v / 0.62) ** 2), 0.07, 4.0) * 0.25
    disk = np.exp(-r / 0.12) * smoothstep(0.42, 0.3, r) * 0.6
    ring = np.exp(-((r - 0.26) / 0.05) ** 2) * np.exp(0.5 * n)
    light = (bulge[:, :, None] * rgb(1.0, 0.84, 0.66) + disk[:, :, None] * OLD
             + (ring * 0.15)[:, :, None] * rgb(1.0, 0.9, 0.8))
    near = smoothstep(-0.002, 0.004, v)
    tau = ring * 3.5 * (0.75 + 0.25 * smoothstep(-1, 1, n))
    img += light * 0.3 * extinction(tau * (0.1 + 0.9 * near))
    img += globular_swarm(rng, w, h, 0.5 * w, 0.5 * h, 700, 0.05 * w, 0.8)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


def ring_galaxy(rng, w, h):
    img = galaxy_scene(rng, w, h, galaxies=120)
    X, Y = grid(w, h)
    r = np.sqrt(X ** 2 + (Y / 0.92) ** 2) / w
    n = fbm(rng, w, h, 0.03 * w, 7, 0.62)
    core = sersic(r, 0.035, 3.0) * 0.6
    ring = np.exp(-((r - 0.24) / 0.035) ** 2) * np.exp(0.7 * n)
    img += core[:, :, None] * rgb(1.0, 0.8, 0.55) * 0.1
    img += ring[:, :, None] * rgb(0.65, 0.78, 1.0) * 0.04
    dens = ring ** 3
    xs, ys = positions_from_density(rng, dens, 250)
    gaussian_blobs(img, xs, ys, rng.uniform(1.0, 2.5, 250), rng.uniform(0.002, 0.03, 250),
                   np.where(rng.random(250)[:, None] < 0.4, HII, rgb(0.8, 0.88, 1.0)))
    img += foreground_stars(rng, w, h, 20)
    return tonemap(img, rng, stretch=40, sat=1.15)


def interacting(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, Spiral(cx=0.38 * w, cy=0.55 * h, R=0.3 * w, incl=30, pa=0.2,
                                           arms=2, pitch=20, armsharp=2.0, arm_warp=1.2, hii=300,
                                           dust=1.0, rd=0.35))
    img += spiral_galaxy(rng, w, h, Spiral(cx=0.72 * w, cy=0.36 * h, R=0.12 * w, incl=55, pa=1.0,
                                           arms=2, pitch=25, armsharp=1.5, arm_warp=1.5, hii=80,
                                           bulge=1.5, dust=1.2))
    img += tidal_tail(rng, w, h)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


def tidal_tail(rng, w, h):
    """Faint stream of stars curling away from the interacting pair."""
    t = np.linspace(0, 1, 400)
    px = (0.38 + 0.5 * t - 0.1 * t ** 2) * w
    py = (0.55 + 0.35 * np.sin(t * 2.6)) * h
    acc = np.zeros((h, w), F32)
    for x, y, tt in zip(px, py, t):
        ix, iy = int(x), int(y)
        if 0 <= ix < w and 0 <= iy < h:
            acc[iy, ix] += (1 - tt) ** 1.5
    tail = blur(acc, 18) * 30 * np.exp(0.5 * fbm(rng, w, h, 0.05 * w, 6, 0.6))
    return tail[:, :, None] * rgb(0.7, 0.8, 1.0) * 0.02


def cluster_lensing(rng, w, h):
    img = galaxy_scene(rng, w, h, bg_stars=1500, galaxies=350)
    cx, cy = 0.5 * w, 0.5 * h
    img += elliptical_light(w, h, cx, cy, 0.06 * h, 0.75, 0.5, 4.0, 0.2)
    for _ in range(28):
        r = abs(rng.normal(0, 0.22)) * w
        t = rng.uniform(0, 2 * math.pi)
        img += elliptical_light(w, h, cx + r * math.cos(t), cy + r * math.sin(t) * 0.7,
                                rng.uniform(0.006, 0.02) * h, rng.uniform(0.5, 1.0),
                                rng.uniform(0, 3.1), rng.uniform(2.5, 4.0), rng.uniform(0.05, 0.2))
    knots = np.exp(0.8 * fbm(rng, w, h, 0.01 * w, 4, 0.6))
    img += (lensed_arcs(w, h, cx, cy) * knots * 0.15)[:, :, None] * rgb(0.55, 0.7, 1.0)
    img += foreground_stars(rng, w, h, 15)
    return tonemap(img, rng, stretch=40, sat=1.15)


# (radius / h, angle, angular half-width, thickness in px) of each lensed arc
LENSED_ARCS = ((0.2, 0.6, 0.5, 2.0), (0.2, 3.7, 0.3, 1.6), (0.28, 2.2, 0.25, 2.4),
               (0.15, 5.1, 0.35, 1.4))


def lensed_arcs(w, h, cx, cy):
    """Strongly lensed background galaxies: thin arcs tangential to the cluster centre."""
    X, Y = grid(w, h, cx, cy)
    rr = np.sqrt(X * X + (Y / 0.85) ** 2)
    th = np.arctan2(Y / 0.85, X)
    arcs = np.zeros((h, w), F32)
    for r0, t0, span, wd in LENSED_ARCS:
        dth = np.angle(np.exp(1j * (th - t0)))
        arcs += np.exp(-((rr - r0 * h) / wd) ** 2) * np.exp(-(dth / span) ** 2)
    return arcs
