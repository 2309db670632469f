"""Star clusters and star fields: a globular and an open cluster, Milky Way clouds, a double
star and a comet."""

from __future__ import annotations

import math

import numpy as np

from .medium import HA, extinction
from .noise import fbm, ridged, warped_fbm
from .numerics import F32, blur, grid, rgb, smoothstep
from .output import tonemap
from .sky import background_galaxies, foreground_stars, gaussian_blobs, milky_way_density
from .stars import positions_from_density, power_flux, render_stars, star_colour, star_field


def globular(rng, w, h):
    img = star_field(rng, w, h, 3000, fmin=0.03, fmax=5, alpha=1.5)
    background_galaxies(rng, img, 30)
    rc = 0.11 * w
    img += globular_members(rng, w, h, rc)
    X, Y = grid(w, h)
    rr = np.sqrt(X * X + Y * Y)
    img += (0.08 / (1 + (rr / rc) ** 2) ** 1.5)[..., None] * rgb(1.0, 0.88, 0.7)  # unresolved core
    img += foreground_stars(rng, w, h, 10)
    return tonemap(img, rng, stretch=10, sat=1.1)


def globular_members(rng, w, h, rc, n=120000):
    """Old cluster stars with core radius ``rc``: sun-like, a few red giants and blue stragglers."""
    # King-like radial distribution
    u = rng.random(n)
    r = rc * np.sqrt(u ** -1.1 - 1) * 0.9
    r = r[r < 0.7 * w]
    n = r.size
    t = rng.uniform(0, 2 * math.pi, n)
    xs = w / 2 + r * np.cos(t)
    ys = h / 2 + r * np.sin(t)
    flux = power_flux(rng, n, 0.05, 30, 1.7)
    temps = rng.normal(5000, 500, n)
    giants = flux > 4
    temps = np.where(giants, rng.uniform(3600, 4500, n), temps)
    temps = np.where(rng.random(n) < 0.01, rng.uniform(8000, 12000, n), temps)
    cols = 0.65 * star_colour(temps) + 0.35
    return render_stars(w, h, xs, ys, flux, cols, 0.8, 1.0, spikes=12, spike_len=0.7,
                        spike_angle=0.3)


def open_cluster(rng, w, h):
    band, clouds, _ = milky_way_density(rng, w, h, -0.3, 0.6)
    img = star_field(rng, w, h, 30000, density=0.3 + band * clouds, fmin=0.02, fmax=4, alpha=1.7,
                     glow=0.6)
    n = 320
    xs = w * 0.5 + rng.normal(0, 0.11 * w, n)
    ys = h * 0.5 + rng.normal(0, 0.13 * h, n)
    flux = power_flux(rng, n, 0.8, 150, 0.9)
    cols = 0.7 * star_colour(rng.uniform(9000, 25000, n)) + 0.3
    img += render_stars(w, h, xs, ys, flux, cols, 0.8, 1.5, spikes=12, spike_len=0.7,
                        spike_angle=0.12)
    # a couple of evolved orange giants among the blue stars
    orange = 0.7 * star_colour(np.array([3800, 4200])) + 0.3
    img += render_stars(w, h, w * np.array([0.43, 0.6]), h * np.array([0.58, 0.37]),
                        np.array([90.0, 60.0], F32), orange, 0.8, 1.5, spikes=2, spike_len=0.7,
                        spike_angle=0.12)
    X, Y = grid(w, h)
    neb = (np.exp(1.2 * fbm(rng, w, h, 0.25 * w, 8, 0.6))
           * np.exp(-((X / (0.3 * w)) ** 2 + (Y / (0.3 * h)) ** 2)))
    img += neb[..., None] * rgb(0.4, 0.55, 1.0) * 0.004
    return tonemap(img, rng, stretch=10, sat=1.15)


def milky_way(rng, w, h):
    band, clouds, across = milky_way_density(rng, w, h, -0.35, 0.35, clumpy=1.3)
    dens = 0.15 + band * clouds
    img = star_field(rng, w, h, 260000, density=dens, fmin=0.05, fmax=3, alpha=1.9, glow=0.4,
                     psf=0.7)
    img += star_field(rng, w, h, 6000, density=dens, fmin=0.3, fmax=40, alpha=1.4, spikes=0)
    img += (blur(dens, 4) * 0.03)[..., None] * rgb(1.0, 0.9, 0.78)
    lane = np.exp(-((across + 0.03) / 0.12) ** 2)
    dn = warped_fbm(rng, w, h, 0.2 * w, 9, 0.35, 0.62, aspect=2.5)
    tau = lane * 2.5 * smoothstep(-0.4, 1.4, dn) + 0.8 * smoothstep(1.0, 2.2, dn)
    img *= extinction(tau)
    # scattered pink emission knots
    xs, ys = positions_from_density(rng, band * clouds ** 2, 12)
    gaussian_blobs(img, xs, ys, rng.uniform(4, 14, 12), rng.uniform(0.01, 0.04, 12),
                   np.tile(HA, (12, 1)))
    return tonemap(img, rng, stretch=8, sat=1.15)


def galactic_center(rng, w, h):
    X, Y = grid(w, h, 0.55 * w, 0.5 * h)
    bulge = np.exp(-np.sqrt((X / (0.5 * w)) ** 2 + (Y / (0.3 * w)) ** 2) * 2.2)
    clouds = np.exp(1.0 * fbm(rng, w, h, 0.2 * w, 8, 0.55))
    dens = 0.1 + bulge * clouds
    img = star_field(rng, w, h, 320000, density=dens, fmin=0.02, fmax=3, alpha=1.9, glow=0.4,
                     hot=0.1, cool=0.45, psf=0.7)
    img += star_field(rng, w, h, 5000, density=dens, fmin=0.3, fmax=40, alpha=1.4, hot=0.1,
                      cool=0.5)
    img += (blur(dens, 4) * 0.08)[..., None] * rgb(1.0, 0.8, 0.6)
    dn = warped_fbm(rng, w, h, 0.18 * w, 9, 0.4, 0.62, aspect=1.8)
    veins = blur(ridged(fbm(rng, w, h, 0.12 * w, 8, 0.6), 5.0), 1.5)
    tau = 3.0 * smoothstep(0.0, 1.5, dn) + 1.2 * veins * smoothstep(-0.5, 0.5, dn)
    img *= extinction(tau)
    xs, ys = positions_from_density(rng, dens ** 2, 10)
    gaussian_blobs(img, xs, ys, rng.uniform(5, 15, 10), rng.uniform(0.02, 0.05, 10),
                   np.tile(HA, (10, 1)))
    return tonemap(img, rng, stretch=8, sat=1.1)


def double_star(rng, w, h):
    img = star_field(rng, w, h, 20000, fmin=0.02, fmax=6, alpha=1.6, glow=0.6)
    img += star_field(rng, w, h, 120, fmin=0.3, fmax=20, alpha=1.3, spikes=6, spike_angle=0.785,
                      spike_len=0.4)
    xs = np.array([0.47 * w, 0.56 * w])
    ys = np.array([0.52 * h, 0.44 * h])
    cols = np.array([[1.0, 0.72, 0.38], [0.55, 0.68, 1.0]], F32)
    img += render_stars(w, h, xs, ys, np.array([500.0, 200.0], F32), cols, 1.2, 3.0, spikes=2,
                        spike_len=0.3, spike_angle=0.785)
    X, Y = grid(w, h, xs[0], ys[0])
    img += (0.06 / (1 + (X * X + Y * Y) / 900.0))[..., None] * cols[0]
    X, Y = grid(w, h, xs[1], ys[1])
    img += (0.03 / (1 + (X * X + Y * Y) / 600.0))[..., None] * cols[1]
    return tonemap(img, rng, stretch=10, sat=1.3)


def comet(rng, w, h):
    img = star_field(rng, w, h, 25000, fmin=0.02, fmax=6, alpha=1.6, glow=0.6)
    img += star_field(rng, w, h, 200, fmin=0.3, fmax=25, alpha=1.3, spikes=0)
    X, Y = grid(w, h, 0.28 * w, 0.66 * h)
    # tails point away from the (off-frame) sun: up and to the right
    a = math.radians(-28)
    u = X * math.cos(a) + Y * math.sin(a)
    v = -X * math.sin(a) + Y * math.cos(a)
    uu = np.clip(u, 0, None) / w
    ion = np.exp(-uu / 0.45) * np.exp(-(v / (3 + 0.04 * np.clip(u, 0, None))) ** 2) * (u > 0)
    streaks = 1 + 0.6 * fbm(rng, w, h, 0.3 * w, 6, 0.6, aspect=8.0)
    img += (ion * streaks * 0.08)[..., None] * rgb(0.35, 0.6, 1.0)
    img += dust_tail(rng, w, h, X, Y)
    r2 = X * X + Y * Y
    img += (0.5 / (1 + r2 / 40.0) + 0.05 / (1 + r2 / 900.0))[..., None] * rgb(0.75, 1.0, 0.85)
    return tonemap(img, rng, stretch=10, sat=1.15)


def dust_tail(rng, w, h, X, Y):
    """The comet's broad dust tail, curving away from the straight ion tail."""
    a2 = math.radians(-12)
    u2 = X * math.cos(a2) + Y * math.sin(a2)
    v2 = -X * math.sin(a2) + Y * math.cos(a2) + 0.00025 * np.clip(u2, 0, None) ** 2
    dust = (np.exp(-np.clip(u2, 0, None) / (0.4 * w))
            * np.exp(-(v2 / (6 + 0.12 * np.clip(u2, 0, None))) ** 2) * (u2 > 0))
    dust *= 1 + 0.25 * fbm(rng, w, h, 0.1 * w, 6, 0.5, aspect=6.0)
    return (dust * 0.07)[..., None] * rgb(1.0, 0.88, 0.65)
