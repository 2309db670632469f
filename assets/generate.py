#!/usr/bin/env python3
"""Render the generated part of cosmobot's cosmic image collection.

This is a development tool; the bot never imports it.  It needs only
numpy and Pillow (``pip install numpy pillow``).

Usage::

    python assets/generate.py                 # render every generated image + contact sheet
    python assets/generate.py --only NAME     # render one image (file name, with or without .jpg)
    python assets/generate.py --list          # list generated images and their seeds
    python assets/generate.py --sheet         # rebuild only the contact sheet
    python assets/generate.py --check         # validate images against Telegram limits + credits
    python assets/generate.py --naev DIR      # re-compose the NASA nebulae from an unpacked
                                              # naev-data 0.8.2 tree (DIR = .../usr/share/naev)
    python assets/generate.py --hubble FILE   # re-build the Hubble eXtreme Deep Field image from
                                              # scikit-image's skimage/data/hubble_deep_field.jpg

Every image has a fixed seed, so a given seed always gives a byte-identical
JPEG.  Images are rendered in linear light, tone-mapped with an asinh
stretch and saved as baseline JPEG.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
COSMIC = HERE / "images" / "cosmic"
SHEET = HERE / "contact-sheet.jpg"

MIN_BYTES = 80 * 1024
MAX_BYTES = 600 * 1024

F32 = np.float32


# ---------------------------------------------------------------------------
# basic numerics
# ---------------------------------------------------------------------------

def resize(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """Bicubic resize of a 2-D float array."""
    return np.asarray(Image.fromarray(np.ascontiguousarray(a, dtype=F32), "F").resize((w, h), Image.BICUBIC))


def _fast_len(n: int) -> int:
    """Smallest 5-smooth integer >= n (fast FFT size)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (FFT, reflect-padded) of a 2-D or HxWxC float array."""
    if sigma <= 0:
        return a
    return convolve_gauss(a, [(sigma, 1.0)])


def convolve_gauss(a: np.ndarray, kernels) -> np.ndarray:
    """Convolve with a sum of normalised gaussians [(sigma, weight), ...]."""
    if a.ndim == 3:
        return np.stack([convolve_gauss(a[:, :, c], kernels) for c in range(a.shape[2])], -1)
    smax = max(s for s, _ in kernels)
    pad = int(min(3 * smax + 2, min(a.shape) - 1))
    ph = _fast_len(a.shape[0] + 2 * pad) - a.shape[0] - pad
    pw = _fast_len(a.shape[1] + 2 * pad) - a.shape[1] - pad
    p = np.pad(a.astype(F32), [(pad, ph), (pad, pw)], mode="reflect")
    hh, ww = p.shape
    spec = np.fft.rfft2(p)
    fy = np.fft.fftfreq(hh).astype(F32)[:, None]
    fx = np.fft.rfftfreq(ww).astype(F32)[None, :]
    f2 = fx ** 2 + fy ** 2
    k = sum(wt * np.exp(-2 * np.pi ** 2 * s ** 2 * f2) for s, wt in kernels).astype(F32)
    out = np.fft.irfft2(spec * k, s=(hh, ww))
    return out[pad:pad + a.shape[0], pad:pad + a.shape[1]].astype(F32)


def fbm(rng, w, h, scale, octaves=6, persistence=0.5, lacunarity=2.0, aspect=1.0):
    """Fractal (value-noise) field, zero mean, unit std.

    ``scale`` is the size in pixels of the coarsest features; ``aspect`` > 1
    stretches features horizontally.
    """
    total = np.zeros((h, w), F32)
    amp = 1.0
    freq = 1.0
    for _ in range(octaves):
        cx = scale * aspect / freq
        cy = scale / freq
        if cy < 1.5:
            break
        gw = int(w / cx) + 4
        gh = int(h / cy) + 4
        g = rng.standard_normal((gh, gw)).astype(F32)
        # resize a slightly larger grid and crop so edges are not special
        big = resize(g, int(gw * cx), int(gh * cy))
        oy = int(rng.integers(0, max(1, big.shape[0] - h)))
        ox = int(rng.integers(0, max(1, big.shape[1] - w)))
        total += amp * big[oy:oy + h, ox:ox + w]
        amp *= persistence
        freq *= lacunarity
    total -= total.mean()
    total /= total.std() + 1e-6
    return total


def sample(a, x, y):
    """Bilinear sample of 2-D array ``a`` at float pixel coords (edge clamped)."""
    h, w = a.shape
    x = np.clip(x, 0, w - 1.001)
    y = np.clip(y, 0, h - 1.001)
    x0 = x.astype(np.int32)
    y0 = y.astype(np.int32)
    fx = (x - x0).astype(F32)
    fy = (y - y0).astype(F32)
    a00 = a[y0, x0]
    a01 = a[y0, x0 + 1]
    a10 = a[y0 + 1, x0]
    a11 = a[y0 + 1, x0 + 1]
    return (a00 * (1 - fx) + a01 * fx) * (1 - fy) + (a10 * (1 - fx) + a11 * fx) * fy


def warped_fbm(rng, w, h, scale, octaves=6, warp=0.5, persistence=0.5, aspect=1.0):
    """Domain-warped fBm: wispy, flowing structure."""
    pad = int(scale * warp * 4) + 4
    base = fbm(rng, w + 2 * pad, h + 2 * pad, scale, octaves, persistence, aspect=aspect)
    wx = fbm(rng, w, h, scale * 1.3, 3, 0.45)
    wy = fbm(rng, w, h, scale * 1.3, 3, 0.45)
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    out = sample(base, xx + pad + wx * scale * warp, yy + pad + wy * scale * warp)
    out -= out.mean()
    out /= out.std() + 1e-6
    return out


def ridged(n, sharp=4.0):
    """Turn a zero-mean field into bright thin ridges along its zero crossings."""
    return (1.0 - np.clip(np.abs(n), 0, 1)) ** sharp


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return t * t * (3 - 2 * t)


def grid(w, h, cx=None, cy=None):
    cx = w / 2 if cx is None else cx
    cy = h / 2 if cy is None else cy
    yy, xx = np.mgrid[0:h, 0:w].astype(F32)
    return xx - cx, yy - cy


def rgb(*c):
    return np.array(c, F32)


def lerp_palette(t, stops):
    """Map t in [0,1] through a list of (pos, (r,g,b)) stops -> HxWx3."""
    t = np.clip(t, 0, 1)
    pos = np.array([s[0] for s in stops], F32)
    cols = np.array([s[1] for s in stops], F32)
    out = np.empty(t.shape + (3,), F32)
    for c in range(3):
        out[..., c] = np.interp(t, pos, cols[:, c])
    return out


# ---------------------------------------------------------------------------
# stars
# ---------------------------------------------------------------------------

def star_colour(temp):
    """Approximate sRGB-ish colour of a black body at ``temp`` kelvin (array)."""
    t = np.asarray(temp, F32) / 100.0
    r = np.where(t <= 66, 255.0, 329.7 * np.power(np.maximum(t - 60, 1e-3), -0.1332))
    g = np.where(t <= 66, 99.47 * np.log(np.maximum(t, 1e-3)) - 161.1,
                 288.1 * np.power(np.maximum(t - 60, 1e-3), -0.0755))
    b = np.where(t >= 66, 255.0, np.where(t <= 19, 0.0, 138.5 * np.log(np.maximum(t - 10, 1e-3)) - 305.0))
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
    u = rng.random(n)
    f = fmin * (1 - u) ** (-1.0 / alpha)
    return np.minimum(f, fmax).astype(F32)


def positions_from_density(rng, density, n):
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
    for dx, dy, wt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
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
    h, w = img.shape[:2]
    L = length * 9.0 * math.sqrt(flux) + 6
    r = int(min(L * 2.2, 700))
    x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
    y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
    dx = xx + 0.5 - x
    dy = yy + 0.5 - y
    acc = np.zeros(dx.shape, F32)
    for k in range(arms // 2):
        a = angle + math.pi * k / (arms // 2)
        ca, sa = math.cos(a), math.sin(a)
        along = dx * ca + dy * sa
        perp = -dx * sa + dy * ca
        acc += np.exp(-np.abs(along) / (L * 0.35)) * np.exp(-(perp / width) ** 2) / (1 + (along / 3.0) ** 2) ** 0.25
    # faint chromatic smear so spikes are not pure white
    img[y0:y1, x0:x1] += (acc * flux * 0.045)[:, :, None] * (0.6 * col + 0.4)


def star_field(rng, w, h, n, density=None, fmin=0.02, fmax=60, alpha=1.35, hot=0.25, cool=0.25,
               psf=0.75, glow=1.0, spikes=0, spike_len=1.0, spike_angle=0.0):
    if density is None:
        xs = rng.random(n) * w
        ys = rng.random(n) * h
    else:
        xs, ys = positions_from_density(rng, density, n)
    flux = power_flux(rng, n, fmin, fmax, alpha)
    cols = star_colour(random_temps(rng, n, hot, cool))
    cols = 0.75 * cols + 0.25  # stars look paler than pure black-body hues
    return render_stars(w, h, xs, ys, flux, cols, psf, glow, spikes, spike_len, spike_angle)


def gaussian_blobs(img, xs, ys, sig, amps, cols):
    """Add small 2-D gaussian blobs (HII knots, small clusters)."""
    h, w = img.shape[:2]
    for x, y, s, a, c in zip(xs, ys, sig, amps, cols):
        r = int(s * 3.5) + 2
        x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
        y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
        g = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * s * s)) * a
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
        r = int(s * 6) + 2
        x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
        y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
        dx, dy = xx - x, yy - y
        u = dx * math.cos(pa) + dy * math.sin(pa)
        v = (-dx * math.sin(pa) + dy * math.cos(pa)) / q
        rr = np.sqrt(u * u + v * v) / s
        if elliptical:
            prof = np.exp(-3.0 * (rr ** 0.5))
            col = rgb(1.0, 0.78, 0.55) * rng.uniform(0.8, 1.1)
        else:
            prof = np.exp(-1.8 * rr) + 0.8 * np.exp(-(rr / 0.25) ** 2)
            col = rgb(0.75, 0.82, 1.0) * rng.uniform(0.8, 1.1)
        img[y0:y1, x0:x1] += (prof * a)[:, :, None] * col


# ---------------------------------------------------------------------------
# tone mapping + output
# ---------------------------------------------------------------------------

def tonemap(img, rng, stretch=6.0, exposure=1.0, black=0.0, gamma=1.0, sat=1.0, grain=0.006):
    x = np.maximum(img * exposure - black, 0)
    lum = x.mean(-1, keepdims=True) + 1e-6
    m = np.arcsinh(lum * stretch) / math.asinh(stretch)
    y = x * (m / lum)
    if sat != 1.0:
        l2 = y.mean(-1, keepdims=True)
        y = l2 + (y - l2) * sat
    # roll highlights off towards white instead of hard per-channel clipping
    mx = y.max(-1, keepdims=True)
    over = np.clip(mx - 1.0, 0, None)
    y = y / np.maximum(mx, 1.0) + over / (1 + over)
    y = np.clip(y, 0, 1) ** (1.0 / gamma)
    if grain:
        y = y + rng.normal(0, grain, y.shape[:2])[:, :, None].astype(F32)
    return np.clip(y * 255 + 0.5, 0, 255).astype(np.uint8)


def save_jpeg(arr: np.ndarray, path: Path, quality=90):
    im = Image.fromarray(arr, "RGB")
    q = quality
    for _ in range(12):
        data = _encode(im, q)
        if len(data) > MAX_BYTES * 0.95 and q > 60:
            q -= 4
        elif len(data) < MIN_BYTES * 1.1 and q < 96:
            q += 2
        else:
            break
    path.write_bytes(data)
    return len(data), q


def _encode(im, q):
    import io
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q, optimize=True, subsampling=0 if q >= 93 else 2)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------

IMAGES: dict[str, tuple[int, object, tuple[int, int]]] = {}


def image(name: str, seed: int, size=(1600, 1000)):
    def deco(fn):
        IMAGES[name] = (seed, fn, size)
        return fn
    return deco


HA = rgb(1.0, 0.22, 0.30)      # hydrogen-alpha red
HB = rgb(0.55, 0.45, 1.0)      # hydrogen-beta / blue-violet
OIII = rgb(0.20, 0.80, 0.85)   # doubly ionised oxygen teal
SII = rgb(0.95, 0.08, 0.10)    # sulphur deep red
DUST_TAU = rgb(0.75, 0.90, 1.10)  # dust absorbs blue a little more than red


def extinction(tau):
    return np.exp(-tau[:, :, None] * DUST_TAU)


# ---------------------------------------------------------------------------
# nebulae
# ---------------------------------------------------------------------------

def rim_light(tau, cx, cy, sigma=2.0):
    """Brightness of dust surfaces that face the point (cx, cy) (ionisation fronts)."""
    t = blur(tau, sigma)
    gy, gx = np.gradient(t)
    h, w = tau.shape
    X, Y = grid(w, h, cx, cy)
    r = np.sqrt(X * X + Y * Y) + 1e-3
    facing = (gx * X + gy * Y) / r  # tau increasing away from the source
    return np.clip(facing, 0, None)


def emission_nebula(rng, w, h, *, env, ha=1.0, oiii=0.5, oiii_core=0.25, core=(0.5, 0.5),
                    scale=0.35, warp=0.15, contrast=1.5, rims=1.0, dust=1.0, dust_scale=0.3,
                    dust_bias=0.6, lanes=0.6, ha_col=HA, o_col=OIII, n_bg=20000, cluster=40,
                    cluster_spread=0.05, exposure=1.0, stretch=10.0, sat=1.1, level=0.05,
                    persistence=0.6):
    """Generic emission nebula: clumpy gas, ionisation fronts, dust lanes, stars."""
    cx, cy = core[0] * w, core[1] * h
    X, Y = grid(w, h, cx, cy)
    r = np.sqrt(X * X + Y * Y) / max(w, h)
    gas = warped_fbm(rng, w, h, scale * w, 9, warp, persistence)
    gas2 = fbm(rng, w, h, scale * w * 0.5, 9, 0.6)
    dens = env * np.exp(contrast * gas)
    oxy = np.exp(-(r / oiii_core) ** 2) * np.exp(0.9 * gas2) * env ** 0.5
    dn = warped_fbm(rng, w, h, dust_scale * w, 9, 0.2, 0.62)
    tau = dust * 3.0 * smoothstep(dust_bias, dust_bias + 1.3, dn) ** 1.4
    veins = blur(ridged(fbm(rng, w, h, dust_scale * w * 0.6, 8, 0.55), 6.0), 1.2)
    tau += lanes * 0.8 * veins * smoothstep(-0.8, 0.8, dn)
    rim = rim_light(tau, cx, cy, 3.0) * env ** 0.5 * np.exp(-r / 0.35)
    img = np.zeros((h, w, 3), F32)
    img += dens[:, :, None] * ha_col * (level * ha)
    img += oxy[:, :, None] * o_col * (level * oiii)
    # faint brownish light reflected by the dust itself
    img += (smoothstep(0, 2, dn) * env * level * 0.3)[:, :, None] * rgb(1.0, 0.55, 0.3)
    bg = star_field(rng, w, h, n_bg, fmin=0.03, fmax=6, alpha=1.5, spikes=0)
    img = (img + bg) * extinction(tau)
    img += (np.minimum(rim * rims * 2.0, 1.0))[:, :, None] * (0.7 * ha_col + 0.3 * rgb(1.0, 0.85, 0.7)) * level * 4
    if cluster:
        n = cluster
        xs = cx + rng.normal(0, cluster_spread * w, n)
        ys = cy + rng.normal(0, cluster_spread * w, n)
        flux = power_flux(rng, n, 0.3, 80, 1.1)
        cols = 0.7 * star_colour(rng.uniform(9000, 20000, n)) + 0.3
        img += render_stars(w, h, xs, ys, flux, cols, 0.8, 1.4, spikes=6, spike_len=0.9,
                            spike_angle=0.25)
    img += star_field(rng, w, h, 300, fmin=0.05, fmax=30, alpha=1.4, spikes=3, spike_angle=0.25)
    return tonemap(img, rng, stretch=stretch, exposure=exposure, sat=sat)


def blob_env(w, h, cx, cy, rx, ry, rng, wobble=0.8, scale=0.35):
    X, Y = grid(w, h, cx * w, cy * h)
    e = np.exp(-((X / (rx * w)) ** 2 + (Y / (ry * h)) ** 2))
    return e * np.exp(wobble * fbm(rng, w, h, scale * w, 4, 0.5))


@image("crimson-emission-nebula", 1101)
def _crimson(rng, w, h):
    env = blob_env(w, h, 0.5, 0.5, 0.5, 0.55, rng)
    return emission_nebula(rng, w, h, env=env, oiii=0.45, core=(0.45, 0.48), cluster=30)


@image("hubble-palette-nebula", 1102)
def _hubble_palette(rng, w, h):
    env = blob_env(w, h, 0.55, 0.45, 0.6, 0.7, rng, wobble=0.6)
    return emission_nebula(rng, w, h, env=env, ha_col=rgb(1.0, 0.62, 0.18), o_col=rgb(0.10, 0.55, 0.95),
                           oiii=1.6, oiii_core=0.3, core=(0.58, 0.42), contrast=1.3, dust=1.2,
                           dust_bias=0.4, lanes=0.9, rims=1.2, cluster=25, level=0.045, sat=1.15)


@image("rosette-nebula-ring", 1103)
def _rosette(rng, w, h):
    X, Y = grid(w, h, 0.5 * w, 0.5 * h)
    wob = fbm(rng, w, h, 0.3 * w, 4, 0.5)
    r = np.sqrt(X * X + Y * Y) / h * (1 + 0.12 * wob)
    env = np.exp(-((r - 0.36) / 0.16) ** 2) + 0.15 * np.exp(-(r / 0.6) ** 2)
    return emission_nebula(rng, w, h, env=env, oiii=0.7, oiii_core=0.14, contrast=1.2, dust=0.9,
                           dust_bias=0.7, lanes=0.7, rims=1.3, cluster=45, cluster_spread=0.05,
                           level=0.06, ha_col=rgb(1.0, 0.26, 0.36), scale=0.25)


def pillar_tau(rng, w, h, pillars, edge_noise=0.35):
    """Opacity of dust columns rising from the bottom of the frame.

    pillars: list of (x_base, x_tip, y_tip, width_base, width_tip) in units of w/h.
    """
    X, Y = grid(w, h, 0, 0)
    n1 = fbm(rng, w, h, 0.12 * w, 8, 0.6)
    n2 = fbm(rng, w, h, 0.03 * w, 6, 0.6)
    dens = np.zeros((h, w), F32)
    for xb, xt, yt, wb, wt in pillars:
        t = np.clip((h - Y) / (h * (1 - yt)), 0, 1.2)  # 0 at bottom, 1 at the tip
        xc = (xb + (xt - xb) * t ** 1.3) * w + 0.04 * w * np.sin(t * 5 + xb * 9)
        half = (wb + (wt - wb) * np.clip(t, 0, 1)) * w
        d = np.abs(X - xc) / half
        # rounded head above the tip
        head = np.sqrt(((X - xt * w) / (wt * w)) ** 2 + ((Y - yt * h) / (wt * w * 1.1)) ** 2)
        dist = np.where(t <= 1, d, head)
        dist = dist + edge_noise * n1 + 0.05 * n2
        dens = np.maximum(dens, smoothstep(1.1, 0.7, dist))
    return dens


@image("star-forming-pillars", 1104, (1280, 1600))
def _pillars(rng, w, h):
    X, Y = grid(w, h, 0.5 * w, -0.3 * h)
    r = np.sqrt(X * X + Y * Y) / h
    gas = warped_fbm(rng, w, h, 0.35 * w, 9, 0.15, 0.6)
    back = np.exp(-(r / 0.9) ** 2) * np.exp(1.0 * gas)
    oxy = np.exp(-(r / 0.6) ** 2) * np.exp(0.8 * fbm(rng, w, h, 0.2 * w, 8, 0.6))
    img = back[:, :, None] * rgb(1.0, 0.45, 0.25) * 0.08 + oxy[:, :, None] * rgb(0.25, 0.65, 0.9) * 0.07
    img += star_field(rng, w, h, 9000, fmin=0.03, fmax=5, alpha=1.5)
    dens = pillar_tau(rng, w, h, [(0.26, 0.32, 0.25, 0.12, 0.045), (0.62, 0.60, 0.50, 0.09, 0.035),
                                  (0.88, 0.91, 0.72, 0.06, 0.025)], edge_noise=0.25)
    tex = np.exp(0.4 * fbm(rng, w, h, 0.05 * w, 7, 0.6))
    tau = dens * 4.0 * tex
    rim = rim_light(blur(dens, 5.0), 0.5 * w, -0.3 * h, 1.0) * 25
    lit = blur(np.minimum(rim, 1.0), 1.5) * (0.7 + 0.3 * tex)
    img = img * extinction(tau)
    img += (dens * 0.03 * tex)[:, :, None] * rgb(0.9, 0.55, 0.35)  # faint light scattered inside
    img += lit[:, :, None] * rgb(1.0, 0.5, 0.3) * 0.2
    # evaporating gas streaming off the pillar heads
    img += (blur(lit, 6) * 1.2)[:, :, None] * rgb(0.5, 0.6, 0.9) * 0.08
    img += star_field(rng, w, h, 200, fmin=0.05, fmax=40, alpha=1.3, spikes=4, spike_angle=0.0)
    return tonemap(img, rng, stretch=10, sat=1.05)


@image("dark-nebula-silhouette", 1105)
def _dark_silhouette(rng, w, h):
    X, Y = grid(w, h, 0, 0)
    curtain = np.exp(-((Y - 0.35 * h) / (0.35 * h)) ** 2)
    streak = fbm(rng, w, h, 0.25 * h, 8, 0.6, aspect=0.25)  # vertical striations
    gas = np.exp(0.9 * fbm(rng, w, h, 0.3 * w, 8, 0.58))
    glow = curtain * gas * (1 + 0.35 * streak)
    img = glow[:, :, None] * rgb(1.0, 0.2, 0.28) * 0.07
    img += star_field(rng, w, h, 16000, fmin=0.03, fmax=5, alpha=1.5)
    n1 = fbm(rng, w, h, 0.08 * w, 8, 0.62)
    edge = 0.62 * h + 0.06 * h * fbm(rng, w, h, 0.4 * w, 3, 0.5)
    # a dark head and neck rising out of the cloud bank
    hx, hy = 0.58 * w, 0.42 * h
    head = np.sqrt(((X - hx) / (0.07 * w)) ** 2 + ((Y - hy) / (0.11 * h)) ** 2)
    neck = np.abs(X - (0.60 * w + (Y - hy) * 0.25)) / (0.045 * w) + np.where(Y < hy, 9, 0)
    d_bank = (edge - Y) / (0.03 * h)
    dens = np.maximum.reduce([smoothstep(0.5, -1.5, d_bank + 2 * n1),
                              smoothstep(1.2, 0.6, head + 0.3 * n1),
                              smoothstep(1.2, 0.6, neck + 0.3 * n1)])
    tau = dens * 5.0 * np.exp(0.3 * n1)
    rim = np.minimum(rim_light(dens, 0.5 * w, -0.6 * h, 2.0) * 60, 1.0)
    img = img * extinction(tau) + rim[:, :, None] * rgb(1.0, 0.35, 0.35) * 0.04
    # small bright reflection nebula in the dark bank
    X2, Y2 = grid(w, h, 0.25 * w, 0.8 * h)
    refl = np.exp(-(X2 ** 2 + Y2 ** 2) / (0.05 * w) ** 2) * np.exp(0.5 * n1)
    img += refl[:, :, None] * rgb(0.55, 0.7, 1.0) * 0.12
    img += star_field(rng, w, h, 250, fmin=0.05, fmax=30, alpha=1.4, spikes=3)
    return tonemap(img, rng, stretch=10, sat=1.1)


@image("blue-reflection-nebula", 1106)
def _reflection(rng, w, h):
    stars = [(0.42, 0.45, 90), (0.55, 0.38, 70), (0.62, 0.55, 60), (0.33, 0.62, 45), (0.50, 0.60, 40),
             (0.70, 0.42, 30), (0.47, 0.30, 25)]
    dust = np.exp(1.1 * fbm(rng, w, h, 0.3 * w, 9, 0.6, aspect=1.8))
    streaks = fbm(rng, w, h, 0.1 * w, 7, 0.55, aspect=6.0)
    dust *= 1 + 0.4 * streaks
    illum = np.zeros((h, w), F32)
    X, Y = grid(w, h, 0, 0)
    for sx, sy, f in stars:
        d2 = ((X - sx * w) ** 2 + (Y - sy * h) ** 2) / (0.1 * w) ** 2
        illum += f / (d2 + 0.3)
    img = (dust * illum)[:, :, None] * rgb(0.35, 0.55, 1.0) * 0.0005
    img += (dust * 0.006)[:, :, None] * rgb(0.7, 0.55, 0.45)
    img += star_field(rng, w, h, 12000, fmin=0.03, fmax=8, alpha=1.5)
    xs = np.array([s[0] * w for s in stars]); ys = np.array([s[1] * h for s in stars])
    flux = np.array([s[2] * 2.0 for s in stars], F32)
    cols = 0.7 * star_colour(np.full(len(stars), 14000.0)) + 0.3
    img += render_stars(w, h, xs, ys, flux, cols, 1.0, 2.5, spikes=7, spike_len=0.6, spike_angle=0.1)
    return tonemap(img, rng, stretch=9, sat=1.15)


def sky(rng, w, h, n=5000, galaxies=60, fmax=20):
    """Sparse background sky: faint stars and a sprinkling of distant galaxies."""
    img = star_field(rng, w, h, n, fmin=0.03, fmax=fmax, alpha=1.45, spikes=3, spike_angle=0.0)
    if galaxies:
        background_galaxies(rng, img, galaxies)
    return img


def elongated_blobs(img, xs, ys, ang, length, width, amps, cols):
    h, w = img.shape[:2]
    for x, y, a, L, s, amp, c in zip(xs, ys, ang, length, width, amps, cols):
        r = int(L * 3 + s * 3) + 2
        x0, x1 = max(0, int(x) - r), min(w, int(x) + r + 1)
        y0, y1 = max(0, int(y) - r), min(h, int(y) + r + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(F32)
        dx, dy = xx - x, yy - y
        al = dx * math.cos(a) + dy * math.sin(a)
        pe = -dx * math.sin(a) + dy * math.cos(a)
        tail = np.where(al > 0, np.exp(-al / L), np.exp(-(al / s) ** 2))
        g = tail * np.exp(-(pe / s) ** 2) * amp
        img[y0:y1, x0:x1] += g[:, :, None] * c


@image("helix-planetary-nebula", 1107, (1400, 1400))
def _helix(rng, w, h):
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
    # cometary knots with tails pointing away from the central star
    k = 900
    th = rng.uniform(0, 2 * math.pi, k)
    rk = rng.normal(0.85, 0.08, k)
    xs = w / 2 + np.cos(th) * rk * 0.30 * w
    ys = h / 2 + np.sin(th) * rk * 0.26 * w
    ang = np.arctan2((ys - h / 2) / 0.26, (xs - w / 2) / 0.30)
    amps = rng.uniform(0.04, 0.2, k)
    cols = np.tile(rgb(1.0, 0.55, 0.4), (k, 1))
    elongated_blobs(img, xs, ys, ang, rng.uniform(3, 9, k), rng.uniform(0.8, 1.6, k), amps, cols)
    img += render_stars(w, h, np.array([w / 2]), np.array([h / 2]), np.array([40.0], F32),
                        np.array([[0.8, 0.9, 1.0]], F32), 0.8, 1.0)
    return tonemap(img, rng, stretch=10, sat=1.1)


@image("bipolar-planetary-nebula", 1108)
def _bipolar(rng, w, h):
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
    col = lerp_palette(au, [(0, (0.9, 0.9, 1.0)), (0.3, (0.45, 0.6, 1.0)), (0.8, (1.0, 0.35, 0.3)), (1.0, (1.0, 0.2, 0.2))])
    img += (lobe * 0.07)[:, :, None] * col
    img += inner[:, :, None] * rgb(1.0, 0.9, 0.8) * 0.25
    # dusty torus pinching the waist
    torus = np.exp(-(u / 0.06) ** 2) * np.exp(-(v / 0.2) ** 2)
    img *= extinction(torus * 3.0 * np.exp(0.5 * n))
    img += render_stars(w, h, np.array([w / 2 + 1]), np.array([h / 2]), np.array([8.0], F32),
                        np.array([[0.9, 0.95, 1.0]], F32), 0.8, 1.0)
    return tonemap(img, rng, stretch=10, sat=1.15)


@image("supernova-remnant-filaments", 1109)
def _veil(rng, w, h):
    X, Y = grid(w, h, 0.98 * w, 1.05 * h)
    rr = np.sqrt(X * X + Y * Y) / w + 0.25
    img = star_field(rng, w, h, 22000, fmin=0.03, fmax=8, alpha=1.5, spikes=3)
    for k, (r0, col, amp) in enumerate([(0.80, rgb(0.25, 0.75, 1.0), 0.06), (0.78, rgb(1.0, 0.25, 0.3), 0.05),
                                        (0.86, rgb(0.3, 0.7, 1.0), 0.035), (0.72, rgb(1.0, 0.3, 0.35), 0.03)]):
        n = warped_fbm(rng, w, h, 0.25 * w, 6, 0.3, 0.5)
        d = (rr - r0) / 0.04 + 1.2 * n
        fil = blur((1 - np.abs(np.sin(d * math.pi * 0.5))) ** 7, 0.8)
        fade = np.exp(0.8 * fbm(rng, w, h, 0.2 * w, 4, 0.5)) * np.exp(-((rr - r0) / 0.07) ** 2)
        img += (fil * fade * amp * 6)[:, :, None] * col
        img += (blur(fil * fade, 6) * amp * 1.5)[:, :, None] * col
    return tonemap(img, rng, stretch=12, sat=1.1)


@image("pulsar-wind-nebula", 1110)
def _crab(rng, w, h):
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
    col = lerp_palette(hue * 0.3 + 0.5, [(0, (1.0, 0.2, 0.15)), (0.5, (1.0, 0.45, 0.2)), (1.0, (0.9, 0.85, 0.45))])
    for sc, amp in ((0.15, 0.12), (0.07, 0.07)):
        f = blur(ridged(warped_fbm(rng, w, h, sc * w, 6, 0.2, 0.55), 5.0), 1.5)
        img += (f * env * (0.3 + 0.7 * smoothstep(0.3, 0.95, r)) * amp)[:, :, None] * col
    img += render_stars(w, h, np.array([w / 2 + 6, w / 2 - 12.0]), np.array([h / 2 - 4, h / 2 + 6.0]),
                        np.array([6.0, 5.0], F32), np.array([[0.9, 0.95, 1.0], [1.0, 0.95, 0.85]], F32), 0.8, 1.0)
    return tonemap(img, rng, stretch=10, sat=1.1)


def milky_way_density(rng, w, h, band_angle=0.25, band_width=0.35, offset=0.0, clumpy=1.0):
    X, Y = grid(w, h)
    ca, sa = math.cos(band_angle), math.sin(band_angle)
    across = (-X * sa + Y * ca) / h - offset
    band = np.exp(-(across / band_width) ** 2)
    clouds = np.exp(clumpy * fbm(rng, w, h, 0.3 * w, 8, 0.55))
    return band, clouds, across


@image("coalsack-dark-cloud", 1111)
def _coalsack(rng, w, h):
    band, clouds, across = milky_way_density(rng, w, h, 0.15, 0.5)
    dens = 0.25 + band * clouds
    img = star_field(rng, w, h, 90000, density=dens, fmin=0.02, fmax=4, alpha=1.8, glow=0.6)
    img += star_field(rng, w, h, 2500, density=dens, fmin=0.2, fmax=40, alpha=1.3, spikes=4)
    img += (blur(dens, 3) * 0.03)[:, :, None] * rgb(1.0, 0.9, 0.8)
    X, Y = grid(w, h, 0.45 * w, 0.55 * h)
    n = fbm(rng, w, h, 0.15 * w, 8, 0.6)
    shape = np.sqrt((X / (0.25 * w)) ** 2 + (Y / (0.3 * h)) ** 2) + 0.35 * n
    streams = smoothstep(0.9, 2.2, fbm(rng, w, h, 0.25 * w, 8, 0.6, aspect=2.5)) * 1.5
    tau = 4.0 * smoothstep(1.15, 0.55, shape) + streams * band
    img *= extinction(tau)
    img += (smoothstep(1.2, 0.7, shape) * 0.004)[:, :, None] * rgb(0.6, 0.45, 0.35)
    img += star_field(rng, w, h, 1200, fmin=0.03, fmax=25, alpha=1.5, spikes=3)
    return tonemap(img, rng, stretch=9, sat=1.05)


# ---------------------------------------------------------------------------
# galaxies
# ---------------------------------------------------------------------------

OLD = rgb(1.0, 0.80, 0.58)
YOUNG = rgb(0.58, 0.72, 1.0)
BULGE = rgb(1.0, 0.76, 0.50)
HII = rgb(1.0, 0.32, 0.50)


def sersic(r, re, n):
    b = 2 * n - 1 / 3
    return np.exp(-b * ((np.maximum(r, 1e-4) / re) ** (1 / n) - 1))


def spiral_galaxy(rng, w, h, *, cx, cy, R, incl=30, pa=0.0, arms=2, pitch=15, rd=0.3, armsharp=3.0,
                  arm_warp=0.5, bulge=1.0, bulge_re=0.08, bulge_n=2.5, bar=0.0, bar_len=0.3,
                  dust=1.0, hii=300, flocc=0.0, young=1.0, ring=0.0, level=0.12):
    """Light (HxWx3, linear) of a spiral galaxy seen at inclination ``incl`` degrees."""
    ci = math.cos(math.radians(incl))
    X, Y = grid(w, h, cx, cy)
    u = X * math.cos(pa) + Y * math.sin(pa)
    v = -X * math.sin(pa) + Y * math.cos(pa)
    xp = u / R
    yp = v / (R * ci)
    r = np.sqrt(xp * xp + yp * yp) + 1e-4
    th = np.arctan2(yp, xp)
    # noise fields live in the galaxy plane so they foreshorten with it
    N = 768
    def plane_noise(scale, octaves=7, pers=0.6):
        f = fbm(rng, N, N, scale * N / 4, octaves, pers)
        return sample(f, (xp + 2) / 4 * N, (yp + 2) / 4 * N)
    nw = plane_noise(0.6, 4, 0.5)
    clump = plane_noise(0.15, 7, 0.65)
    fine = plane_noise(0.05, 6, 0.6)
    r0 = max(bar_len, 0.05) if bar else 0.1
    tp = math.tan(math.radians(pitch))
    ba = rng.uniform(0, math.pi) if bar else 0.0
    phase = arms * (th - ba - np.log(r / r0) / tp) + arm_warp * nw + flocc * 3.0 * clump
    arm = ((1 + np.cos(phase)) / 2) ** armsharp
    disk = np.exp(-r / rd)
    on = smoothstep(r0 * 0.6, r0 * 1.4, r) * smoothstep(1.3, 0.8, r)
    ya = disk ** 0.6 * arm * on * 2.0
    ya *= np.exp(0.45 * clump) * (0.85 + 0.15 * fine)
    if ring:
        ya += ring * np.exp(-((r - 0.55) / 0.06) ** 2) * np.exp(0.8 * clump)
    old = disk * (0.55 + 0.45 * arm * on) * (0.9 + 0.1 * clump)
    # dust: leading edge of the arms plus a flocculent web
    dphase = phase + 0.7
    darm = ((1 + np.cos(dphase)) / 2) ** (armsharp * 2.5)
    web = ridged(plane_noise(0.12, 7, 0.6), 4.0)
    tau = dust * (2.0 * darm * on + 0.8 * web * (0.3 + 0.5 * flocc)) * disk ** 0.4 * smoothstep(0.05, 0.25, r)
    tau *= smoothstep(-1.0, 1.0, clump + 0.6 * fine) * 1.5
    # bulge (a flattened spheroid) and bar
    qb = math.sqrt(ci ** 2 + 0.55 ** 2 * (1 - ci ** 2))
    rb = np.sqrt((u / R) ** 2 + (v / (R * qb)) ** 2)
    bul = sersic(rb, bulge_re, bulge_n) * bulge
    if bar:
        bx = xp * math.cos(ba) + yp * math.sin(ba)
        by = -xp * math.sin(ba) + yp * math.cos(ba)
        bul = bul + bar * np.exp(-(bx / bar_len) ** 2 - (by / (bar_len * 0.22)) ** 2) * 0.6
    light_disk = old[:, :, None] * OLD * 0.8 + ya[:, :, None] * YOUNG * young
    light_bulge = bul[:, :, None] * BULGE * 0.5
    near = smoothstep(-0.05, 0.05, v / R) if incl > 40 else np.full((h, w), 0.5, F32)
    ext = extinction(tau)
    ext_b = extinction(tau * (0.15 + 0.85 * near))
    img = (light_disk * ext + light_bulge * ext_b) * level
    # HII regions and young clusters along the arms
    if hii:
        dens = (ya / (ya.max() + 1e-6)) ** 2.5
        xs, ys = positions_from_density(rng, dens, hii)
        sz = R / 500
        sig = sz * rng.uniform(0.7, 1.8, hii)
        amps = level * 1.3 * rng.uniform(0.2, 1.0, hii) ** 2
        cols = np.where(rng.random(hii)[:, None] < 0.6, HII, rgb(0.75, 0.85, 1.0))
        gaussian_blobs(img, xs, ys, sig, amps, cols)
    return img


def galaxy_scene(rng, w, h, bg_stars=4000, galaxies=80, fg=40):
    img = star_field(rng, w, h, bg_stars, fmin=0.02, fmax=3, alpha=1.6, glow=0.5)
    background_galaxies(rng, img, galaxies)
    return img


def foreground_stars(rng, w, h, n=40, fmax=60):
    return star_field(rng, w, h, n, fmin=0.2, fmax=fmax, alpha=1.2, spikes=5, spike_len=0.8)


@image("grand-design-spiral-galaxy", 1201)
def _grand_design(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.42 * h * 1.3, incl=25, pa=0.4, arms=2,
                         pitch=17, armsharp=3.0, hii=500, dust=1.0)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.15)


@image("tilted-spiral-galaxy", 1202)
def _tilted(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.55 * w, incl=68, pa=-0.45, arms=2,
                         pitch=12, armsharp=2.0, arm_warp=0.9, hii=350, dust=1.5, bulge=1.4, bulge_re=0.07)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


@image("barred-spiral-galaxy", 1203, (1600, 1200))
def _barred(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.42 * h, incl=35, pa=1.2, arms=2,
                         pitch=20, bar=3.0, bar_len=0.32, armsharp=2.5, hii=400, bulge=0.8,
                         bulge_re=0.05, dust=1.3)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.15)


@image("flocculent-spiral-galaxy", 1204)
def _flocculent(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.5 * h * 1.2, incl=45, pa=2.4, arms=4,
                         pitch=24, flocc=0.35, arm_warp=1.5, armsharp=2.0, hii=700, bulge=0.7, bulge_re=0.06, dust=1.4,
                         young=1.2)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


def elliptical_light(w, h, cx, cy, re, q, pa, n=4.0, amp=1.0):
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
    r = scale * rng.pareto(1.6, n) + scale * 0.2
    t = rng.uniform(0, 2 * math.pi, n)
    xs = cx + r * np.cos(t)
    ys = cy + r * np.sin(t) * 0.85
    flux = power_flux(rng, n, 0.05, 0.6, 2.0) * level
    cols = 0.7 * star_colour(rng.uniform(4500, 6500, n)) + 0.3
    return render_stars(w, h, xs, ys, flux, cols, 0.8, 0.3)


@image("giant-elliptical-galaxy", 1205)
def _giant_elliptical(rng, w, h):
    img = galaxy_scene(rng, w, h, galaxies=160)
    img += elliptical_light(w, h, 0.5 * w, 0.5 * h, 0.12 * h, 0.78, 0.3, 4.0, 0.25)
    img += elliptical_light(w, h, 0.78 * w, 0.3 * h, 0.03 * h, 0.6, 1.1, 3.0, 0.08)
    img += elliptical_light(w, h, 0.22 * w, 0.72 * h, 0.02 * h, 0.8, 0.2, 2.5, 0.06)
    img += globular_swarm(rng, w, h, 0.5 * w, 0.5 * h, 1400, 0.06 * h, 1.0)
    img += foreground_stars(rng, w, h, 25)
    return tonemap(img, rng, stretch=40, sat=1.05)


@image("dusty-elliptical-galaxy", 1206, (1600, 1200))
def _centaurus(rng, w, h):
    img = galaxy_scene(rng, w, h, bg_stars=9000, galaxies=40)
    img += star_field(rng, w, h, 400, fmin=0.2, fmax=30, alpha=1.3, spikes=6)
    img += elliptical_light(w, h, 0.5 * w, 0.5 * h, 0.14 * h, 0.9, 0.0, 3.5, 0.22)
    X, Y = grid(w, h)
    a = -0.6
    u = (X * math.cos(a) + Y * math.sin(a)) / h
    v = (-X * math.sin(a) + Y * math.cos(a)) / h
    warp = 0.05 * np.tanh(u / 0.15) - 0.03 * u
    n = fbm(rng, w, h, 0.05 * w, 7, 0.62)
    lane = np.exp(-((v - warp) / (0.055 + 0.02 * np.abs(u) / 0.3)) ** 2) * smoothstep(0.42, 0.2, np.abs(u))
    tau = lane * 3.0 * np.exp(0.6 * n) * (0.75 + 0.25 * np.cos(u * 25 + 0.5 * n))
    young = lane * smoothstep(0.5, 1.5, n) * 0.02
    img = img * extinction(tau)
    img += young[:, :, None] * rgb(1.0, 0.45, 0.6)
    return tonemap(img, rng, stretch=35, sat=1.15)


@image("edge-on-spiral-dust-lane", 1207)
def _edge_on(rng, w, h):
    img = galaxy_scene(rng, w, h)
    X, Y = grid(w, h)
    a = 0.12
    u = (X * math.cos(a) + Y * math.sin(a)) / w
    z = (-X * math.sin(a) + Y * math.cos(a)) / w
    n = fbm(rng, w, h, 0.06 * w, 7, 0.6, aspect=3)
    disk = np.exp(-np.abs(u) / 0.13) / np.cosh(z / 0.018) ** 2
    thick = np.exp(-np.abs(u) / 0.15) / np.cosh(z / 0.05) ** 2 * 0.35
    bulge = sersic(np.sqrt(u ** 2 + (z / 0.7) ** 2), 0.04, 2.0) * 0.3
    light = disk[:, :, None] * rgb(0.85, 0.85, 0.95) + thick[:, :, None] * OLD + bulge[:, :, None] * BULGE
    lane = np.exp(-((z - 0.003) / 0.009) ** 2) * np.exp(-np.abs(u) / 0.2) * smoothstep(0.45, 0.3, np.abs(u))
    tau = lane * 5.0 * (0.55 + 0.45 * np.exp(0.5 * n)) + 0.8 * smoothstep(1.0, 2.0, n) * np.exp(-(z / 0.02) ** 2) * disk ** 0.2
    img += light * 0.3 * extinction(tau)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=40, sat=1.1)


@image("sombrero-style-galaxy", 1208)
def _sombrero(rng, w, h):
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
    light = bulge[:, :, None] * rgb(1.0, 0.84, 0.66) + disk[:, :, None] * OLD + (ring * 0.15)[:, :, None] * rgb(1.0, 0.9, 0.8)
    near = smoothstep(-0.002, 0.004, v)
    tau = ring * 3.5 * (0.75 + 0.25 * smoothstep(-1, 1, n))
    img += light * 0.3 * extinction(tau * (0.1 + 0.9 * near))
    img += globular_swarm(rng, w, h, 0.5 * w, 0.5 * h, 700, 0.05 * w, 0.8)
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


@image("ring-galaxy", 1209, (1400, 1400))
def _ring(rng, w, h):
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


@image("interacting-galaxy-pair", 1210)
def _interacting(rng, w, h):
    img = galaxy_scene(rng, w, h)
    img += spiral_galaxy(rng, w, h, cx=0.38 * w, cy=0.55 * h, R=0.3 * w, incl=30, pa=0.2, arms=2, pitch=20,
                         armsharp=2.0, arm_warp=1.2, hii=300, dust=1.0, rd=0.35)
    img += spiral_galaxy(rng, w, h, cx=0.72 * w, cy=0.36 * h, R=0.12 * w, incl=55, pa=1.0, arms=2, pitch=25,
                         armsharp=1.5, arm_warp=1.5, hii=80, bulge=1.5, dust=1.2)
    # tidal tail curling away from the pair
    t = np.linspace(0, 1, 400)
    px = (0.38 + 0.5 * t - 0.1 * t ** 2) * w
    py = (0.55 + 0.35 * np.sin(t * 2.6)) * h
    acc = np.zeros((h, w), F32)
    for x, y, tt in zip(px, py, t):
        ix, iy = int(x), int(y)
        if 0 <= ix < w and 0 <= iy < h:
            acc[iy, ix] += (1 - tt) ** 1.5
    tail = blur(acc, 18) * 30 * np.exp(0.5 * fbm(rng, w, h, 0.05 * w, 6, 0.6))
    img += tail[:, :, None] * rgb(0.7, 0.8, 1.0) * 0.02
    img += foreground_stars(rng, w, h, 30)
    return tonemap(img, rng, stretch=30, sat=1.1)


@image("galaxy-cluster-lensing-arcs", 1211)
def _cluster_lensing(rng, w, h):
    img = galaxy_scene(rng, w, h, bg_stars=1500, galaxies=350)
    cx, cy = 0.5 * w, 0.5 * h
    img += elliptical_light(w, h, cx, cy, 0.06 * h, 0.75, 0.5, 4.0, 0.2)
    for _ in range(28):
        r = abs(rng.normal(0, 0.22)) * w
        t = rng.uniform(0, 2 * math.pi)
        img += elliptical_light(w, h, cx + r * math.cos(t), cy + r * math.sin(t) * 0.7,
                                rng.uniform(0.006, 0.02) * h, rng.uniform(0.5, 1.0), rng.uniform(0, 3.1),
                                rng.uniform(2.5, 4.0), rng.uniform(0.05, 0.2))
    # strongly lensed background galaxies: thin tangential arcs
    X, Y = grid(w, h, cx, cy)
    rr = np.sqrt(X * X + (Y / 0.85) ** 2)
    th = np.arctan2(Y / 0.85, X)
    arcs = np.zeros((h, w), F32)
    for r0, t0, span, wd in ((0.2, 0.6, 0.5, 2.0), (0.2, 3.7, 0.3, 1.6), (0.28, 2.2, 0.25, 2.4), (0.15, 5.1, 0.35, 1.4)):
        dth = np.angle(np.exp(1j * (th - t0)))
        arcs += np.exp(-((rr - r0 * h) / wd) ** 2) * np.exp(-(dth / span) ** 2)
    knots = np.exp(0.8 * fbm(rng, w, h, 0.01 * w, 4, 0.6))
    img += (arcs * knots * 0.15)[:, :, None] * rgb(0.55, 0.7, 1.0)
    img += foreground_stars(rng, w, h, 15)
    return tonemap(img, rng, stretch=40, sat=1.15)


# ---------------------------------------------------------------------------
# planets and moons
# ---------------------------------------------------------------------------

def unit(v):
    v = np.asarray(v, F32)
    return v / np.linalg.norm(v)


def body_matrix(tilt=0.0, tip=0.0, spin=0.0):
    """Rotation taking body coordinates (y = spin axis) to view coordinates
    (x right, y up, z towards the viewer).  Angles in degrees."""
    a, b, c = (math.radians(t) for t in (tilt, tip, spin))
    Ry = np.array([[math.cos(c), 0, math.sin(c)], [0, 1, 0], [-math.sin(c), 0, math.cos(c)]], F32)
    Rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]], F32)
    Rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]], F32)
    return Rz @ Rx @ Ry


class Sphere:
    def __init__(self, w, h, cx, cy, R, M):
        self.w, self.h, self.cx, self.cy, self.R, self.M = w, h, cx, cy, R, M
        yy, xx = np.mgrid[0:h, 0:w].astype(F32)
        self.X = (xx + 0.5 - cx) / R
        self.Y = -(yy + 0.5 - cy) / R
        rr = self.X ** 2 + self.Y ** 2
        self.rad = np.sqrt(rr)
        self.alpha = np.clip((1 - self.rad) * R + 0.5, 0, 1).astype(F32)
        self.Z = np.sqrt(np.clip(1 - rr, 0, 1)).astype(F32)
        N = np.stack([self.X, self.Y, self.Z], -1)
        N /= np.maximum(np.linalg.norm(N, axis=-1, keepdims=True), 1e-6)
        self.N = N
        B = N @ M  # body coordinates (M is orthonormal: inverse = transpose)
        self.lat = np.arcsin(np.clip(B[..., 1], -1, 1))
        self.lon = np.arctan2(B[..., 0], B[..., 2])

    def tex(self, T):
        th, tw = T.shape[:2]
        x = (self.lon / (2 * math.pi) + 0.5) * (tw - 1)
        y = (0.5 - self.lat / math.pi) * (th - 1)
        if T.ndim == 2:
            return sample(T, x, y)
        return np.stack([sample(T[..., c], x, y) for c in range(T.shape[2])], -1)

    def ndl(self, L):
        return self.N @ unit(L)


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


def gas_giant_texture(rng, palette, n_bands=18, turb=0.035, storms=(), TW=2048, TH=1024, sharp=1.2,
                      detail=0.12):
    lat_p, prof = band_profile(rng, n_bands, sharp)
    lon = np.linspace(-math.pi, math.pi, TW, dtype=F32)[None, :]
    lat = np.linspace(math.pi / 2, -math.pi / 2, TH, dtype=F32)[:, None]
    lon = np.broadcast_to(lon, (TH, TW))
    lat = np.broadcast_to(lat, (TH, TW))
    n = warped_fbm(rng, TW, TH, TH / 5, 8, 0.3, 0.55, aspect=3.0)
    shear = np.interp(lat, lat_p, np.gradient(prof)) * 400
    latw = lat + turb * n * (0.4 + np.abs(shear).clip(0, 1.5))
    storm_col = np.zeros((TH, TW), F32)
    lonw = lon.copy()
    for lo0, la0, rs, swirl, strength in storms:
        dx = np.angle(np.exp(1j * (lon - lo0))) * math.cos(la0)
        dy = latw - la0
        d2 = (dx / (rs * 1.7)) ** 2 + (dy / rs) ** 2
        ang = swirl * np.exp(-d2 * 1.5)
        ca, sa = np.cos(ang), np.sin(ang)
        rx = dx * ca - dy * sa * 1.7
        ry = dx * sa / 1.7 + dy * ca
        latw = np.where(d2 < 6, la0 + ry, latw)
        lonw = np.where(d2 < 6, lo0 + rx / max(math.cos(la0), 0.2), lonw)
        storm_col += strength * np.exp(-d2 * 2.0)
    t = np.interp(latw, lat_p, prof)
    col = lerp_palette(t, palette)
    fine = fbm(rng, TW, TH, TH / 30, 6, 0.6, aspect=5.0)
    col *= (1 + detail * fine)[:, :, None]
    return col.astype(F32), storm_col


def ring_profile(rng, n=1024, gaps=((0.62, 0.03),), base=0.7):
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


def render_planet(w, h, *, cx, cy, R, M, albedo, L, limb=0.3, atmo=None, atmo_w=0.04,
                  rings=None, bg=None, night=None, spec=None, crescent_glow=0.0, shadow_from=None):
    """Composite a lit sphere (+ optional rings) over ``bg``.  ``albedo`` is HxWx3 sampled on the
    sphere; ``rings`` = (r_in, r_out, profile_x, profile_op, colour)."""
    sp = Sphere(w, h, cx, cy, R, M)
    Lv = unit(L)
    ndl = sp.ndl(Lv)
    lit = np.clip(ndl, 0, None) ** 0.9 * smoothstep(-0.02, 0.08, ndl)
    mu = sp.Z
    shade = lit * (0.35 + 0.65 * mu ** limb) if limb else lit
    if rings is not None:
        r_in, r_out, px, pop, rcol = rings
        Nr = M @ np.array([0, 1, 0], F32)  # ring plane normal = spin axis
        # shadow of the rings on the planet
        S = sp.N
        denom = float(Lv @ Nr)
        if abs(denom) > 1e-3:
            t = -(S @ Nr) / denom
            P = S + t[..., None] * Lv
            rp = np.linalg.norm(P, axis=-1)
            opac = np.interp((rp - r_in) / (r_out - r_in), px, pop, left=0, right=0)
            shade = shade * (1 - 0.85 * opac * (t > 0))
    col = albedo * shade[..., None]
    if spec is not None:
        Hh = unit(Lv + np.array([0, 0, 1], F32))
        ndh = np.clip(sp.N @ Hh, 0, 1)
        col += (spec * ndh ** 60 * (ndl > 0))[..., None] * 0.6
    if night is not None:
        col += night * smoothstep(0.05, -0.15, ndl)[..., None]
    if atmo is not None:
        # haze inside the limb and a thin glow outside it
        rim_in = (1 - mu) ** 3 * smoothstep(-0.25, 0.3, ndl)
        col += rim_in[..., None] * atmo * 0.6
    out = bg.copy() if bg is not None else np.zeros((h, w, 3), F32)
    planet_rgb = col
    a = sp.alpha[..., None]
    if atmo is not None or crescent_glow:
        d = np.clip(sp.rad - 1, 0, None)
        nx, ny = sp.X / np.maximum(sp.rad, 1e-6), sp.Y / np.maximum(sp.rad, 1e-6)
        edge_lit = smoothstep(-0.35, 0.4, nx * Lv[0] + ny * Lv[1] + 0.3 * Lv[2])
        fwd = np.clip(-Lv[2], 0, 1)
        glow = np.exp(-d / atmo_w) * (sp.rad >= 1) * (edge_lit * (1 + 4 * fwd * crescent_glow))
        ac = atmo if atmo is not None else rgb(0.8, 0.85, 1.0)
        out += glow[..., None] * ac * 0.5
    if rings is None:
        return out * (1 - a) + planet_rgb * a
    # ring geometry (orthographic view along -z)
    X, Y = sp.X, sp.Y
    zr = -(X * Nr[0] + Y * Nr[1]) / (Nr[2] if abs(Nr[2]) > 1e-4 else 1e-4)
    P = np.stack([X, Y, zr], -1)
    rr = np.linalg.norm(P, axis=-1)
    op = np.interp((rr - r_in) / (r_out - r_in), px, pop, left=0, right=0).astype(F32)
    # planet shadow on the rings
    b = P @ Lv
    c = rr ** 2 - 1
    disc = b * b - c
    in_shadow = (b < 0) & (disc > 0)
    closest = np.sqrt(np.clip(c - b * b, 0, None))
    sh = np.where(b < 0, smoothstep(0.97, 1.03, closest), 1.0)
    lit_side = abs(float(Nr @ Lv))
    same_side = (float(Nr @ Lv) * float(Nr[2])) > 0
    rbright = (0.25 + 0.75 * lit_side) if same_side else 0.35 * lit_side + 0.05
    tcol = np.interp((rr - r_in) / (r_out - r_in), [0, 0.5, 1], [0.75, 1.0, 0.85])
    ring_rgb = (op * sh * rbright * tcol)[..., None] * rcol
    ring_a = np.clip(op * 0.95, 0, 1)[..., None]
    front = (zr > sp.Z) | (sp.rad >= 1)
    behind_planet = out * (1 - ring_a) + ring_rgb * ring_a
    behind_planet = behind_planet * (1 - a) + planet_rgb * a
    over_planet = out * (1 - a) + planet_rgb * a
    over_planet = over_planet * (1 - ring_a) + ring_rgb * ring_a
    return np.where(front[..., None], over_planet, behind_planet)


def faint_sky(rng, w, h, n=1500):
    return star_field(rng, w, h, n, fmin=0.02, fmax=4, alpha=1.6, glow=0.4)


JUPITER = [(0.0, (0.55, 0.38, 0.25)), (0.3, (0.80, 0.62, 0.45)), (0.55, (0.93, 0.86, 0.74)),
           (0.75, (0.75, 0.55, 0.38)), (1.0, (0.98, 0.95, 0.88))]
SATURN = [(0.0, (0.70, 0.60, 0.42)), (0.4, (0.86, 0.77, 0.58)), (0.7, (0.93, 0.86, 0.68)),
          (1.0, (0.98, 0.93, 0.80))]
NEPTUNE = [(0.0, (0.12, 0.25, 0.65)), (0.5, (0.22, 0.42, 0.85)), (0.85, (0.40, 0.60, 0.95)),
           (1.0, (0.85, 0.92, 1.0))]
URANUS = [(0.0, (0.55, 0.78, 0.80)), (0.6, (0.65, 0.86, 0.88)), (1.0, (0.78, 0.93, 0.93))]


@image("banded-gas-giant-storm", 1301, (1600, 1200))
def _jupiter(rng, w, h):
    tex, storm = gas_giant_texture(rng, JUPITER, 20, 0.035, storms=[(0.4, -0.38, 0.09, 2.5, 1.0),
                                                                    (-0.9, 0.55, 0.04, 2.0, 0.3)])
    tex = tex * (1 - 0.4 * storm[..., None]) + storm[..., None] * rgb(0.75, 0.35, 0.2) * 0.4
    sp = Sphere(w, h, 0.5 * w, 0.5 * h, 0.44 * h, body_matrix(-8, 8, 0))
    alb = sp.tex(tex)
    img = render_planet(w, h, cx=0.5 * w, cy=0.5 * h, R=0.44 * h, M=body_matrix(-8, 8, 0), albedo=alb,
                        L=(-0.55, 0.25, 0.8), limb=0.35, bg=faint_sky(rng, w, h), atmo=rgb(0.5, 0.45, 0.4),
                        atmo_w=0.01)
    return tonemap(img * 0.9, rng, stretch=2.0, sat=1.05, grain=0.004)


@image("ringed-planet-dawn", 1302)
def _saturn(rng, w, h):
    M = body_matrix(-18, 22, 0)
    tex, _ = gas_giant_texture(rng, SATURN, 14, 0.02, sharp=0.8, detail=0.06)
    cx, cy, R = 0.5 * w, 0.52 * h, 0.26 * h
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    px, pop = ring_profile(rng, gaps=((0.62, 0.025), (0.9, 0.008)))
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(0.75, 0.35, 0.45), limb=0.3,
                        rings=(1.25, 2.35, px, pop, rgb(0.92, 0.84, 0.70)), bg=faint_sky(rng, w, h, 1200))
    return tonemap(img, rng, stretch=2.0, sat=1.05, grain=0.004)


@image("ice-giant-blue", 1303, (1400, 1400))
def _neptune(rng, w, h):
    M = body_matrix(10, 15, 0)
    tex, storm = gas_giant_texture(rng, NEPTUNE, 10, 0.02, storms=[(0.3, -0.35, 0.07, 1.5, 1.0)], sharp=0.7,
                                   detail=0.05)
    tex = tex * (1 - 0.6 * storm[..., None])
    # bright high-altitude cirrus streaks
    cir = smoothstep(1.2, 2.2, fbm(rng, 2048, 1024, 60, 6, 0.5, aspect=8.0))
    tex = tex + cir[..., None] * rgb(0.9, 0.95, 1.0) * 0.7
    cx = cy = 0.5 * w
    R = 0.36 * w
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(-0.6, 0.3, 0.75), limb=0.6,
                        atmo=rgb(0.35, 0.55, 1.0), atmo_w=0.02, bg=faint_sky(rng, w, h, 1500))
    return tonemap(img, rng, stretch=2.0, sat=1.05, grain=0.004)


@image("tilted-ice-giant-rings", 1304)
def _uranus(rng, w, h):
    M = body_matrix(75, 25, 0)
    tex, _ = gas_giant_texture(rng, URANUS, 6, 0.01, sharp=0.5, detail=0.03)
    cx, cy, R = 0.5 * w, 0.5 * h, 0.25 * h
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    x = np.linspace(0, 1, 1024)
    pop = np.zeros_like(x)
    for c, wd, a in ((0.1, 0.004, 0.5), (0.3, 0.003, 0.4), (0.45, 0.004, 0.5), (0.62, 0.003, 0.4),
                     (0.95, 0.012, 0.8)):
        pop += a * np.exp(-((x - c) / wd) ** 2)
    pop += 0.05 * smoothstep(0, 0.2, x) * smoothstep(1, 0.9, x)
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(-0.3, 0.5, 0.8), limb=0.5,
                        atmo=rgb(0.5, 0.8, 0.85), atmo_w=0.02,
                        rings=(1.6, 2.1, x, np.clip(pop, 0, 1), rgb(0.7, 0.72, 0.75)),
                        bg=faint_sky(rng, w, h, 2500))
    return tonemap(img, rng, stretch=2.5, sat=1.05, grain=0.004)


@image("gas-giant-crescent", 1305)
def _crescent_giant(rng, w, h):
    M = body_matrix(20, 10, 0)
    tex, _ = gas_giant_texture(rng, SATURN, 16, 0.03, sharp=1.0)
    cx, cy, R = 0.62 * w, 0.62 * h, 0.7 * h
    alb = Sphere(w, h, cx, cy, R, M).tex(tex)
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(-0.75, 0.45, -0.48), limb=0.2,
                        atmo=rgb(1.0, 0.8, 0.55), atmo_w=0.008, crescent_glow=1.0,
                        bg=star_field(rng, w, h, 5000, fmin=0.03, fmax=10, alpha=1.5))
    return tonemap(img * 1.6, rng, stretch=3.0, sat=1.1, grain=0.004)


def crater_field(rng, sp, n, amin, amax, slope=2.0, depth=0.25, fresh=0.6, mask=None):
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
        if czv < -0.1:
            continue
        px = sp.cx + cxv * R
        py = sp.cy - cyv * R
        rad = int(ai * R * 1.8) + 3
        x0, x1 = max(0, int(px) - rad), min(w, int(px) + rad + 1)
        y0, y1 = max(0, int(py) - rad), min(h, int(py) + rad + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        N = sp.N[y0:y1, x0:x1]
        d = np.arccos(np.clip(N @ np.array([cxv, cyv, czv], F32), -1, 1)) / ai
        f = fresh * rng.random() + (1 - fresh) * 0.3
        bowl = np.where(d < 1, (d ** 2 - 1) * depth, 0)
        rim = 0.35 * depth * np.exp(-((d - 1) / 0.22) ** 2)
        ej = 0.05 * depth * np.exp(-(d - 1) * 2.5) * (d > 1)
        peak = 0.25 * depth * np.exp(-(d / 0.18) ** 2) * (ai > amax * 0.3)
        H[y0:y1, x0:x1] += ai * f * (bowl + rim + ej + peak) * sp.alpha[y0:y1, x0:x1]
    return H


def bumped_shade(sp, H, L, strength=1.0):
    gy, gx = np.gradient(H * sp.R)
    n = sp.N.copy()
    n[..., 0] -= strength * gx
    n[..., 1] += strength * gy
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)
    return n @ unit(L)


def rocky_body(rng, w, h, *, cx, cy, R, L, M, albedo_tex, craters=600, amin=0.006, amax=0.22,
               depth=0.25, bump=1.0, bg=None, crater_mask_tex=None):
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
    a = sp.alpha[..., None]
    return out * (1 - a) + col * a


def surface_tex(rng, palette, scale=200, TW=2048, TH=1024, contrast=1.0, pers=0.6):
    n = fbm(rng, TW, TH, scale, 9, pers)
    return lerp_palette(0.5 + 0.25 * contrast * n, palette), n


@image("cratered-grey-moon", 1401, (1400, 1400))
def _grey_moon(rng, w, h):
    tex, n = surface_tex(rng, [(0, (0.42, 0.41, 0.40)), (1, (0.78, 0.77, 0.75))], 300)
    maria = smoothstep(0.3, 0.9, fbm(rng, 2048, 1024, 350, 5, 0.5))
    tex = tex * (1 - 0.55 * maria[..., None])
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.43 * w, L=(0.85, 0.15, 0.45),
                     M=body_matrix(0, 5, 0), albedo_tex=tex, craters=1400, amax=0.18, depth=0.15, bump=0.8,
                     crater_mask_tex=1 - 0.6 * maria, bg=faint_sky(rng, w, h, 600))
    return tonemap(img * 1.1, rng, stretch=1.5, sat=0.9, grain=0.004)


@image("crescent-moon-craters", 1402)
def _crescent_moon(rng, w, h):
    tex, n = surface_tex(rng, [(0, (0.50, 0.46, 0.42)), (1, (0.80, 0.76, 0.70))], 250)
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.44 * h, L=(0.93, 0.2, -0.3),
                     M=body_matrix(20, -10, 0), albedo_tex=tex, craters=2200, amax=0.12, depth=0.35,
                     bump=1.6, bg=star_field(rng, w, h, 3000, fmin=0.03, fmax=10, alpha=1.5))
    return tonemap(img * 1.2, rng, stretch=2.0, sat=0.9, grain=0.004)


@image("icy-moon-cracks", 1403, (1400, 1400))
def _europa(rng, w, h):
    TW, TH = 2048, 1024
    tex, n = surface_tex(rng, [(0, (0.72, 0.62, 0.52)), (0.5, (0.88, 0.84, 0.78)), (1, (0.96, 0.95, 0.93))], 250)
    lines = np.zeros((TH, TW), F32)
    for k in range(5):
        f = fbm(rng, TW, TH, 300, 5, 0.5, aspect=rng.uniform(0.5, 3))
        lines = np.maximum(lines, ridged(f * 2.5, 30.0) * rng.uniform(0.5, 1.0))
    chaos = smoothstep(1.0, 1.8, fbm(rng, TW, TH, 120, 6, 0.6))
    tex = tex * (1 - 0.55 * lines[..., None] * rgb(0.3, 0.6, 0.8)) * (1 - 0.3 * chaos[..., None] * rgb(0.2, 0.5, 0.7))
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.42 * w, L=(-0.5, 0.35, 0.8),
                     M=body_matrix(-5, 12, 0), albedo_tex=tex, craters=40, amax=0.05, depth=0.15,
                     bg=faint_sky(rng, w, h, 800))
    return tonemap(img, rng, stretch=1.5, sat=1.0, grain=0.004)


@image("sulfur-volcanic-moon", 1404, (1400, 1400))
def _io(rng, w, h):
    TW, TH = 2048, 1024
    tex, n = surface_tex(rng, [(0, (0.78, 0.58, 0.22)), (0.5, (0.92, 0.82, 0.40)), (0.8, (0.95, 0.92, 0.65)),
                               (1, (0.85, 0.88, 0.70))], 200, contrast=1.3)
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
    tex = tex * (1 - 0.4 * pol[..., None] * rgb(0.3, 0.4, 0.5))
    img = rocky_body(rng, w, h, cx=0.5 * w, cy=0.5 * h, R=0.42 * w, L=(0.55, 0.3, 0.78),
                     M=body_matrix(3, 5, 0), albedo_tex=tex, craters=0, bg=faint_sky(rng, w, h, 800))
    return tonemap(img, rng, stretch=1.5, sat=1.05, grain=0.004)


@image("ocean-world-clouds", 1405, (1400, 1400))
def _ocean_world(rng, w, h):
    TW, TH = 2048, 1024
    lat = np.linspace(90, -90, TH)[:, None] * np.ones((1, TW))
    land_n = fbm(rng, TW, TH, 260, 9, 0.55)
    land = smoothstep(0.15, 0.25, land_n)
    dry = smoothstep(0.2, 0.8, fbm(rng, TW, TH, 200, 6, 0.55) + np.cos(np.radians(lat) * 2 + 0.3) * 0.3)
    tex = lerp_palette(0.5 + 0.2 * fbm(rng, TW, TH, 60, 6, 0.6), [(0, (0.10, 0.22, 0.10)), (1, (0.30, 0.36, 0.18))])
    desert = rgb(0.70, 0.56, 0.38)
    tex = tex * (1 - dry[..., None]) + desert * dry[..., None] * (0.85 + 0.15 * fbm(rng, TW, TH, 40, 5, 0.6)[..., None])
    ocean = lerp_palette(smoothstep(-0.2, 0.2, land_n), [(0, (0.02, 0.06, 0.20)), (1, (0.04, 0.16, 0.32))])
    tex = ocean * (1 - land[..., None]) + tex * land[..., None]
    ice = smoothstep(68, 74, np.abs(lat) + 4 * fbm(rng, TW, TH, 80, 5, 0.6))
    tex = tex * (1 - ice[..., None]) + ice[..., None] * rgb(0.92, 0.94, 0.97)
    cl = fbm(rng, TW, TH, 90, 9, 0.62, aspect=2.2)
    streak = fbm(rng, TW, TH, 25, 6, 0.6, aspect=4.0)
    band = np.cos(np.radians(lat) * 3) ** 2
    clouds = smoothstep(0.0, 1.6, cl + 0.35 * streak + 0.4 * band) * 0.9
    tex = tex * (1 - clouds[..., None]) + clouds[..., None] * rgb(0.95, 0.96, 0.98)
    M = body_matrix(-15, 20, 30)
    cx = cy = 0.5 * w
    R = 0.4 * w
    sp = Sphere(w, h, cx, cy, R, M)
    alb = sp.tex(tex)
    spec = sp.tex((1 - land) * (1 - ice)) * (1 - sp.tex(clouds))
    img = render_planet(w, h, cx=cx, cy=cy, R=R, M=M, albedo=alb, L=(0.7, 0.25, 0.65), limb=0.15,
                        atmo=rgb(0.35, 0.55, 1.0), atmo_w=0.025, spec=spec * 0.5, bg=faint_sky(rng, w, h, 900))
    return tonemap(img, rng, stretch=2.0, sat=1.1, grain=0.004)


@image("red-desert-planet", 1406)
def _mars(rng, w, h):
    TW, TH = 2048, 1024
    tex, n = surface_tex(rng, [(0, (0.35, 0.16, 0.08)), (0.45, (0.62, 0.32, 0.16)), (0.7, (0.78, 0.48, 0.28)),
                               (1, (0.85, 0.62, 0.42))], 220, contrast=1.2)
    lat = np.linspace(90, -90, TH)[:, None] * np.ones((1, TW))
    cap = smoothstep(76, 80, lat + 3 * fbm(rng, TW, TH, 60, 5, 0.6))
    tex = tex * (1 - cap[..., None]) + cap[..., None] * rgb(0.95, 0.93, 0.9)
    cx, cy, R = 0.5 * w, 0.5 * h, 0.42 * h
    M = body_matrix(-20, 15, 0)
    bg = faint_sky(rng, w, h, 1200)
    img = rocky_body(rng, w, h, cx=cx, cy=cy, R=R, L=(-0.65, 0.3, 0.7), M=M, albedo_tex=tex, craters=500,
                     amax=0.08, depth=0.15, bump=0.8, bg=bg)
    # thin dusty atmosphere along the limb
    sp = Sphere(w, h, cx, cy, R, M)
    d = np.clip(sp.rad - 1, 0, None)
    glow = np.exp(-d / 0.01) * (sp.rad >= 1) * smoothstep(-0.3, 0.5, -sp.X * 0.65 + sp.Y * 0.3)
    img += glow[..., None] * rgb(1.0, 0.65, 0.45) * 0.25
    return tonemap(img, rng, stretch=1.8, sat=1.05, grain=0.004)


# ---------------------------------------------------------------------------
# star clusters and star fields
# ---------------------------------------------------------------------------

@image("globular-star-cluster", 1501, (1400, 1400))
def _globular(rng, w, h):
    img = star_field(rng, w, h, 3000, fmin=0.03, fmax=5, alpha=1.5)
    background_galaxies(rng, img, 30)
    n = 120000
    rc = 0.11 * w
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
    img += render_stars(w, h, xs, ys, flux, cols, 0.8, 1.0, spikes=12, spike_len=0.7, spike_angle=0.3)
    X, Y = grid(w, h)
    rr = np.sqrt(X * X + Y * Y)
    img += (0.08 / (1 + (rr / rc) ** 2) ** 1.5)[..., None] * rgb(1.0, 0.88, 0.7)  # unresolved core
    img += foreground_stars(rng, w, h, 10)
    return tonemap(img, rng, stretch=10, sat=1.1)


@image("young-open-star-cluster", 1502)
def _open_cluster(rng, w, h):
    band, clouds, _ = milky_way_density(rng, w, h, -0.3, 0.6)
    img = star_field(rng, w, h, 30000, density=0.3 + band * clouds, fmin=0.02, fmax=4, alpha=1.7, glow=0.6)
    n = 320
    xs = w * 0.5 + rng.normal(0, 0.11 * w, n)
    ys = h * 0.5 + rng.normal(0, 0.13 * h, n)
    flux = power_flux(rng, n, 0.8, 150, 0.9)
    cols = 0.7 * star_colour(rng.uniform(9000, 25000, n)) + 0.3
    img += render_stars(w, h, xs, ys, flux, cols, 0.8, 1.5, spikes=12, spike_len=0.7, spike_angle=0.12)
    # a couple of evolved orange giants among the blue stars
    img += render_stars(w, h, w * np.array([0.43, 0.6]), h * np.array([0.58, 0.37]), np.array([90.0, 60.0], F32),
                        0.7 * star_colour(np.array([3800, 4200])) + 0.3, 0.8, 1.5, spikes=2, spike_len=0.7,
                        spike_angle=0.12)
    neb = np.exp(1.2 * fbm(rng, w, h, 0.25 * w, 8, 0.6)) * np.exp(-((grid(w, h)[0] / (0.3 * w)) ** 2 + (grid(w, h)[1] / (0.3 * h)) ** 2))
    img += neb[..., None] * rgb(0.4, 0.55, 1.0) * 0.004
    return tonemap(img, rng, stretch=10, sat=1.15)


@image("milky-way-star-clouds", 1503)
def _milky_way(rng, w, h):
    band, clouds, across = milky_way_density(rng, w, h, -0.35, 0.35, clumpy=1.3)
    dens = 0.15 + band * clouds
    img = star_field(rng, w, h, 260000, density=dens, fmin=0.05, fmax=3, alpha=1.9, glow=0.4, psf=0.7)
    img += star_field(rng, w, h, 6000, density=dens, fmin=0.3, fmax=40, alpha=1.4, spikes=0)
    img += (blur(dens, 4) * 0.03)[..., None] * rgb(1.0, 0.9, 0.78)
    lane = np.exp(-((across + 0.03) / 0.12) ** 2)
    dn = warped_fbm(rng, w, h, 0.2 * w, 9, 0.35, 0.62, aspect=2.5)
    tau = lane * 2.5 * smoothstep(-0.4, 1.4, dn) + 0.8 * smoothstep(1.0, 2.2, dn)
    img *= extinction(tau)
    # scattered pink emission knots
    xs, ys = positions_from_density(rng, band * clouds ** 2, 12)
    gaussian_blobs(img, xs, ys, rng.uniform(4, 14, 12), rng.uniform(0.01, 0.04, 12), np.tile(HA, (12, 1)))
    return tonemap(img, rng, stretch=8, sat=1.15)


@image("galactic-center-star-fields", 1504)
def _galactic_center(rng, w, h):
    X, Y = grid(w, h, 0.55 * w, 0.5 * h)
    bulge = np.exp(-np.sqrt((X / (0.5 * w)) ** 2 + (Y / (0.3 * w)) ** 2) * 2.2)
    clouds = np.exp(1.0 * fbm(rng, w, h, 0.2 * w, 8, 0.55))
    dens = 0.1 + bulge * clouds
    img = star_field(rng, w, h, 320000, density=dens, fmin=0.02, fmax=3, alpha=1.9, glow=0.4, hot=0.1,
                     cool=0.45, psf=0.7)
    img += star_field(rng, w, h, 5000, density=dens, fmin=0.3, fmax=40, alpha=1.4, hot=0.1, cool=0.5)
    img += (blur(dens, 4) * 0.08)[..., None] * rgb(1.0, 0.8, 0.6)
    dn = warped_fbm(rng, w, h, 0.18 * w, 9, 0.4, 0.62, aspect=1.8)
    veins = blur(ridged(fbm(rng, w, h, 0.12 * w, 8, 0.6), 5.0), 1.5)
    tau = 3.0 * smoothstep(0.0, 1.5, dn) + 1.2 * veins * smoothstep(-0.5, 0.5, dn)
    img *= extinction(tau)
    xs, ys = positions_from_density(rng, dens ** 2, 10)
    gaussian_blobs(img, xs, ys, rng.uniform(5, 15, 10), rng.uniform(0.02, 0.05, 10), np.tile(HA, (10, 1)))
    return tonemap(img, rng, stretch=8, sat=1.1)


@image("gold-and-blue-double-star", 1505)
def _double_star(rng, w, h):
    img = star_field(rng, w, h, 20000, fmin=0.02, fmax=6, alpha=1.6, glow=0.6)
    img += star_field(rng, w, h, 120, fmin=0.3, fmax=20, alpha=1.3, spikes=6, spike_angle=0.785, spike_len=0.4)
    xs = np.array([0.47 * w, 0.56 * w])
    ys = np.array([0.52 * h, 0.44 * h])
    cols = np.array([[1.0, 0.72, 0.38], [0.55, 0.68, 1.0]], F32)
    img += render_stars(w, h, xs, ys, np.array([500.0, 200.0], F32), cols, 1.2, 3.0, spikes=2, spike_len=0.3,
                        spike_angle=0.785)
    X, Y = grid(w, h, xs[0], ys[0])
    img += (0.06 / (1 + (X * X + Y * Y) / 900.0))[..., None] * cols[0]
    X, Y = grid(w, h, xs[1], ys[1])
    img += (0.03 / (1 + (X * X + Y * Y) / 600.0))[..., None] * cols[1]
    return tonemap(img, rng, stretch=10, sat=1.3)


@image("comet-with-twin-tails", 1506)
def _comet(rng, w, h):
    img = star_field(rng, w, h, 25000, fmin=0.02, fmax=6, alpha=1.6, glow=0.6)
    img += star_field(rng, w, h, 200, fmin=0.3, fmax=25, alpha=1.3, spikes=0)
    hx, hy = 0.28 * w, 0.66 * h
    X, Y = grid(w, h, hx, hy)
    # tails point away from the (off-frame) sun: up and to the right
    a = math.radians(-28)
    u = X * math.cos(a) + Y * math.sin(a)
    v = -X * math.sin(a) + Y * math.cos(a)
    uu = np.clip(u, 0, None) / w
    ion = np.exp(-uu / 0.45) * np.exp(-(v / (3 + 0.04 * np.clip(u, 0, None))) ** 2) * (u > 0)
    streaks = 1 + 0.6 * fbm(rng, w, h, 0.3 * w, 6, 0.6, aspect=8.0)
    img += (ion * streaks * 0.08)[..., None] * rgb(0.35, 0.6, 1.0)
    # broad curved dust tail
    a2 = math.radians(-12)
    u2 = X * math.cos(a2) + Y * math.sin(a2)
    v2 = -X * math.sin(a2) + Y * math.cos(a2) + 0.00025 * np.clip(u2, 0, None) ** 2
    dust = np.exp(-np.clip(u2, 0, None) / (0.4 * w)) * np.exp(-(v2 / (6 + 0.12 * np.clip(u2, 0, None))) ** 2) * (u2 > 0)
    dust *= 1 + 0.25 * fbm(rng, w, h, 0.1 * w, 6, 0.5, aspect=6.0)
    img += (dust * 0.07)[..., None] * rgb(1.0, 0.88, 0.65)
    r2 = X * X + Y * Y
    img += (0.5 / (1 + r2 / 40.0) + 0.05 / (1 + r2 / 900.0))[..., None] * rgb(0.75, 1.0, 0.85)
    return tonemap(img, rng, stretch=10, sat=1.15)


# ---------------------------------------------------------------------------
# NASA images: compositions from packaged public-domain material
# ---------------------------------------------------------------------------

# output name -> (file under dat/gfx/bkg/, seed of the star-field backdrop, canvas size)
NAEV_NEBULAE = {
    "eagle-nebula-stellar-spire": ("nebula16.png", 2001, (1100, 1440)),
    "cone-nebula": ("nebula19.png", 2002, (1600, 1280)),
    "dark-dust-ridge-glowing-rim": ("nebula17.png", 2003, (1600, 1280)),
    "glowing-red-nebula-core": ("nebula10.png", 2004, (1600, 1280)),
    "dark-globule-violet-glow": ("nebula12.png", 2005, (1600, 1280)),
    "green-veiled-nebula": ("nebula02.png", 2006, (1600, 1280)),
    "blue-violet-gas-cloud": ("nebula04.png", 2007, (1600, 1280)),
}
HUBBLE_DEEP_FIELD = "hubble-extreme-deep-field"


def backdrop(seed, w, h):
    """Dark generated star field used behind the NASA cut-outs (8-bit RGB)."""
    rng = np.random.default_rng(seed)
    img = star_field(rng, w, h, 9000, fmin=0.02, fmax=10, alpha=1.6, glow=0.6)
    background_galaxies(rng, img, 30)
    return tonemap(img, rng, stretch=8, grain=0.004).astype(F32) / 255.0


def compose_naev(naev_dir: Path):
    bkg = Path(naev_dir) / "dat" / "gfx" / "bkg"
    for name, (fname, seed, (w, h)) in NAEV_NEBULAE.items():
        src = Image.open(bkg / fname).convert("RGBA")
        sc = h / src.size[1]
        if src.size[0] * sc > w:
            sc = w / src.size[0]
        nw, nh = round(src.size[0] * sc), round(src.size[1] * sc)
        src = src.resize((nw, nh), Image.LANCZOS)
        arr = np.asarray(src).astype(F32) / 255.0
        a = arr[..., 3:4]
        a = np.clip(a / max(float(a.max()), 1e-3), 0, 1)  # the cut-outs are never fully opaque
        out = backdrop(seed, w, h)
        x0, y0 = (w - nw) // 2, (h - nh) // 2
        region = out[y0:y0 + nh, x0:x0 + nw]
        out[y0:y0 + nh, x0:x0 + nw] = region * (1 - a) + arr[..., :3] * a
        n, q = save_jpeg((out * 255 + 0.5).clip(0, 255).astype(np.uint8), COSMIC / f"{name}.jpg", 92)
        print(f"{name}.jpg  {n // 1024} KB  q{q}  <- {fname}")


def build_hubble(path: Path):
    im = Image.open(path).convert("RGB")
    sc = 1280 / max(im.size)
    im = im.resize((round(im.size[0] * sc), round(im.size[1] * sc)), Image.LANCZOS)
    n, q = save_jpeg(np.asarray(im), COSMIC / f"{HUBBLE_DEEP_FIELD}.jpg", 92)
    print(f"{HUBBLE_DEEP_FIELD}.jpg  {n // 1024} KB  q{q}  {im.size}")


# ---------------------------------------------------------------------------
# metadata, contact sheet, checks
# ---------------------------------------------------------------------------

IMAGE_EXTS = {".jpg", ".jpeg", ".png"}


def load_credits(folder: Path = COSMIC) -> dict:
    meta = {}
    for f in sorted(folder.glob("*.toml")):
        with open(f, "rb") as fh:
            meta.update(tomllib.load(fh))
    return meta


def title_from_name(name: str) -> str:
    return Path(name).stem.replace("-", " ").replace("_", " ").capitalize()


def find_font(size: int):
    for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/TTF/DejaVuSans.ttf",
              "/usr/share/fonts/dejavu/DejaVuSans.ttf"):
        if Path(p).exists():
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size=size)


def contact_sheet(out: Path = SHEET, width=1600, cols=5):
    meta = load_credits()
    files = sorted(p for p in COSMIC.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    pad = 14
    tw = (width - pad * (cols + 1)) // cols
    th = int(tw * 0.66)
    font = find_font(15)
    head = find_font(26)
    cap_h = 44
    rows = (len(files) + cols - 1) // cols
    top = 64
    sheet = Image.new("RGB", (width, top + rows * (th + cap_h + pad) + pad), (14, 15, 20))
    d = ImageDraw.Draw(sheet)
    d.text((pad, 18), f"cosmobot cosmic images ({len(files)})", fill=(225, 228, 235), font=head)
    for i, p in enumerate(files):
        r, c = divmod(i, cols)
        x = pad + c * (tw + pad)
        y = top + r * (th + cap_h + pad)
        im = Image.open(p).convert("RGB")
        im.thumbnail((tw, th), Image.LANCZOS)
        sheet.paste(im, (x + (tw - im.size[0]) // 2, y + (th - im.size[1]) // 2))
        entry = meta.get(p.name, {})
        title = entry.get("title", {}).get("en") or title_from_name(p.name)
        lines = _wrap(d, title, font, tw)
        for k, line in enumerate(lines[:2]):
            lw = d.textlength(line, font=font)
            d.text((x + (tw - lw) / 2, y + th + 4 + k * 19), line, fill=(205, 208, 215), font=font)
    q = 85
    while True:
        sheet.save(out, "JPEG", quality=q, optimize=True)
        if out.stat().st_size <= 1_000_000 or q <= 50:
            break
        q -= 5
    print(f"{out.name}: {sheet.size[0]}x{sheet.size[1]}, {out.stat().st_size // 1024} KB")


def _wrap(d, text, font, width):
    words, lines, cur = text.split(), [], ""
    for wd in words:
        t = (cur + " " + wd).strip()
        if d.textlength(t, font=font) <= width or not cur:
            cur = t
        else:
            lines.append(cur)
            cur = wd
    if cur:
        lines.append(cur)
    return lines


def check() -> int:
    """Validate every image against Telegram photo limits and the metadata files."""
    problems = []
    meta = load_credits()
    files = sorted(p for p in COSMIC.iterdir() if p.suffix.lower() in IMAGE_EXTS)
    total = 0
    for p in files:
        size = p.stat().st_size
        total += size
        with Image.open(p) as im:
            w, h = im.size
            fmt = im.format
        issues = []
        if fmt != "JPEG":
            issues.append(f"format {fmt}")
        if max(w, h) < 1280:
            issues.append(f"long side {max(w, h)} < 1280")
        if w + h > 10000:
            issues.append("width+height > 10000")
        if max(w, h) / min(w, h) > 20:
            issues.append("aspect ratio > 20")
        if size > 10 * 1024 * 1024:
            issues.append("over 10 MB")
        if not (MIN_BYTES <= size <= MAX_BYTES):
            issues.append(f"size {size // 1024} KB outside 80-600 KB")
        if p.name != p.name.lower() or " " in p.name or "_" in p.name:
            issues.append("name is not lowercase kebab-case")
        e = meta.get(p.name)
        if e is None:
            issues.append("no metadata entry")
        else:
            for key in ("credit", "license", "source"):
                if not isinstance(e.get(key), str) or not e[key]:
                    issues.append(f"missing {key}")
            t = e.get("title", {})
            for lang in ("en", "ru"):
                if not t.get(lang):
                    issues.append(f"missing title.{lang}")
                elif len(t[lang]) >= 60:
                    issues.append(f"title.{lang} too long")
            stem = p.stem
            if stem in IMAGES and e.get("source") != f"assets/generate.py, seed {IMAGES[stem][0]}":
                issues.append("source/seed does not match generate.py")
        print(f"{'OK ' if not issues else 'BAD'} {p.name:45s} {w}x{h} {size // 1024:4d} KB"
              + ("  " + "; ".join(issues) if issues else ""))
        if issues:
            problems.append(p.name)
    names = {p.name for p in files}
    for k in meta:
        if k not in names:
            print(f"BAD metadata entry without a file: {k}")
            problems.append(k)
    for stem in IMAGES:
        if f"{stem}.jpg" not in names:
            print(f"BAD generated image missing: {stem}.jpg")
            problems.append(stem)
    if SHEET.exists() and SHEET.stat().st_size > 1_000_000:
        print("BAD contact sheet over 1 MB")
        problems.append(SHEET.name)
    print(f"{len(files)} images, {total / 1024 / 1024:.1f} MB, {len(problems)} problem(s)")
    return 1 if problems else 0


def render(name: str):
    seed, fn, (w, h) = IMAGES[name]
    t = time.time()
    arr = fn(np.random.default_rng(seed), w, h)
    n, q = save_jpeg(arr, COSMIC / f"{name}.jpg")
    print(f"{name}.jpg  {w}x{h}  seed {seed}  {n // 1024} KB  q{q}  {time.time() - t:.1f}s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME", help="render only this image (repeatable)")
    ap.add_argument("--list", action="store_true", help="list generated images and seeds")
    ap.add_argument("--sheet", action="store_true", help="only rebuild the contact sheet")
    ap.add_argument("--check", action="store_true", help="validate images and metadata")
    ap.add_argument("--naev", type=Path, metavar="DIR", help="compose NASA nebulae from naev-data (usr/share/naev)")
    ap.add_argument("--hubble", type=Path, metavar="FILE", help="rebuild the Hubble eXtreme Deep Field image")
    args = ap.parse_args(argv)
    COSMIC.mkdir(parents=True, exist_ok=True)
    if args.list:
        for k, (seed, _, (w, h)) in IMAGES.items():
            print(f"{k}.jpg  seed {seed}  {w}x{h}")
        return 0
    if args.check:
        return check()
    if args.naev or args.hubble:
        if args.naev:
            compose_naev(args.naev)
        if args.hubble:
            build_hubble(args.hubble)
        contact_sheet()
        return 0
    if not args.sheet:
        names = [n.removesuffix(".jpg") for n in args.only] if args.only else list(IMAGES)
        for n in names:
            if n not in IMAGES:
                print(f"unknown image: {n} (see --list)", file=sys.stderr)
                return 2
            render(n)
    contact_sheet()
    return 0


if __name__ == "__main__":
    sys.exit(main())
