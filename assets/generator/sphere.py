"""Geometry of a sphere seen orthographically: normals, latitude/longitude, texture lookup."""

from __future__ import annotations

import math

import numpy as np

from .numerics import F32, sample


def unit(v):
    """``v`` scaled to length 1, as float32."""
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


def spin_axis(M):
    """The body's spin axis (its y axis) in view coordinates; rings lie across it."""
    return M @ np.array([0, 1, 0], F32)


class Sphere:
    """Per-pixel geometry of a sphere of radius ``R`` px centred on (cx, cy), oriented by ``M``.

    X, Y, rad are in units of R; alpha is the anti-aliased disc coverage.
    """

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
        """Sample an equirectangular texture (HxW or HxWxC) onto the visible hemisphere."""
        th, tw = T.shape[:2]
        x = (self.lon / (2 * math.pi) + 0.5) * (tw - 1)
        y = (0.5 - self.lat / math.pi) * (th - 1)
        if T.ndim == 2:
            return sample(T, x, y)
        return np.stack([sample(T[..., c], x, y) for c in range(T.shape[2])], -1)

    def ndl(self, L):
        """Cosine between the surface normal and the light direction ``L``."""
        return self.N @ unit(L)
