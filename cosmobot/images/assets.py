"""The image library: which images are installed, where they are, and what they hold.

The folder rule, the same for the bot and `cosmobot check`: the assets root and its `cosmic/`
folder may themselves be symlinks to folders elsewhere (a mounted volume, say); below
`cosmic/`, a file or symlink whose real location lies outside the real `cosmic/` folder is
skipped. Symlinked folders below `cosmic/` are not entered.
"""

from __future__ import annotations

import hashlib
import os
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from loguru import logger

from cosmobot.images import photo
from cosmobot.images.metadata import ImageMeta, load_metadata

COSMIC = "cosmic"
# A file's (size in bytes, mtime in nanoseconds): a file replaced in place changes either.
Version = tuple[int, int]
# Files kept beside the images on purpose; they are not images and deserve no warning.
SIDECAR_SUFFIXES = frozenset({".toml", ".md"})
# The cache table's asset_key column holds this many characters.
MAX_KEY_LENGTH = 255
# Why a file is skipped, with the version it had then: skipped until that version changes.
Rejection = tuple[Version | None, str]


@dataclass(frozen=True)
class Asset:
    """One usable image: its key (POSIX path under the assets root) and header facts."""

    key: str
    path: Path
    probe: photo.Probe


@dataclass
class _ScanResult:
    """What one walk of the folder found, built apart from the library's live maps."""

    assets: dict[str, Asset] = field(default_factory=dict)
    rejected: dict[str, Rejection] = field(default_factory=dict)


class AssetLibrary:
    """The images under an assets root, scanned once and rescanned when the folder changes.

    A rescan runs in a worker thread while the event loop and other threads fingerprint,
    discard and resolve. So a scan builds new maps on the side and swaps them in under the
    lock; every other change to a map is made under the lock too, and the maps of images and
    metadata are replaced, never changed in place, so they can be read without it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._assets: dict[str, Asset] = {}
        self._metadata: dict[str, ImageMeta] = {}
        self._signature: tuple = ()
        # One entry per file, for its latest version only: memory follows the image count.
        self._fingerprints: dict[Path, tuple[Version, str]] = {}
        # Files found unusable, with the version they had and why: skipped until they change.
        self._rejected: dict[str, Rejection] = {}
        # Counts the changes to the usable images, so a user of them can tell in O(1) it must look.
        self._generation = 0

    @property
    def cosmic_dir(self) -> Path:
        return self.root / COSMIC

    @property
    def cosmic_keys(self) -> list[str]:
        """Keys of the usable cosmic images, sorted."""
        return sorted(self._assets)

    @property
    def generation(self) -> int:
        """A number that changes whenever the usable images (cosmic_keys) may have changed."""
        return self._generation

    @property
    def rejected(self) -> dict[str, str]:
        """Keys of the files found unusable, each with the reason."""
        with self._lock:
            entries = sorted(self._rejected.items())
        return {key: reason for key, (_, reason) in entries}

    def scan(self) -> int:
        """Read the folder (headers only) and return how many images are usable."""
        # Taken first, so a change made during the walk shows at the next rescan.
        signature = self._folder_signature()
        with self._lock:
            known = dict(self._rejected)
        found = self._walk(known)
        metadata = load_metadata(self.cosmic_dir)
        live = {self.resolve(key) for key in found.assets}
        with self._lock:
            self._swap_in(found, known, metadata, live)
            # Recorded only now: a scan that failed half-way is tried again at the next rescan.
            self._signature = signature
        if not found.assets:
            logger.warning("No images found: put .jpg, .png or .webp files in {}", self.cosmic_dir)
        logger.info("Found {} cosmic images in {}", len(found.assets), self.cosmic_dir)
        return len(found.assets)

    def rescan_if_changed(self) -> bool:
        """Rescan when a file was added, removed or changed since the last scan."""
        if self._folder_signature() == self._signature:
            return False
        self.scan()
        return True

    def random_cosmic_key(self, exclude: str | None = None) -> str | None:
        """Return a random cosmic key, avoiding exclude when there is a choice."""
        keys = [key for key in self._assets if key != exclude] or list(self._assets)
        return random.choice(keys) if keys else None

    def get(self, key: str) -> Asset | None:
        """Return the scanned asset for key, if it is installed."""
        return self._assets.get(key)

    def metadata(self, key: str) -> ImageMeta:
        """Return the titles and credit for key, derived from its file name if none are set."""
        name = key.removeprefix(f"{COSMIC}/")
        return self._metadata.get(name) or ImageMeta.from_file_name(name)

    def has_metadata(self, key: str) -> bool:
        """Whether a sidecar file gives key a title."""
        return key.removeprefix(f"{COSMIC}/") in self._metadata

    def resolve(self, key: str) -> Path | None:
        """Return the real file for key, or None if it is missing or not inside cosmic/."""
        pure = PurePosixPath(key)
        if "\\" in key or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] != (COSMIC,):
            return None
        try:
            folder = self.cosmic_dir.resolve()
            path = (folder / pure.relative_to(COSMIC)).resolve()  # so a symlink out is caught
            if path == folder or not path.is_relative_to(folder) or not path.is_file():
                return None
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the key
            return None
        return path

    def discard(self, key: str, reason: str) -> None:
        """Stop offering key until its file changes, with one warning saying why."""
        version = _version_or_none(self.root / key)
        with self._lock:
            if key in self._assets:
                self._assets = {k: asset for k, asset in self._assets.items() if k != key}
                self._generation += 1
            already = self._rejected.get(key)
            self._rejected[key] = (version, reason)
        if already is None or already[0] != version:
            logger.warning("Skipping {}: {}", self.root / key, reason)

    def fingerprint(self, path: Path) -> str:
        """Return the SHA-256 of a file's content, cached while its size and mtime hold."""
        version = _version(path)
        with self._lock:
            cached = self._fingerprints.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        digest = _sha256(path)
        with self._lock:
            self._fingerprints[path] = (version, digest)  # replaces older versions' entry
        return digest

    def cached_fingerprint(self, path: Path) -> str | None:
        """Return the fingerprint if this version of the file was hashed already."""
        with self._lock:
            cached = self._fingerprints.get(path)
        return cached[1] if cached is not None and cached[0] == _version(path) else None

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _walk(self, known: dict[str, Rejection]) -> _ScanResult:
        """Probe every file, skipping those known unusable in their current version."""
        found = _ScanResult()
        for path in files_under(self.cosmic_dir):
            key, version = self._key(path), _version_or_none(path)
            if key in known and known[key][0] == version:
                found.rejected[key] = known[key]  # the same unusable file: no new warning
                continue
            asset, problem = self._probe(path, key)
            if asset is not None:
                found.assets[key] = asset
            else:
                logger.warning("Skipping {}: {}", path, problem)
                found.rejected[key] = (version, problem)
        return found

    def _probe(self, path: Path, key: str) -> tuple[Asset | None, str]:
        problem = self._problem_with_key(key)
        if problem is not None:
            return None, problem
        try:
            return Asset(key, path, photo.probe(path)), ""
        except OSError as error:  # photo.ImageError, whatever Pillow raised
            return None, f"not a readable image ({error})"

    def _problem_with_key(self, key: str) -> str | None:
        if self.resolve(key) is None:
            if self._points_outside(key):
                return f"it points outside {self.cosmic_dir}"
            return "it is no regular file (a broken symlink or a device, say)"
        if len(key) > MAX_KEY_LENGTH:
            return f"its path is longer than {MAX_KEY_LENGTH} characters"
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:  # the database could not store the key
            return "its name is not valid UTF-8"
        return None

    def _points_outside(self, key: str) -> bool:
        try:
            return not (self.root / key).resolve().is_relative_to(self.cosmic_dir.resolve())
        except (OSError, RuntimeError):  # a symlink loop
            return False

    def _swap_in(self, found: _ScanResult, known: dict[str, Rejection],
                 metadata: dict[str, ImageMeta], live: set[Path | None]) -> None:
        """Make a scan's maps the library's (under the lock); forget files that are gone."""
        for key, entry in self._rejected.items():
            # Discarded while the walk ran: the walk may have found it fine a moment before.
            if known.get(key) != entry and (key in found.assets or key in found.rejected):
                found.assets.pop(key, None)
                found.rejected[key] = entry
        self._assets, self._rejected, self._metadata = found.assets, found.rejected, metadata
        self._generation += 1
        self._fingerprints = {
            path: entry for path, entry in self._fingerprints.items() if path in live
        }

    def _folder_signature(self) -> tuple:
        paths = files_under(self.cosmic_dir, include_sidecars=True)
        versions = ((str(path), _version_or_none(path)) for path in paths)
        # A file that vanished mid-walk is left out, as the next scan will not find it either.
        return tuple((name, *version) for name, version in versions if version is not None)


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
    return sorted(found)


def _version(path: Path) -> Version:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _version_or_none(path: Path) -> Version | None:
    try:
        return _version(path)
    except OSError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
