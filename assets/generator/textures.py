"""Equirectangular surface textures: gas-giant bands and storms, ring profiles, rock."""

from __future__ import annotations

import math

import numpy as np

from .noise import fbm, warped_fbm
from .numerics import F32, lerp_palette, smoothstep

TW, TH = 2048, 1024  # texture size: longitude x latitude


def band_profile(rng, n_bands=18, sharp=1.0):
    """1-D random banding as a function of latitude in [-pi/2, pi/2]."""
    lat = np.linspace(-math.pi / 2, math.pi / 2, 2048)
    v = np.zeros_like(lat)
    for k, amp in ((n_bands * 0.5, 1.0), (n_bands, 0.6), (n_bands * 2.2, 0.3), (n_bands * 5, 0.12)):
        g = rng.standard_normal(int(k) + 3)
        v += amp * np.interp(np.linspace(0, len(g) - 1, lat.size), np.arange(len(g)), g)
    v = np.tanh(v * sharp)
    v = (v - v.min()) / (v.max() - v.min())
    return lat, v


def gas_giant_texture(rng, palette, n_bands=18, turb=0.035, storms=(), sharp=1.2, detail=0.12):
    """Banded cloud colours plus a map of where the storms are.

    ``storms`` holds (longitude, latitude, radius, swirl, strength), angles in radians.
    """
    lat_p, prof = band_profile(rng, n_bands, sharp)
    lon = np.linspace(-math.pi, math.pi, TW, dtype=F32)[None, :]
    lat = np.linspace(math.pi / 2, -math.pi / 2, TH, dtype=F32)[:, None]
    lon = np.broadcast_to(lon, (TH, TW))
    lat = np.broadcast_to(lat, (TH, TW))
    n = warped_fbm(rng, TW, TH, TH / 5, 8, 0.3, 0.55, aspect=3.0)
    # turbulence is strongest where neighbouring bands shear past each other
    shear = np.interp(lat, lat_p, np.gradient(prof)) * 400
    latw = lat + turb * n * (0.4 + np.abs(shear).clip(0, 1.5))
    latw, storm_map = swirl_storms(lon, latw, storms)
    t = np.interp(latw, lat_p, prof)
    col = lerp_palette(t, palette)
    fine = fbm(rng, TW, TH, TH / 30, 6, 0.6, aspect=5.0)
    col *= (1 + detail * fine)[:, :, None]
    return col.astype(F32), storm_map


def swirl_storms(lon, latw, storms):
    """Twist the (warped) latitude field around each storm; also return storm coverage."""
    storm_map = np.zeros(lon.shape, F32)
    for lo0, la0, rs, swirl, strength in storms:
        dx = np.angle(np.exp(1j * (lon - lo0))) * math.cos(la0)
        dy = latw - la0
        d2 = (dx / (rs * 1.7)) ** 2 + (dy / rs) ** 2
        ang = swirl * np.exp(-d2 * 1.5)
        ry = dx * np.sin(ang) / 1.7 + dy * np.cos(ang)
        latw = np.where(d2 < 6, la0 + ry, latw)
        storm_map += strength * np.exp(-d2 * 2.0)
    return latw, storm_map


def ring_profile(rng, n=1024, gaps=((0.62, 0.03),), base=0.7):
    """Opacity across a ring system (0 = inner edge, 1 = outer) with gaps at (centre, width)."""
    x = np.linspace(0, 1, n)
    v = np.zeros(n)
    for k, amp in ((8, 0.5), (30, 0.3), (120, 0.25), (400, 0.15)):
        g = rng.standard_normal(k + 2)
        v += amp * np.interp(np.linspace(0, k + 1, n), np.arange(k + 2), g)
    op = np.clip(base + 0.35 * v, 0.02, 1.0)
    for c, wd in gaps:
        op *= 1 - 0.92 * np.exp(-((x - c) / wd) ** 2)
    op *= smoothstep(0, 0.04, x) * smoothstep(1, 0.9, x)
    return x, op


def surface_tex(rng, palette, scale=200, contrast=1.0, pers=0.6):
    """Mottled rocky albedo through ``palette``; also returns the underlying noise."""
    n = fbm(rng, TW, TH, scale, 9, pers)
    return lerp_palette(0.5 + 0.25 * contrast * n, palette), n


def latitude_deg():
    """Latitude in degrees of every texel, +90 at the top row."""
    return np.linspace(90, -90, TH)[:, None] * np.ones((1, TW))
