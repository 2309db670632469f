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
    return [Path(entry.path) for _, entry in walk(folder, include_sidecars)]


def walk(folder: Path, include_sidecars: bool = False) -> list[tuple[str, os.DirEntry]]:
    """files_under()'s files as (POSIX path below folder, directory entry), without Paths.

    An entry keeps the file's lstat once asked: a scan of thousands of files makes no Path
    and no second system call per file.
    """
    found: list[tuple[str, os.DirEntry]] = []
    _walk_into(str(folder), "", include_sidecars, found)
    # Sorted as Paths sort (by their parts), without their cost.
    found.sort(key=lambda item: item[0].split("/"))
    return found


def _walk_into(directory: str, prefix: str, include_sidecars: bool,
               found: list[tuple[str, os.DirEntry]]) -> None:
    try:
        entries = list(os.scandir(directory))
    except OSError:  # gone or unreadable: os.walk skipped it too
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if _is_folder(entry):
            if not entry.is_symlink():  # a symlinked folder is not entered
                _walk_into(entry.path, f"{prefix}{entry.name}/", include_sidecars, found)
        elif include_sidecars or os.path.splitext(entry.name)[1].lower() not in SIDECAR_SUFFIXES:
            found.append((prefix + entry.name, entry))


def _is_folder(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def is_regular_file(path: str | Path) -> bool:
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


class Signature:
    """A digest of every walked file's name and version: what a rescan compares."""

    def __init__(self) -> None:
        self._digest = hashlib.blake2b(digest_size=16)

    def add(self, name: str, version: Version | None) -> None:
        """Count in a file by its name below the folder and its version."""
        if version is not None:  # unreadable, or gone since it was listed
            entry = f"{name}\0{version[0]}\0{version[1]}\0"
            self._digest.update(entry.encode(errors="surrogateescape"))

    def digest(self) -> bytes:
        """The digest of the files added so far."""
        return self._digest.digest()
