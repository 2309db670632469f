"""Every real photograph: its package, file (or tiles), crop box and levels.

Crop boxes are in the source's pixels (left, top, right, bottom) and cut away what is
not sky: the drawn lunar strip of the TuxMath backgrounds, the faded or black edges
of Stellarium's textures.  ``levels`` = (low percentile, high percentile, gamma) is set
only where a source is too dark to show its object (see ``photo_process.set_levels``).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .collection import COSMIC
from .photo_process import finish, load_rgb, mosaic
from .photo_sources import source_path

Tiles = tuple[tuple[str | None, ...], ...]


class Photo(NamedTuple):
    """How to make one photograph from its package."""

    package: str
    path: str | Tiles               # a file, or rows of Stellarium tiles (top row first)
    crop: tuple[int, int, int, int] | None = None
    levels: tuple[float, float, float] | None = None


TUX = "tuxmath-data"
ES = "endless-sky-data"
ES2X = "endless-sky-high-dpi"
ST = "stellarium-data"
TUX_SKY = (0, 0, 1280, 800)  # above the drawn lunar horizon, which starts at y = 823


def tux(n: int) -> Photo:
    """A TuxMath background without its drawn strip of lunar surface."""
    return Photo(TUX, f"backgrounds/{n}.jpg", TUX_SKY)


def lmc_tiles() -> Tiles:
    """The 4 x 4 tiles of ESO/R. Gendler's Large Magellanic Cloud, north row first."""
    return tuple(tuple(f"lmc_{4 * r + c + 1:02d}.png" for c in range(4)) for r in range(4))


PHOTOS: dict[str, Photo] = {
    # TuxMath: Hubble and Apollo photographs
    "ngc-346-small-magellanic-cloud": tux(0),
    "earth-from-apollo-16": Photo(TUX, "backgrounds/2.jpg", (298, 165, 998, 725)),
    "ngc-3370-spiral-galaxy": tux(3),
    "helix-nebula": tux(4),
    "jupiter": Photo(TUX, "backgrounds/5.jpg", (0, 0, 720, 680)),
    "sombrero-galaxy": tux(6),
    "whirlpool-galaxy": tux(7),
    # Endless Sky: NGC 1300, Jupiter's clouds, Mars, the Moon, the ISS
    "barred-spiral-galaxy-ngc-1300": Photo(ES, "ui/galaxy.jpg", None, (0.5, 99.95, 1.25)),
    "jupiter-cloud-belts": Photo(ES2X, "land/nasa8@2x.jpg"),
    "mount-sharp-on-mars": Photo(ES2X, "land/desert0@2x.jpg"),
    "earthrise": Photo(ES2X, "land/earthrise@2x.jpg"),
    "earth-from-the-iss-cupola": Photo(ES2X, "land/space3@2x.jpg"),
    # Stellarium: nebulae
    "orion-nebula": Photo(ST, "m42.png", (340, 30, 990, 790), (20, 99.9, 1.15)),
    "carina-nebula": Photo(ST, "etaCarinae.png", (130, 20, 890, 1004)),
    "eagle-nebula": Photo(ST, "m16.png", (150, 220, 900, 840)),
    "lagoon-nebula": Photo(ST, "m8.png", (0, 200, 1024, 830)),
    "omega-nebula": Photo(ST, "m17.png", (0, 120, 1024, 900)),
    "rosette-nebula": Photo(ST, "n2244.png"),
    "heart-nebula": Photo(ST, "ic1805.png", (0, 60, 1024, 964)),
    "horsehead-and-flame-nebulae": Photo(ST, "ic434.png", (230, 0, 790, 1024)),
    "elephants-trunk-ic-1396": Photo(ST, "ic1396.png", (120, 30, 900, 1000)),
    "north-america-nebula": Photo(ST, "n7000.png", (50, 50, 980, 980)),
    "wizard-nebula": Photo(ST, "n7380.png", (200, 0, 1024, 1000)),
    "ngc-7822": Photo(ST, "n7822.png", (60, 40, 990, 1000)),
    "running-chicken-nebula": Photo(ST, "ic2944.png", (0, 40, 1024, 880)),
    "prawn-nebula": Photo(ST, "ic4628.png", (0, 150, 1024, 900)),
    "ngc-3603": Photo(ST, "n3603.png", (0, 300, 1024, 720)),
    "rcw-32-in-vela": Photo(ST, "rcw32.png", (0, 80, 1024, 950)),
    "ngc-2170": Photo(ST, "n2170.png"),
    "dark-nebula-ldn-673": Photo(ST, "ldn673.png", (250, 170, 800, 820)),
    "rho-ophiuchi-clouds": Photo(ST, (("rho-a01.png", "rho-a11.png"),
                                      ("rho-a00.png", "rho-a10.png"))),
    "witch-head-nebula": Photo(ST, (("ic2118-1.png",), ("ic2118-2.png",)), (16, 0, 512, 830),
                               (1, 99.9, 1.2)),
    "lambda-orionis-ring": Photo(ST, "sh2-264.png", (60, 60, 1000, 880), (1, 99.9, 1.2)),
    # Stellarium: supernova remnants
    "veil-nebula": Photo(ST, "n6960.png", (60, 20, 920, 1004)),
    "spaghetti-nebula": Photo(ST, "sh2-240.png"),
    # Stellarium: galaxies and clusters of galaxies
    "andromeda-galaxy": Photo(ST, "m31.png"),
    "triangulum-galaxy": Photo(ST, "m33.png", (0, 0, 1024, 900)),
    "small-magellanic-cloud-hydrogen-alpha": Photo(ST, "smc-ha.png", (0, 360, 1024, 770),
                                                   (2, 99.95, 1.4)),
    "large-magellanic-cloud": Photo(ST, lmc_tiles()),
    "virgo-cluster": Photo(ST, "virgo_cluster.png", None, (1, 99.97, 1.3)),
    "hercules-galaxy-cluster": Photo(ST, "hercules_cluster.png"),
    "perseus-cluster": Photo(ST, "perseus_cluster.png"),
    "coma-cluster": Photo(ST, "coma_cluster.png", None, (1, 99.97, 1.2)),
    "hydra-cluster": Photo(ST, "hydra_cluster.png", (60, 0, 1024, 1024), (1, 99.97, 1.2)),
    "fornax-cluster": Photo(ST, "fornax_cluster.png", None, (1, 99.97, 1.2)),
    # Stellarium: star clusters
    "pleiades": Photo(ST, "pleiades.png"),
    "hercules-globular-cluster": Photo(ST, "m13.png"),
    "globular-cluster-ngc-6752": Photo(ST, "n6752.png"),
}


def load_source(unpacked: Path, photo: Photo):
    """The uncropped picture: one file, or its tiles joined."""
    if isinstance(photo.path, str):
        return load_rgb(source_path(unpacked, photo.package, photo.path))
    return mosaic([[source_path(unpacked, photo.package, p) if p else None for p in row]
                   for row in photo.path])


def build(name: str, unpacked: Path) -> None:
    """Make one photograph of the collection from the unpacked packages."""
    photo = PHOTOS[name]
    n, q, (w, h) = finish(load_source(unpacked, photo), photo.crop, photo.levels,
                          COSMIC / f"{name}.jpg")
    print(f"{name}.jpg  {w}x{h}  {n // 1024} KB  q{q}")
