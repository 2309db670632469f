"""The Debian packages the photographs come from, and a check of their versions.

The photographs are rebuilt from packages unpacked side by side with ``dpkg-deb -x``
(``DIR/tuxmath-data/``, ``DIR/stellarium-data/`` ...).  The version of each unpacked tree
is read from its ``changelog.Debian.gz``: the crops and levels in ``photo_catalog`` are
tuned to these exact files, so another version may shift or replace a picture.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import NamedTuple


class Package(NamedTuple):
    """One Debian package: the version the crops were tuned to and where its files live."""

    version: str
    root: str  # folder inside the unpacked tree that catalog paths are relative to


PACKAGES: dict[str, Package] = {
    "tuxmath-data": Package("2.0.3-9", "usr/share/tuxmath/images"),
    "endless-sky-data": Package("0.9.8-1.2", "usr/share/games/endless-sky/images"),
    "endless-sky-high-dpi": Package(
        "0.9.8-1", "usr/share/games/endless-sky/plugins/endless-sky-high-dpi/images"),
    "stellarium-data": Package("0.22.2-1", "usr/share/stellarium/nebulae/default"),
}


def unpacked_version(tree: Path, package: str) -> str | None:
    """The version at the top of the tree's changelog.Debian.gz, or None if it has none."""
    changelog = tree / "usr" / "share" / "doc" / package / "changelog.Debian.gz"
    if not changelog.exists():
        return None
    with gzip.open(changelog, "rt", encoding="utf-8", errors="replace") as fh:
        match = re.match(r"\S+ \(([^)]+)\)", fh.readline())
    return match.group(1) if match else None


def version_problems(unpacked: Path, packages: set[str]) -> list[str]:
    """Every named package that is missing under ``unpacked`` or has an unexpected version."""
    problems = []
    for name in sorted(packages):
        found = unpacked_version(unpacked / name, name)
        expected = PACKAGES[name].version
        if found is None:
            problems.append(f"{name}: not unpacked in {unpacked / name}")
        elif found != expected:
            problems.append(f"{name}: version {found}, expected {expected}")
    return problems


def source_path(unpacked: Path, package: str, path: str) -> Path:
    """Where a catalog path of ``package`` lies in the unpacked tree."""
    return unpacked / package / PACKAGES[package].root / path


def source_text(package: str, path: str) -> str:
    """How credits.toml names a file: ``package version, path in the package``."""
    return f"{package} {PACKAGES[package].version} (Debian), {PACKAGES[package].root}/{path}"
