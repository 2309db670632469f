"""NASA images: compositions from public-domain material shipped by other packages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .collection import COSMIC
from .numerics import F32, over
from .output import save_jpeg, tonemap
from .sky import background_galaxies
from .stars import star_field

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
    """Dark generated star field used behind the NASA cut-outs (RGB in [0, 1])."""
    rng = np.random.default_rng(seed)
    img = star_field(rng, w, h, 9000, fmin=0.02, fmax=10, alpha=1.6, glow=0.6)
    background_galaxies(rng, img, 30)
    return tonemap(img, rng, stretch=8, grain=0.004).astype(F32) / 255.0


def compose_naev(naev_dir: Path) -> None:
    """Compose every NASA nebula from an unpacked naev-data tree (``.../usr/share/naev``)."""
    bkg = Path(naev_dir) / "dat" / "gfx" / "bkg"
    for name, (fname, seed, size) in NAEV_NEBULAE.items():
        out = compose_cutout(bkg / fname, seed, size)
        pixels = (out * 255 + 0.5).clip(0, 255).astype(np.uint8)
        n, q = save_jpeg(pixels, COSMIC / f"{name}.jpg", 92)
        print(f"{name}.jpg  {n // 1024} KB  q{q}  <- {fname}")


def compose_cutout(path: Path, seed: int, size: tuple[int, int]) -> np.ndarray:
    """The faded-edge cut-out at ``path``, fitted and centred on a generated backdrop."""
    w, h = size
    src = Image.open(path).convert("RGBA")
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
    out[y0:y0 + nh, x0:x0 + nw] = over(out[y0:y0 + nh, x0:x0 + nw], arr[..., :3], a)
    return out


def build_hubble(path: Path) -> None:
    """Rebuild the Hubble eXtreme Deep Field image from scikit-image's copy, at 1280 px."""
    im = Image.open(path).convert("RGB")
    sc = 1280 / max(im.size)
    im = im.resize((round(im.size[0] * sc), round(im.size[1] * sc)), Image.LANCZOS)
    n, q = save_jpeg(np.asarray(im), COSMIC / f"{HUBBLE_DEEP_FIELD}.jpg", 92)
    print(f"{HUBBLE_DEEP_FIELD}.jpg  {n // 1024} KB  q{q}  {im.size}")
