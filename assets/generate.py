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
import sys
from pathlib import Path

# Python puts this script's folder (assets/) first on sys.path, so the package beside it
# imports as plain ``generator``: it is never part of ``cosmobot``.
from generator.catalog import IMAGES, render
from generator.checks import check
from generator.collection import COSMIC
from generator.nasa import build_hubble, compose_naev
from generator.sheet import contact_sheet


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="render only this image (repeatable)")
    ap.add_argument("--list", action="store_true", help="list generated images and seeds")
    ap.add_argument("--sheet", action="store_true", help="only rebuild the contact sheet")
    ap.add_argument("--check", action="store_true", help="validate images and metadata")
    ap.add_argument("--naev", type=Path, metavar="DIR",
                    help="compose NASA nebulae from naev-data (usr/share/naev)")
    ap.add_argument("--hubble", type=Path, metavar="FILE",
                    help="rebuild the Hubble eXtreme Deep Field image")
    return ap.parse_args(argv)


def list_images() -> int:
    for name, (seed, _, (w, h)) in IMAGES.items():
        print(f"{name}.jpg  seed {seed}  {w}x{h}")
    return 0


def render_images(only: list[str] | None) -> int:
    """Render the named images (all of them by default); 2 if a name is unknown."""
    names = [n.removesuffix(".jpg") for n in only] if only else list(IMAGES)
    for name in names:
        if name not in IMAGES:
            print(f"unknown image: {name} (see --list)", file=sys.stderr)
            return 2
        render(name)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    COSMIC.mkdir(parents=True, exist_ok=True)
    if args.list:
        return list_images()
    if args.check:
        return check()
    if args.naev:
        compose_naev(args.naev)
    if args.hubble:
        build_hubble(args.hubble)
    if not (args.naev or args.hubble or args.sheet):
        status = render_images(args.only)
        if status:
            return status
    contact_sheet()
    return 0


if __name__ == "__main__":
    sys.exit(main())
