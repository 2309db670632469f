"""Light models of galaxies: tilted spiral disks, Sersic spheroids, globular clusters."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .medium import extinction
from .noise import fbm, ridged
from .numerics import F32, grid, lerp_palette, rgb, sample, smoothstep
from .sky import gaussian_blobs
from .stars import positions_from_density, power_flux, render_stars, star_colour

OLD = rgb(1.0, 0.80, 0.58)
YOUNG = rgb(0.58, 0.72, 1.0)
BULGE = rgb(1.0, 0.76, 0.50)
HII = rgb(1.0, 0.32, 0.50)

PLANE_N = 768  # side of the square noise textures laid into a disk plane


def sersic(r, re, n):
    """Sersic profile with effective radius ``re`` and index ``n``, 1 at ``re``."""
    b = 2 * n - 1 / 3
    return np.exp(-b * ((np.maximum(r, 1e-4) / re) ** (1 / n) - 1))


@dataclass(frozen=True)
class Spiral:
    """Shape of a spiral galaxy: centre and radius in pixels, angles in degrees except ``pa``
    (radians), other lengths in units of ``R``."""

    cx: float
    cy: float
    R: float
    incl: float = 30
    pa: float = 0.0
    arms: int = 2
    pitch: float = 15
    rd: float = 0.3
    armsharp: float = 3.0
    arm_warp: float = 0.5
    bulge: float = 1.0
    bulge_re: float = 0.08
    bulge_n: float = 2.5
    bar: float = 0.0
    bar_len: float = 0.3
    dust: float = 1.0
    hii: int = 300
    flocc: float = 0.0
    young: float = 1.0
    ring: float = 0.0
    level: float = 0.12


class DiskPlane:
    """Pixel positions projected into a galaxy's tilted disk (in units of its radius)."""

    def __init__(self, w, h, g: Spiral):
        self.ci = math.cos(math.radians(g.incl))
        X, Y = grid(w, h, g.cx, g.cy)
        self.u = X * math.cos(g.pa) + Y * math.sin(g.pa)
        self.v = -X * math.sin(g.pa) + Y * math.cos(g.pa)
        self.xp = self.u / g.R
        self.yp = self.v / (g.R * self.ci)
        self.r = np.sqrt(self.xp * self.xp + self.yp * self.yp) + 1e-4
        self.th = np.arctan2(self.yp, self.xp)

    def noise(self, rng, scale, octaves=7, pers=0.6):
        """fBm laid into the disk plane, so it foreshortens with the disk."""
        f = fbm(rng, PLANE_N, PLANE_N, scale * PLANE_N / 4, octaves, pers)
        return sample(f, (self.xp + 2) / 4 * PLANE_N, (self.yp + 2) / 4 * PLANE_N)


def spiral_galaxy(rng, w, h, g: Spiral) -> np.ndarray:
    """Light (HxWx3, linear) of a spiral galaxy seen at inclination ``g.incl`` degrees."""
    p = DiskPlane(w, h, g)
    nw = p.noise(rng, 0.6, 4, 0.5)
    clump = p.noise(rng, 0.15, 7, 0.65)
    fine = p.noise(rng, 0.05, 6, 0.6)
    r0 = max(g.bar_len, 0.05) if g.bar else 0.1
    tp = math.tan(math.radians(g.pitch))
    ba = rng.uniform(0, math.pi) if g.bar else 0.0
    phase = g.arms * (p.th - ba - np.log(p.r / r0) / tp) + g.arm_warp * nw + g.flocc * 3.0 * clump
    disk = np.exp(-p.r / g.rd)
    on = smoothstep(r0 * 0.6, r0 * 1.4, p.r) * smoothstep(1.3, 0.8, p.r)  # where arms exist
    ya, old = disk_light(g, p, phase, disk, on, clump, fine)
    tau = disk_dust(rng, g, p, phase, disk, on, clump, fine)
    bul = bulge_light(g, p, ba)
    light_disk = old[:, :, None] * OLD * 0.8 + ya[:, :, None] * YOUNG * g.young
    light_bulge = bul[:, :, None] * BULGE * 0.5
    # seen steeply, only the near half of the disk dims the bulge
    near = smoothstep(-0.05, 0.05, p.v / g.R) if g.incl > 40 else np.full((h, w), 0.5, F32)
    ext = extinction(tau)
    ext_b = extinction(tau * (0.15 + 0.85 * near))
    img = (light_disk * ext + light_bulge * ext_b) * g.level
    if g.hii:
        hii_regions(rng, img, ya, g)
    return img


def disk_light(g, p, phase, disk, on, clump, fine):
    """Young starlight along the arms and the smoother light of old disk stars."""
    arm = ((1 + np.cos(phase)) / 2) ** g.armsharp
    ya = disk ** 0.6 * arm * on * 2.0
    ya *= np.exp(0.45 * clump) * (0.85 + 0.15 * fine)
    if g.ring:
        ya += g.ring * np.exp(-((p.r - 0.55) / 0.06) ** 2) * np.exp(0.8 * clump)
    old = disk * (0.55 + 0.45 * arm * on) * (0.9 + 0.1 * clump)
    return ya, old


def disk_dust(rng, g, p, phase, disk, on, clump, fine):
    """Optical depth of the disk: the leading edge of the arms plus a flocculent web."""
    darm = ((1 + np.cos(phase + 0.7)) / 2) ** (g.armsharp * 2.5)
    web = ridged(p.noise(rng, 0.12, 7, 0.6), 4.0)
    tau = (g.dust * (2.0 * darm * on + 0.8 * web * (0.3 + 0.5 * g.flocc)) * disk ** 0.4
           * smoothstep(0.05, 0.25, p.r))
    tau *= smoothstep(-1.0, 1.0, clump + 0.6 * fine) * 1.5
    return tau


def bulge_light(g, p, ba):
    """The bulge (a flattened spheroid) plus the bar at angle ``ba``, if there is one."""
    qb = math.sqrt(p.ci ** 2 + 0.55 ** 2 * (1 - p.ci ** 2))
    rb = np.sqrt((p.u / g.R) ** 2 + (p.v / (g.R * qb)) ** 2)
    bul = sersic(rb, g.bulge_re, g.bulge_n) * g.bulge
    if g.bar:
        bx = p.xp * math.cos(ba) + p.yp * math.sin(ba)
        by = -p.xp * math.sin(ba) + p.yp * math.cos(ba)
        bul = bul + g.bar * np.exp(-(bx / g.bar_len) ** 2 - (by / (g.bar_len * 0.22)) ** 2) * 0.6
    return bul


def hii_regions(rng, img, ya, g):
    """Add HII regions and young clusters where the arms are brightest."""
    dens = (ya / (ya.max() + 1e-6)) ** 2.5
    xs, ys = positions_from_density(rng, dens, g.hii)
    sz = g.R / 500
    sig = sz * rng.uniform(0.7, 1.8, g.hii)
    amps = g.level * 1.3 * rng.uniform(0.2, 1.0, g.hii) ** 2
    cols = np.where(rng.random(g.hii)[:, None] < 0.6, HII, rgb(0.75, 0.85, 1.0))
    gaussian_blobs(img, xs, ys, sig, amps, cols)


def elliptical_light(w, h, cx, cy, re, q, pa, n=4.0, amp=1.0):
    """Light of an elliptical galaxy (Sersic, axis ratio ``q``, position angle ``pa``)."""
    X, Y = grid(w, h, cx, cy)
    u = X * math.cos(pa) + Y * math.sin(pa)
    v = (-X * math.sin(pa) + Y * math.cos(pa)) / q
    r = np.sqrt(u * u + v * v)
    prof = sersic(r, re, n) * amp
    # redder core, slightly bluer envelope
    t = np.clip(np.log10(r / re + 0.05) + 1, 0, 1.5) / 1.5
    col = lerp_palette(t, [(0, (1.0, 0.74, 0.48)), (1, (1.0, 0.86, 0.70))])
    return prof[:, :, None] * col


def globular_swarm(rng, w, h, cx, cy, n, scale, level):
    """Faint globular clusters scattered around a galaxy centred on (cx, cy)."""
    r = scale * rng.pareto(1.6, n) + scale * 0.2
    t = rng.uniform(0, 2 * math.pi, n)
    xs = cx + r * np.cos(t)
    ys = cy + r * np.sin(t) * 0.85
    flux = power_flux(rng, n, 0.05, 0.6, 2.0) * level
    cols = 0.7 * star_colour(rng.uniform(4500, 6500, n)) + 0.3
    return render_stars(w, h, xs, ys, flux, cols, 0.8, 0.3)
