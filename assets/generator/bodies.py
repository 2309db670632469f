"""Lighting planets and moons and compositing them, with rings and atmospheres, over a sky."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .numerics import F32, over, rgb, smoothstep, window
from .sphere import Sphere, spin_axis, unit


class Rings(NamedTuple):
    """A ring system: radii in planet radii, opacity profile over [0, 1], colour."""

    r_in: float
    r_out: float
    profile_x: np.ndarray
    profile_op: np.ndarray
    colour: np.ndarray

    def opacity(self, r):
        """Opacity at distance ``r`` from the planet centre (0 outside the rings)."""
        return np.interp((r - self.r_in) / (self.r_out - self.r_in), self.profile_x,
                         self.profile_op, left=0, right=0)


def render_planet(w, h, *, cx, cy, R, M, albedo, L, limb=0.3, atmo=None, atmo_w=0.04,
                  rings: Rings | None = None, bg=None, spec=None, crescent_glow=0.0):
    """Composite a lit sphere (+ optional rings) over ``bg``.  ``albedo`` is HxWx3 sampled on
    the sphere, ``L`` the direction towards the sun."""
    sp = Sphere(w, h, cx, cy, R, M)
    Lv = unit(L)
    ndl = sp.ndl(Lv)
    lit = np.clip(ndl, 0, None) ** 0.9 * smoothstep(-0.02, 0.08, ndl)
    mu = sp.Z
    shade = lit * (0.35 + 0.65 * mu ** limb) if limb else lit
    if rings is not None:
        shade = ring_shadow(sp, Lv, rings, shade)
    col = albedo * shade[..., None]
    if spec is not None:
        Hh = unit(Lv + np.array([0, 0, 1], F32))
        ndh = np.clip(sp.N @ Hh, 0, 1)
        col += (spec * ndh ** 60 * (ndl > 0))[..., None] * 0.6
    if atmo is not None:
        # haze inside the limb
        rim_in = (1 - mu) ** 3 * smoothstep(-0.25, 0.3, ndl)
        col += rim_in[..., None] * atmo * 0.6
    out = bg.copy() if bg is not None else np.zeros((h, w, 3), F32)
    if atmo is not None or crescent_glow:
        out += limb_glow(sp, Lv, atmo, atmo_w, crescent_glow)
    a = sp.alpha[..., None]
    if rings is None:
        return over(out, col, a)
    return composite_rings(sp, Lv, rings, out, col, a)


def ring_shadow(sp, Lv, rings, shade):
    """``shade`` darkened where the rings block the sunlight falling on the planet."""
    Nr = spin_axis(sp.M)
    denom = float(Lv @ Nr)
    if abs(denom) <= 1e-3:
        return shade  # sunlight in the ring plane: the shadow is a line
    S = sp.N
    t = -(S @ Nr) / denom
    P = S + t[..., None] * Lv
    opac = rings.opacity(np.linalg.norm(P, axis=-1))
    return shade * (1 - 0.85 * opac * (t > 0))


def limb_glow(sp, Lv, atmo, atmo_w, crescent_glow):
    """Thin atmospheric glow just outside the limb, strongest on the sunlit edge and, for a
    backlit planet, around the whole crescent."""
    d = np.clip(sp.rad - 1, 0, None)
    nx, ny = sp.X / np.maximum(sp.rad, 1e-6), sp.Y / np.maximum(sp.rad, 1e-6)
    edge_lit = smoothstep(-0.35, 0.4, nx * Lv[0] + ny * Lv[1] + 0.3 * Lv[2])
    fwd = np.clip(-Lv[2], 0, 1)
    glow = np.exp(-d / atmo_w) * (sp.rad >= 1) * (edge_lit * (1 + 4 * fwd * crescent_glow))
    ac = atmo if atmo is not None else rgb(0.8, 0.85, 1.0)
    return glow[..., None] * ac * 0.5


def composite_rings(sp, Lv, rings, out, planet_rgb, a):
    """Layer planet and rings over ``out``: the near half of the rings in front of the planet."""
    Nr = spin_axis(sp.M)
    X, Y = sp.X, sp.Y
    # ring plane depth under each pixel (orthographic view along -z)
    zr = -(X * Nr[0] + Y * Nr[1]) / (Nr[2] if abs(Nr[2]) > 1e-4 else 1e-4)
    P = np.stack([X, Y, zr], -1)
    rr = np.linalg.norm(P, axis=-1)
    op = rings.opacity(rr).astype(F32)
    # planet shadow on the rings
    b = P @ Lv
    c = rr ** 2 - 1
    closest = np.sqrt(np.clip(c - b * b, 0, None))
    sh = np.where(b < 0, smoothstep(0.97, 1.03, closest), 1.0)
    rbright = ring_brightness(Nr, Lv)
    tcol = np.interp((rr - rings.r_in) / (rings.r_out - rings.r_in), [0, 0.5, 1], [0.75, 1.0, 0.85])
    ring_rgb = (op * sh * rbright * tcol)[..., None] * rings.colour
    ring_a = np.clip(op * 0.95, 0, 1)[..., None]
    front = (zr > sp.Z) | (sp.rad >= 1)
    behind_planet = over(over(out, ring_rgb, ring_a), planet_rgb, a)
    over_planet = over(over(out, planet_rgb, a), ring_rgb, ring_a)
    return np.where(front[..., None], over_planet, behind_planet)


def ring_brightness(Nr, Lv):
    """Rings seen from their sunlit face are bright; from the unlit face only light that
    filters through them shows."""
    lit_side = abs(float(Nr @ Lv))
    same_side = (float(Nr @ Lv) * float(Nr[2])) > 0
    return (0.25 + 0.75 * lit_side) if same_side else 0.35 * lit_side + 0.05


def crater_field(rng, sp, n, amin, amax, slope=2.0, depth=0.25, fresh=0.6):
    """Height field (in units of R) of ``n`` craters on the visible hemisphere of ``sp``."""
    h, w = sp.X.shape
    H = np.zeros((h, w), F32)
    R = sp.R
    u = rng.random(n)
    a = amin * (amax / amin) ** (u ** slope)  # many small, few large
    v = rng.normal(size=(n, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    v[:, 2] = np.abs(v[:, 2])
    for (cxv, cyv, czv), ai in zip(v, a):
        box = window(sp.cx + cxv * R, sp.cy - cyv * R, int(ai * R * 1.8) + 3, w, h)
        if box is None:
            continue  # off the frame; skipping its freshness draw is part of the seeded sequence
        x0, x1, y0, y1 = box
        N = sp.N[y0:y1, x0:x1]
        d = np.arccos(np.clip(N @ np.array([cxv, cyv, czv], F32), -1, 1)) / ai
        f = fresh * rng.random() + (1 - fresh) * 0.3
        H[y0:y1, x0:x1] += ai * f * crater_shape(d, ai, amax, depth) * sp.alpha[y0:y1, x0:x1]
    return H


def crater_shape(d, ai, amax, depth):
    """Bowl, raised rim, ejecta and (for big craters) a central peak at scaled distance d."""
    bowl = np.where(d < 1, (d ** 2 - 1) * depth, 0)
    rim = 0.35 * depth * np.exp(-((d - 1) / 0.22) ** 2)
    ej = 0.05 * depth * np.exp(-(d - 1) * 2.5) * (d > 1)
    peak = 0.25 * depth * np.exp(-(d / 0.18) ** 2) * (ai > amax * 0.3)
    return bowl + rim + ej + peak


def bumped_shade(sp, H, L, strength=1.0):
    """Cosine lighting with the normals tilted by the slopes of height field ``H``."""
    gy, gx = np.gradient(H * sp.R)
    n = sp.N.copy()
    n[..., 0] -= strength * gx
    n[..., 1] += strength * gy
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
    return n @ unit(L)


def rocky_body(rng, w, h, *, cx, cy, R, L, M, albedo_tex, craters=600, amin=0.006, amax=0.22,
               depth=0.25, bump=1.0, bg=None, crater_mask_tex=None):
    """A cratered airless body lit from ``L``, composited over ``bg``."""
    sp = Sphere(w, h, cx, cy, R, M)
    alb = sp.tex(albedo_tex)
    H = crater_field(rng, sp, craters, amin, amax, depth=depth)
    if crater_mask_tex is not None:
        H *= sp.tex(crater_mask_tex)
    ndl = bumped_shade(sp, H, L, bump)
    base = sp.ndl(L)
    lit = np.clip(ndl, 0, None) * smoothstep(-0.08, 0.05, base)
    # lunar-like surfaces show little limb darkening (Lommel-Seeliger blend)
    mu = np.clip(sp.Z, 1e-3, 1)
    mu0 = np.clip(base, 0, 1)
    ls = 2 * mu0 / (mu0 + mu + 1e-3)
    shade = lit * (0.5 + 0.5 * ls)
    col = alb * shade[..., None]
    out = bg if bg is not None else np.zeros((h, w, 3), F32)
    return over(out, col, sp.alpha[..., None])
