#!/usr/bin/env python3
"""Rebuild the real photographs of cosmobot's collection from unpacked Debian packages.

This is a development tool; the bot never imports it.  It needs numpy and Pillow.

Usage::

    python assets/photographs.py DIR              # every photograph
    python assets/photographs.py DIR --only NAME  # one photograph (repeatable)
    python assets/photographs.py --list           # names and the files they come from

DIR holds the packages unpacked with ``dpkg-deb -x PKG_*.deb DIR/PKG`` (see
assets/README.md).  Their versions must be the ones in generator/photo_sources.py:
crops are tuned to those files.  The same packages give byte-identical JPEGs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# As in generate.py: the package beside this script imports as plain ``generator``.
from generator.collection import COSMIC
from generator.photo_catalog import PHOTOS, build
from generator.photo_sources import version_problems
from generator.sheet import contact_sheet


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("unpacked", type=Path, nargs="?", metavar="DIR",
                    help="folder with the unpacked packages, one subfolder per package")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="build only this photograph (repeatable)")
    ap.add_argument("--list", action="store_true", help="list photographs and their sources")
    ap.add_argument("--any-version", action="store_true",
                    help="only warn when a package version differs from the expected one")
    return ap.parse_args(argv)


def list_photos() -> int:
    for name, photo in PHOTOS.items():
        files = photo.path if isinstance(photo.path, str) else "tiles " + " ".join(
            p for row in photo.path for p in row if p)
        print(f"{name}.jpg  {photo.package}  {files}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        return list_photos()
    if args.unpacked is None:
        print("give the folder with the unpacked packages (see --help)", file=sys.stderr)
        return 2
    names = [n.removesuffix(".jpg") for n in args.only] if args.only else list(PHOTOS)
    unknown = [n for n in names if n not in PHOTOS]
    if unknown:
        print(f"unknown photograph(s): {', '.join(unknown)} (see --list)", file=sys.stderr)
        return 2
    problems = version_problems(args.unpacked, {PHOTOS[n].package for n in names})
    for problem in problems:
        print(f"{'warning' if args.any_version else 'error'}: {problem}", file=sys.stderr)
    if problems and not args.any_version:
        return 1
    COSMIC.mkdir(parents=True, exist_ok=True)
    for name in names:
        build(name, args.unpacked)
    contact_sheet()
    return 0


if __name__ == "__main__":
    sys.exit(main())
