"""The files of the assets folder: which are walked, their versions, their content's hash."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

# A file's (size in bytes, mtime in nanoseconds): a file replaced in place changes either.
Version = tuple[int, int]
# Files kept beside the images on purpose; they are not images and deserve no warning.
SIDECAR_SUFFIXES = frozenset({".toml", ".md"})


def files_under(folder: Path, include_sidecars: bool = False) -> list[Path]:
    """Regular files below folder, sorted, without hidden ones (and sidecars unless asked)."""
    found = []
    for directory, subdirs, names in os.walk(folder, followlinks=False):
        subdirs[:] = [name for name in subdirs if not name.startswith(".")]
        for name in names:
            path = Path(directory, name)
            if name.startswith("."):
                continue
            if path.suffix.lower() in SIDECAR_SUFFIXES and not include_sidecars:
                continue
            found.append(path)
    return sorted(found, key=lambda path: path.parts)  # as Paths sort, without their cost


def is_regular_file(path: Path) -> bool:
    """Whether path is a plain file itself: not a symlink, folder or device (one lstat)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False


def resolved(folder: Path) -> Path | None:
    """The real location of folder; None for a symlink loop."""
    try:
        return folder.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None


def version(path: Path) -> Version:
    """The version of the file path names (a symlink followed)."""
    return version_of(path.stat())


def version_of(status: os.stat_result) -> Version:
    """The version a stat result tells."""
    return status.st_size, status.st_mtime_ns


def version_or_none(path: Path) -> Version | None:
    """The version of path, or None if it cannot be read."""
    try:
        return version(path)
    except OSError:
        return None


def sha256(path: Path) -> str:
    """The SHA-256 of a file's content, read a megabyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
