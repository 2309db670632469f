"""Rocky and icy worlds: cratered moons, an icy moon, a volcanic moon, ocean and desert planets."""

from __future__ import annotations

import numpy as np

from .bodies import render_planet, rocky_body
from .noise import fbm, ridged
from .numerics import F32, lerp_palette, rgb, smoothstep
from .output import tonemap
from .sky import faint_sky
from .sphere import Sphere, body_matrix
from .stars import star_field
from .textures import TH, TW, latitude_deg, surface_tex


def grey_moon(rng, w, h):
    tex, _ = surface_tex(rng, [(0, (0.42, 0.41, 0.40)), (1, (0.78, 0.77, 0.75))], 300)
    maria = smoothstep(0.3, 0.9, fbm(rng, TW, TH, 350, 5, 0.5))
    tex = tex * (1 - 0.55 * maria[..., None])
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.43 * w, L=(0.85, 0.15, 0.45),
                     M=body_matrix(0, 5, 0), albedo_tex=tex, craters=1400, amax=0.18, depth=0.15,
                     bump=0.8, crater_mask_tex=1 - 0.6 * maria, bg=faint_sky(rng, w, h, 600))
    return tonemap(img * 1.1, rng, stretch=1.5, sat=0.9, grain=0.004)


def crescent_moon(rng, w, h):
    tex, _ = surface_tex(rng, [(0, (0.50, 0.46, 0.42)), (1, (0.80, 0.76, 0.70))], 250)
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.44 * h, L=(0.93, 0.2, -0.3),
                     M=body_matrix(20, -10, 0), albedo_tex=tex, craters=2200, amax=0.12,
                     depth=0.35, bump=1.6,
                     bg=star_field(rng, w, h, 3000, fmin=0.03, fmax=10, alpha=1.5))
    return tonemap(img * 1.2, rng, stretch=2.0, sat=0.9, grain=0.004)


def icy_moon(rng, w, h):
    tex, _ = surface_tex(rng, [(0, (0.72, 0.62, 0.52)), (0.5, (0.88, 0.84, 0.78)),
                               (1, (0.96, 0.95, 0.93))], 250)
    lines = np.zeros((TH, TW), F32)
    for _ in range(5):
        f = fbm(rng, TW, TH, 300, 5, 0.5, aspect=rng.uniform(0.5, 3))
        lines = np.maximum(lines, ridged(f * 2.5, 30.0) * rng.uniform(0.5, 1.0))
    chaos = smoothstep(1.0, 1.8, fbm(rng, TW, TH, 120, 6, 0.6))
    tex = (tex * (1 - 0.55 * lines[..., None] * rgb(0.3, 0.6, 0.8))
           * (1 - 0.3 * chaos[..., None] * rgb(0.2, 0.5, 0.7)))
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.42 * w, L=(-0.5, 0.35, 0.8),
                     M=body_matrix(-5, 12, 0), albedo_tex=tex, craters=40, amax=0.05, depth=0.15,
                     bg=faint_sky(rng, w, h, 800))
    return tonemap(img, rng, stretch=1.5, sat=1.0, grain=0.004)


def volcanic_moon(rng, w, h):
    tex = volcanic_texture(rng)
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.42 * w, L=(0.55, 0.3, 0.78),
                     M=body_matrix(3, 5, 0), albedo_tex=tex, craters=0,
                     bg=faint_sky(rng, w, h, 800))
    return tonemap(img, rng, stretch=1.5, sat=1.05, grain=0.004)


def volcanic_texture(rng):
    """Sulphur plains with dark volcanic vents, their haloes and darker poles."""
    tex, _ = surface_tex(rng, [(0, (0.78, 0.58, 0.22)), (0.5, (0.92, 0.82, 0.40)),
                               (0.8, (0.95, 0.92, 0.65)), (1, (0.85, 0.88, 0.70))], 200,
                         contrast=1.3)
    spots = np.zeros((TH, TW), F32)
    halo = np.zeros((TH, TW), F32)
    yy, xx = np.mgrid[0:TH, 0:TW].astype(F32)
    for _ in range(45):
        x0, y0 = rng.uniform(0, TW), rng.uniform(TH * 0.15, TH * 0.85)
        s = rng.uniform(4, 18)
        d2 = ((xx - x0) * 0.7) ** 2 + (yy - y0) ** 2
        spots = np.maximum(spots, np.exp(-d2 / (s * s)))
        halo = np.maximum(halo, np.exp(-d2 / (s * s * 12)) * rng.uniform(0.3, 1))
    pol = smoothstep(0.6, 1.3, np.abs(np.linspace(-1, 1, TH)))[:, None] * np.ones((1, TW))
    tex = tex * (1 - 0.45 * halo[..., None] * rgb(0.2, 0.6, 0.9))
    tex = tex * (1 - 0.85 * spots[..., None]) + spots[..., None] * rgb(0.18, 0.07, 0.04)
    return tex * (1 - 0.4 * pol[..., None] * rgb(0.3, 0.4, 0.5))


def ocean_world(rng, w, h):
    tex, land, ice, clouds = ocean_world_texture(rng)
    M = body_matrix(-15, 20, 30)
    cx = cy = 0.5 * w
    R = 0.4 * w
    sp = Sphere(w, h, cx, cy, R, M)
    alb = sp.tex(tex)
    # sun glint only on open water
    spec = sp.tex((1 - land) * (1 - ice)) * (1 - sp.tex(clouds))
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(0.7, 0.25, 0.65), limb=0.15,
                        atmo=rgb(0.35, 0.55, 1.0), atmo_w=0.025, spec=spec * 0.5,
                        bg=faint_sky(rng, w, h, 900))
    return tonemap(img, rng, stretch=2.0, sat=1.1, grain=0.004)


def ocean_world_texture(rng):
    """Oceans, green and desert continents, polar ice and clouds; returns the masks too."""
    lat = latitude_deg()
    land_n = fbm(rng, TW, TH, 260, 9, 0.55)
    land = smoothstep(0.15, 0.25, land_n)
    dry = smoothstep(0.2, 0.8, fbm(rng, TW, TH, 200, 6, 0.55)
                     + np.cos(np.radians(lat) * 2 + 0.3) * 0.3)
    tex = lerp_palette(0.5 + 0.2 * fbm(rng, TW, TH, 60, 6, 0.6),
                       [(0, (0.10, 0.22, 0.10)), (1, (0.30, 0.36, 0.18))])
    desert = rgb(0.70, 0.56, 0.38)
    tex = (tex * (1 - dry[..., None])
           + desert * dry[..., None] * (0.85 + 0.15 * fbm(rng, TW, TH, 40, 5, 0.6)[..., None]))
    ocean = lerp_palette(smoothstep(-0.2, 0.2, land_n),
                         [(0, (0.02, 0.06, 0.20)), (1, (0.04, 0.16, 0.32))])
    tex = ocean * (1 - land[..., None]) + tex * land[..., None]
    ice = smoothstep(68, 74, np.abs(lat) + 4 * fbm(rng, TW, TH, 80, 5, 0.6))
    tex = tex * (1 - ice[..., None]) + ice[..., None] * rgb(0.92, 0.94, 0.97)
    cl = fbm(rng, TW, TH, 90, 9, 0.62, aspect=2.2)
    streak = fbm(rng, TW, TH, 25, 6, 0.6, aspect=4.0)
    band = np.cos(np.radians(lat) * 3) ** 2
    clouds = smoothstep(0.0, 1.6, cl + 0.35 * streak + 0.4 * band) * 0.9
    tex = tex * (1 - clouds[..., None]) + clouds[..., None] * rgb(0.95, 0.96, 0.98)
    return tex, land, ice, clouds


def red_desert(rng, w, h):
    tex, _ = surface_tex(rng, [(0, (0.35, 0.16, 0.08)), (0.45, (0.62, 0.32, 0.16)),
                               (0.7, (0.78, 0.48, 0.28)), (1, (0.85, 0.62, 0.42))], 220,
                         contrast=1.2)
    cap = smoothstep(76, 80, latitude_deg() + 3 * fbm(rng, TW, TH, 60, 5, 0.6))
    tex = tex * (1 - cap[..., None]) + cap[..., None] * rgb(0.95, 0.93, 0.9)
    cx, cy, R = 0.5 * w, 0.5 * h, 0.42 * h
    M = body_matrix(-20, 15, 0)
    bg = faint_sky(rng, w, h, 1200)
    img = rocky_body(rng, w, h, cx=cx, cy=cy, R=R, L=(-0.65, 0.3, 0.7), M=M, albedo_tex=tex,
                     craters=500, amax=0.08, depth=0.15, bump=0.8, bg=bg)
    # thin dusty atmosphere along the limb
    sp = Sphere(w, h, cx, cy, R, M)
    d = np.clip(sp.rad - 1, 0, None)
    glow = np.exp(-d / 0.01) * (sp.rad >= 1) * smoothstep(-0.3, 0.5, -sp.X * 0.65 + sp.Y * 0.3)
    img += glow[..., None] * rgb(1.0, 0.65, 0.45) * 0.25
    return tonemap(img, rng, stretch=1.8, sat=1.05, grain=0.004)
