"""Every generated image: its file name, seed, renderer and size, in rendering order."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import galaxies, giant_planets, nebulae, remnants, rocky_worlds, starfields
from .collection import COSMIC
from .output import save_jpeg


class Entry(NamedTuple):
    """How to render one generated image."""

    seed: int
    render: Callable[[np.random.Generator, int, int], np.ndarray]  # (rng, w, h) -> 8-bit RGB
    size: tuple[int, int] = (1600, 1000)


SQUARE = (1400, 1400)

IMAGES: dict[str, Entry] = {
    # nebulae
    "hubble-palette-nebula": Entry(1102, nebulae.hubble_palette),
    "bipolar-planetary-nebula": Entry(1108, remnants.bipolar),
    "pulsar-wind-nebula": Entry(1110, remnants.crab),
    "coalsack-dark-cloud": Entry(1111, nebulae.coalsack),
    # galaxies
    "flocculent-spiral-galaxy": Entry(1204, galaxies.flocculent),
    "giant-elliptical-galaxy": Entry(1205, galaxies.giant_elliptical),
    "dusty-elliptical-galaxy": Entry(1206, galaxies.dusty_elliptical, (1600, 1200)),
    "edge-on-spiral-dust-lane": Entry(1207, galaxies.edge_on),
    "ring-galaxy": Entry(1209, galaxies.ring_galaxy, SQUARE),
    "interacting-galaxy-pair": Entry(1210, galaxies.interacting),
    "galaxy-cluster-lensing-arcs": Entry(1211, galaxies.cluster_lensing),
    # planets and moons
    "ringed-planet-dawn": Entry(1302, giant_planets.ringed_dawn),
    "ice-giant-blue": Entry(1303, giant_planets.ice_giant, SQUARE),
    "tilted-ice-giant-rings": Entry(1304, giant_planets.tilted_ice_giant),
    "gas-giant-crescent": Entry(1305, giant_planets.crescent_giant),
    "cratered-grey-moon": Entry(1401, rocky_worlds.grey_moon, SQUARE),
    "crescent-moon-craters": Entry(1402, rocky_worlds.crescent_moon),
    "icy-moon-cracks": Entry(1403, rocky_worlds.icy_moon, SQUARE),
    "sulfur-volcanic-moon": Entry(1404, rocky_worlds.volcanic_moon, SQUARE),
    "ocean-world-clouds": Entry(1405, rocky_worlds.ocean_world, SQUARE),
    "red-desert-planet": Entry(1406, rocky_worlds.red_desert),
    # star clusters and star fields
    "milky-way-star-clouds": Entry(1503, starfields.milky_way),
    "galactic-center-star-fields": Entry(1504, starfields.galactic_center),
    "gold-and-blue-double-star": Entry(1505, starfields.double_star),
    "comet-with-twin-tails": Entry(1506, starfields.comet),
}


def credit_source(seed: int) -> str:
    """The ``source`` that credits.toml must give for a generated image."""
    return f"assets/generate.py, seed {seed}"


def render(name: str) -> None:
    """Render one generated image into the collection."""
    seed, fn, (w, h) = IMAGES[name]
    t = time.time()
    arr = fn(np.random.default_rng(seed), w, h)
    n, q = save_jpeg(arr, COSMIC / f"{name}.jpg")
    print(f"{name}.jpg  {w}x{h}  seed {seed}  {n // 1024} KB  q{q}  {time.time() - t:.1f}s")
