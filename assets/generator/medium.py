"""The interstellar medium: emission-line colours, dust extinction, lit ionisation fronts."""

from __future__ import annotations

import numpy as np

from .numerics import blur, grid, rgb

HA = rgb(1.0, 0.22, 0.30)      # hydrogen-alpha red
OIII = rgb(0.20, 0.80, 0.85)   # doubly ionised oxygen teal
DUST_TAU = rgb(0.75, 0.90, 1.10)  # dust absorbs blue a little more than red


def extinction(tau):
    """Per-channel transmission through dust of optical depth ``tau`` (HxW -> HxWx3)."""
    return np.exp(-tau[:, :, None] * DUST_TAU)


def rim_light(tau, cx, cy, sigma=2.0):
    """Brightness of dust surfaces that face the point (cx, cy) (ionisation fronts)."""
    t = blur(tau, sigma)
    gy, gx = np.gradient(t)
    h, w = tau.shape
    X, Y = grid(w, h, cx, cy)
    r = np.sqrt(X * X + Y * Y) + 1e-3
    facing = (gx * X + gy * Y) / r  # tau increasing away from the source
    return np.clip(facing, 0, None)
