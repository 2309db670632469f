"""Emission, reflection and dark nebulae."""

from __future__ import annotations

import numpy as np

from .medium import HA, OIII, extinction, rim_light
from .noise import fbm, ridged, warped_fbm
from .numerics import F32, blur, grid, rgb, smoothstep
from .output import tonemap
from .sky import milky_way_density
from .stars import power_flux, render_stars, star_colour, star_field


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
    dn, tau = nebula_dust(rng, w, h, dust, dust_scale, dust_bias, lanes)
    rim = rim_light(tau, cx, cy, 3.0) * env ** 0.5 * np.exp(-r / 0.35)
    img = np.zeros((h, w, 3), F32)
    img += dens[:, :, None] * ha_col * (level * ha)
    img += oxy[:, :, None] * o_col * (level * oiii)
    # faint brownish light reflected by the dust itself
    img += (smoothstep(0, 2, dn) * env * level * 0.3)[:, :, None] * rgb(1.0, 0.55, 0.3)
    bg = star_field(rng, w, h, n_bg, fmin=0.03, fmax=6, alpha=1.5, spikes=0)
    img = (img + bg) * extinction(tau)
    rim_col = 0.7 * ha_col + 0.3 * rgb(1.0, 0.85, 0.7)
    img += (np.minimum(rim * rims * 2.0, 1.0))[:, :, None] * rim_col * level * 4
    if cluster:
        img += ionising_cluster(rng, w, h, cx, cy, cluster, cluster_spread)
    img += star_field(rng, w, h, 300, fmin=0.05, fmax=30, alpha=1.4, spikes=3, spike_angle=0.25)
    return tonemap(img, rng, stretch=stretch, exposure=exposure, sat=sat)


def nebula_dust(rng, w, h, amount, scale, bias, lanes):
    """Dust noise and its optical depth: patchy clouds threaded with thin dark veins."""
    dn = warped_fbm(rng, w, h, scale * w, 9, 0.2, 0.62)
    tau = amount * 3.0 * smoothstep(bias, bias + 1.3, dn) ** 1.4
    veins = blur(ridged(fbm(rng, w, h, scale * w * 0.6, 8, 0.55), 6.0), 1.2)
    tau += lanes * 0.8 * veins * smoothstep(-0.8, 0.8, dn)
    return dn, tau


def ionising_cluster(rng, w, h, cx, cy, n, spread):
    """The hot young stars at the core whose light makes the gas glow."""
    xs = cx + rng.normal(0, spread * w, n)
    ys = cy + rng.normal(0, spread * w, n)
    flux = power_flux(rng, n, 0.3, 80, 1.1)
    cols = 0.7 * star_colour(rng.uniform(9000, 20000, n)) + 0.3
    return render_stars(w, h, xs, ys, flux, cols, 0.8, 1.4, spikes=6, spike_len=0.9,
                        spike_angle=0.25)


def blob_env(rng, w, h, cx, cy, rx, ry, wobble=0.8, scale=0.35):
    """Lumpy elliptical envelope (centre and radii in frame units) that holds the gas."""
    X, Y = grid(w, h, cx * w, cy * h)
    e = np.exp(-((X / (rx * w)) ** 2 + (Y / (ry * h)) ** 2))
    return e * np.exp(wobble * fbm(rng, w, h, scale * w, 4, 0.5))


def crimson(rng, w, h):
    env = blob_env(rng, w, h, 0.5, 0.5, 0.5, 0.55)
    return emission_nebula(rng, w, h, env=env, oiii=0.45, core=(0.45, 0.48), cluster=30)


def hubble_palette(rng, w, h):
    env = blob_env(rng, w, h, 0.55, 0.45, 0.6, 0.7, wobble=0.6)
    return emission_nebula(rng, w, h, env=env, ha_col=rgb(1.0, 0.62, 0.18),
                           o_col=rgb(0.10, 0.55, 0.95), oiii=1.6, oiii_core=0.3,
                           core=(0.58, 0.42), contrast=1.3, dust=1.2, dust_bias=0.4, lanes=0.9,
                           rims=1.2, cluster=25, level=0.045, sat=1.15)


def rosette(rng, w, h):
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


def pillars(rng, w, h):
    X, Y = grid(w, h, 0.5 * w, -0.3 * h)
    r = np.sqrt(X * X + Y * Y) / h
    gas = warped_fbm(rng, w, h, 0.35 * w, 9, 0.15, 0.6)
    back = np.exp(-(r / 0.9) ** 2) * np.exp(1.0 * gas)
    oxy = np.exp(-(r / 0.6) ** 2) * np.exp(0.8 * fbm(rng, w, h, 0.2 * w, 8, 0.6))
    img = (back[:, :, None] * rgb(1.0, 0.45, 0.25) * 0.08
           + oxy[:, :, None] * rgb(0.25, 0.65, 0.9) * 0.07)
    img += star_field(rng, w, h, 9000, fmin=0.03, fmax=5, alpha=1.5)
    dens = pillar_tau(rng, w, h, [(0.26, 0.32, 0.25, 0.12, 0.045),
                                  (0.62, 0.60, 0.50, 0.09, 0.035),
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


def dark_silhouette(rng, w, h):
    X, Y = grid(w, h, 0, 0)
    curtain = np.exp(-((Y - 0.35 * h) / (0.35 * h)) ** 2)
    streak = fbm(rng, w, h, 0.25 * h, 8, 0.6, aspect=0.25)  # vertical striations
    gas = np.exp(0.9 * fbm(rng, w, h, 0.3 * w, 8, 0.58))
    glow = curtain * gas * (1 + 0.35 * streak)
    img = glow[:, :, None] * rgb(1.0, 0.2, 0.28) * 0.07
    img += star_field(rng, w, h, 16000, fmin=0.03, fmax=5, alpha=1.5)
    n1 = fbm(rng, w, h, 0.08 * w, 8, 0.62)
    edge = 0.62 * h + 0.06 * h * fbm(rng, w, h, 0.4 * w, 3, 0.5)
    dens = head_and_bank(w, h, n1, edge)
    tau = dens * 5.0 * np.exp(0.3 * n1)
    rim = np.minimum(rim_light(dens, 0.5 * w, -0.6 * h, 2.0) * 60, 1.0)
    img = img * extinction(tau) + rim[:, :, None] * rgb(1.0, 0.35, 0.35) * 0.04
    # small bright reflection nebula in the dark bank
    X2, Y2 = grid(w, h, 0.25 * w, 0.8 * h)
    refl = np.exp(-(X2 ** 2 + Y2 ** 2) / (0.05 * w) ** 2) * np.exp(0.5 * n1)
    img += refl[:, :, None] * rgb(0.55, 0.7, 1.0) * 0.12
    img += star_field(rng, w, h, 250, fmin=0.05, fmax=30, alpha=1.4, spikes=3)
    return tonemap(img, rng, stretch=10, sat=1.1)


def head_and_bank(w, h, n1, edge):
    """Density of a dark cloud bank (top edge ``edge``) with a head and neck rising out of it."""
    X, Y = grid(w, h, 0, 0)
    hx, hy = 0.58 * w, 0.42 * h
    head = np.sqrt(((X - hx) / (0.07 * w)) ** 2 + ((Y - hy) / (0.11 * h)) ** 2)
    neck = np.abs(X - (0.60 * w + (Y - hy) * 0.25)) / (0.045 * w) + np.where(Y < hy, 9, 0)
    d_bank = (edge - Y) / (0.03 * h)
    return np.maximum.reduce([smoothstep(0.5, -1.5, d_bank + 2 * n1),
                              smoothstep(1.2, 0.6, head + 0.3 * n1),
                              smoothstep(1.2, 0.6, neck + 0.3 * n1)])


# (x, y) in frame units and brightness of the stars lighting the reflection nebula
REFLECTION_STARS = [(0.42, 0.45, 90), (0.55, 0.38, 70), (0.62, 0.55, 60), (0.33, 0.62, 45),
                    (0.50, 0.60, 40), (0.70, 0.42, 30), (0.47, 0.30, 25)]


def reflection(rng, w, h):
    stars = REFLECTION_STARS
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
    xs = np.array([s[0] * w for s in stars])
    ys = np.array([s[1] * h for s in stars])
    flux = np.array([s[2] * 2.0 for s in stars], F32)
    cols = 0.7 * star_colour(np.full(len(stars), 14000.0)) + 0.3
    img += render_stars(w, h, xs, ys, flux, cols, 1.0, 2.5, spikes=7, spike_len=0.6,
                        spike_angle=0.1)
    return tonemap(img, rng, stretch=9, sat=1.15)


def coalsack(rng, w, h):
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
