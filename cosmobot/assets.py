"""The image library: which images are installed, where they are, and what they hold."""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from loguru import logger

from cosmobot import photo
from cosmobot.metadata import ImageMeta, load_metadata

COSMIC = "cosmic"
# Files kept beside the images on purpose; they are not images and deserve no warning.
SIDECAR_SUFFIXES = frozenset({".toml", ".md"})
# The cache table's asset_key column holds this many characters.
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Asset:
    """One usable image: its key (POSIX path under the assets root) and header facts."""

    key: str
    path: Path
    probe: photo.Probe


class AssetLibrary:
    """The images under an assets root, scanned once and rescanned when the folder changes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._assets: dict[str, Asset] = {}
        self._metadata: dict[str, ImageMeta] = {}
        self._signature: tuple = ()
        self._fingerprints: dict[tuple[Path, int, int], str] = {}
        # Files found unusable, with the (size, mtime) they had: skipped until they change.
        self._rejected: dict[str, tuple[int, int] | None] = {}

    @property
    def cosmic_dir(self) -> Path:
        return self.root / COSMIC

    @property
    def cosmic_keys(self) -> list[str]:
        """Keys of the usable cosmic images, sorted."""
        return sorted(self._assets)

    def scan(self) -> int:
        """Read the folder (headers only) and return how many images are usable."""
        self._signature = self._folder_signature()
        assets = {}
        for path in files_under(self.cosmic_dir):
            asset = self._probe(path)
            if asset is not None:
                assets[asset.key] = asset
        self._assets = assets
        self._metadata = load_metadata(self.cosmic_dir)
        if not assets:
            logger.warning("No images found: put .jpg, .png or .webp files in {}", self.cosmic_dir)
        logger.info("Found {} cosmic images in {}", len(assets), self.cosmic_dir)
        return len(assets)

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
        """Return the file for key, or None if it is missing or lies outside the root."""
        pure = PurePosixPath(key)
        if not key or "\\" in key or pure.is_absolute() or ".." in pure.parts:
            return None
        root = self.root.resolve()
        path = (root / pure).resolve()  # follows symlinks, so one pointing out is caught
        if not path.is_relative_to(root) or not path.is_file():
            return None
        return path

    def discard(self, key: str, reason: str) -> None:
        """Stop offering key until its file changes, with one warning saying why."""
        self._assets.pop(key, None)
        self._reject(key, reason)

    def fingerprint(self, path: Path) -> str:
        """Return the SHA-256 of a file's content, cached while its size and mtime hold."""
        cache_key = (path, *_version(path))
        if cache_key not in self._fingerprints:
            self._fingerprints[cache_key] = _sha256(path)
        return self._fingerprints[cache_key]

    def cached_fingerprint(self, path: Path) -> str | None:
        """Return the fingerprint if this version of the file was hashed already."""
        return self._fingerprints.get((path, *_version(path)))

    def _probe(self, path: Path) -> Asset | None:
        key = path.relative_to(self.root).as_posix()
        if key in self._rejected and self._rejected[key] == _version_or_none(path):
            return None
        if self.resolve(key) is None:
            self._reject(key, f"it points outside {self.root}")
            return None
        if len(key) > MAX_KEY_LENGTH:
            self._reject(key, f"its path is longer than {MAX_KEY_LENGTH} characters")
            return None
        try:
            return Asset(key, path, photo.probe(path))
        except OSError as error:  # Pillow's UnidentifiedImageError is an OSError too
            self._reject(key, f"not a readable image ({error})")
            return None

    def _reject(self, key: str, reason: str) -> None:
        version = _version_or_none(self.root / key)
        if key not in self._rejected or self._rejected[key] != version:
            logger.warning("Skipping {}: {}", self.root / key, reason)
        self._rejected[key] = version

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


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _version_or_none(path: Path) -> tuple[int, int] | None:
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
