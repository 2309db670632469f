"""Gas and ice giants: banded, stormy, ringed, and one seen as a backlit crescent."""

from __future__ import annotations

import numpy as np

from .bodies import Rings, render_planet
from .noise import fbm
from .numerics import rgb, smoothstep
from .output import tonemap
from .sky import faint_sky
from .sphere import Sphere, body_matrix
from .stars import star_field
from .textures import TH, TW, gas_giant_texture, ring_profile

JUPITER = [(0.0, (0.55, 0.38, 0.25)), (0.3, (0.80, 0.62, 0.45)), (0.55, (0.93, 0.86, 0.74)),
           (0.75, (0.75, 0.55, 0.38)), (1.0, (0.98, 0.95, 0.88))]
SATURN = [(0.0, (0.70, 0.60, 0.42)), (0.4, (0.86, 0.77, 0.58)), (0.7, (0.93, 0.86, 0.68)),
          (1.0, (0.98, 0.93, 0.80))]
NEPTUNE = [(0.0, (0.12, 0.25, 0.65)), (0.5, (0.22, 0.42, 0.85)), (0.85, (0.40, 0.60, 0.95)),
           (1.0, (0.85, 0.92, 1.0))]
URANUS = [(0.0, (0.55, 0.78, 0.80)), (0.6, (0.65, 0.86, 0.88)), (1.0, (0.78, 0.93, 0.93))]


# (longitude, latitude, radius, swirl, strength) of each storm, angles in radians
JUPITER_STORMS = [(0.4, -0.38, 0.09, 2.5, 1.0), (-0.9, 0.55, 0.04, 2.0, 0.3)]


def banded_storm(rng, w, h):
    tex, storm = gas_giant_texture(rng, JUPITER, 20, 0.035, storms=JUPITER_STORMS)
    tex = tex * (1 - 0.4 * storm[..., None]) + storm[..., None] * rgb(0.75, 0.35, 0.2) * 0.4
    M = body_matrix(-8, 8, 0)
    alb = Sphere(w, h, 0.5 * w, 0.5 * h, 0.44 * h, M).tex(tex)
    img = render_planet(w, h, cx=0.5 * w, cy=0.5 * h, R=0.44 * h, M=M, albedo=alb,
                        L=(-0.55, 0.25, 0.8), limb=0.35, bg=faint_sky(rng, w, h),
                        atmo=rgb(0.5, 0.45, 0.4), atmo_w=0.01)
    return tonemap(img * 0.9, rng, stretch=2.0, sat=1.05, grain=0.004)


def ringed_dawn(rng, w, h):
    M = body_matrix(-18, 22, 0)
    tex, _ = gas_giant_texture(rng, SATURN, 14, 0.02, sharp=0.8, detail=0.06)
    cx, cy, R = 0.5 * w, 0.52 * h, 0.26 * h
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    px, pop = ring_profile(rng, gaps=((0.62, 0.025), (0.9, 0.008)))
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(0.75, 0.35, 0.45), limb=0.3,
                        rings=Rings(1.25, 2.35, px, pop, rgb(0.92, 0.84, 0.70)),
                        bg=faint_sky(rng, w, h, 1200))
    return tonemap(img, rng, stretch=2.0, sat=1.05, grain=0.004)


def ice_giant(rng, w, h):
    M = body_matrix(10, 15, 0)
    tex, storm = gas_giant_texture(rng, NEPTUNE, 10, 0.02, storms=[(0.3, -0.35, 0.07, 1.5, 1.0)],
                                   sharp=0.7, detail=0.05)
    tex = tex * (1 - 0.6 * storm[..., None])
    # bright high-altitude cirrus streaks
    cir = smoothstep(1.2, 2.2, fbm(rng, TW, TH, 60, 6, 0.5, aspect=8.0))
    tex = tex + cir[..., None] * rgb(0.9, 0.95, 1.0) * 0.7
    cx = cy = 0.5 * w
    R = 0.36 * w
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(-0.6, 0.3, 0.75), limb=0.6,
                        atmo=rgb(0.35, 0.55, 1.0), atmo_w=0.02, bg=faint_sky(rng, w, h, 1500))
    return tonemap(img, rng, stretch=2.0, sat=1.05, grain=0.004)


# (centre, width, opacity) of each narrow ring, in units of the ring system's span
NARROW_RINGS = ((0.1, 0.004, 0.5), (0.3, 0.003, 0.4), (0.45, 0.004, 0.5), (0.62, 0.003, 0.4),
                (0.95, 0.012, 0.8))


def tilted_ice_giant(rng, w, h):
    M = body_matrix(75, 25, 0)
    tex, _ = gas_giant_texture(rng, URANUS, 6, 0.01, sharp=0.5, detail=0.03)
    cx, cy, R = 0.5 * w, 0.5 * h, 0.25 * h
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    x = np.linspace(0, 1, 1024)
    pop = np.zeros_like(x)
    for c, wd, a in NARROW_RINGS:
        pop += a * np.exp(-((x - c) / wd) ** 2)
    pop += 0.05 * smoothstep(0, 0.2, x) * smoothstep(1, 0.9, x)
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(-0.3, 0.5, 0.8), limb=0.5,
                        atmo=rgb(0.5, 0.8, 0.85), atmo_w=0.02,
                        rings=Rings(1.6, 2.1, x, np.clip(pop, 0, 1), rgb(0.7, 0.72, 0.75)),
                        bg=faint_sky(rng, w, h, 2500))
    return tonemap(img, rng, stretch=2.5, sat=1.05, grain=0.004)


def crescent_giant(rng, w, h):
    M = body_matrix(20, 10, 0)
    tex, _ = gas_giant_texture(rng, SATURN, 16, 0.03, sharp=1.0)
    cx, cy, R = 0.62 * w, 0.62 * h, 0.7 * h
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(-0.75, 0.45, -0.48),
                        limb=0.2, atmo=rgb(1.0, 0.8, 0.55), atmo_w=0.008, crescent_glow=1.0,
                        bg=star_field(rng, w, h, 5000, fmin=0.03, fmax=10, alpha=1.5))
    return tonemap(img * 1.6, rng, stretch=3.0, sat=1.1, grain=0.004)
