"""The image library: which images are installed, where they are, and what they hold.

The folder rule, the same for the bot and `cosmobot check`: the assets root and its `cosmic/`
folder may themselves be symlinks to folders elsewhere (a mounted volume, say); below
`cosmic/`, a file or symlink whose real location lies outside the real `cosmic/` folder is
skipped. Symlinked folders below `cosmic/` are not entered. A scan checks each file against
this rule and keeps the real file each key resolved to; a send opens that file, after checking
it is still a regular file and no symlink (one `lstat`), so a symlink made after the scan is
never followed out of the folder.
"""

from __future__ import annotations

import os
import random
import stat
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from loguru import logger

from cosmobot.images import files, photo
from cosmobot.images.files import SIDECAR_SUFFIXES, Version
from cosmobot.images.metadata import ImageMeta, Sidecars

COSMIC = "cosmic"
# The cache table's asset_key column holds this many characters.
MAX_KEY_LENGTH = 255
# Why a file is skipped, with the version it had then: skipped until that version changes.
Rejection = tuple[Version | None, str]


@dataclass(frozen=True, slots=True)
class Asset:
    """One usable image: its key (POSIX path under the assets root) and header facts."""

    key: str
    # The file the key resolved to at the scan, inside the real cosmic/ folder: a string, as
    # a library of 100,000 images would hold 100,000 Paths for a few sends.
    location: str
    probe: photo.Probe | None  # None until its header is checked (scan(headers=False))
    version: Version | None = None

    @property
    def real(self) -> Path:
        """The file the key resolved to at the scan."""
        return Path(self.location)


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
        self._signature = files.Signature().digest()  # an empty folder's, as before any scan
        self._sidecars = Sidecars()
        # One entry per file, for its latest version only: memory follows the image count.
        self._fingerprints: dict[Path, tuple[Version, str]] = {}
        # Files found unusable, with the version they had and why: skipped until they change.
        self._rejected: dict[str, Rejection] = {}
        # Which scan the maps are from: what is built from them (a title index) knows when
        # to build anew.
        self.generation = 0

    @property
    def cosmic_dir(self) -> Path:
        return self.root / COSMIC

    @property
    def cosmic_keys(self) -> list[str]:
        """Keys of the usable cosmic images, sorted."""
        return sorted(self._assets)

    @property
    def rejected(self) -> dict[str, str]:
        """Keys of the files found unusable, each with the reason."""
        with self._lock:
            entries = sorted(self._rejected.items())
        return {key: reason for key, (_, reason) in entries}

    def scan(self, headers: bool = True) -> int:
        """Read the folder and return how many images are usable.

        Each new or changed file's header is opened unless headers is False: check_headers()
        does that later, and a bad file found at its first upload is skipped then.
        """
        with self._lock:
            known = dict(self._rejected)
        found, signature = self._walk(known, headers)
        metadata = self._sidecars.load(self.cosmic_dir)
        live = {asset.location for asset in found.assets.values()}
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
        asset = self._assets.get(key)
        # The scan resolved it: only make sure it has not become a symlink or folder since.
        if asset is not None and files.is_regular_file(asset.location):
            return asset.real
        return self._resolve_now(key)

    def _resolve_now(self, key: str) -> Path | None:
        if _unsafe(key):
            return None
        pure = PurePosixPath(key)
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
        version = files.version_or_none(self.root / key)
        with self._lock:
            if key in self._assets:
                self._assets = {k: asset for k, asset in self._assets.items() if k != key}
            already = self._rejected.get(key)
            self._rejected[key] = (version, reason)
        if already is None or already[0] != version:
            logger.warning("Skipping {}: {}", self.root / key, reason)

    def fingerprint(self, path: Path) -> str:
        """Return the SHA-256 of a file's content, cached while its size and mtime hold."""
        version = files.version(path)
        with self._lock:
            cached = self._fingerprints.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        digest = files.sha256(path)
        with self._lock:
            self._fingerprints[path] = (version, digest)  # replaces older versions' entry
        return digest

    def cached_fingerprint(self, path: Path) -> str | None:
        """Return the fingerprint if this version of the file was hashed already."""
        with self._lock:
            cached = self._fingerprints.get(path)
        return cached[1] if cached is not None and cached[0] == files.version(path) else None

    def check_headers(self) -> int:
        """Open the header of each image a scan left unchecked; skip bad ones, one warning each."""
        checked = {}
        for asset in [asset for asset in self._assets.values() if asset.probe is None]:
            try:
                checked[asset.key] = (asset, replace(asset, probe=photo.probe(asset.real)))
            except OSError as error:  # photo.ImageError, whatever Pillow raised
                if self._assets.get(asset.key) is asset:  # not rescanned meanwhile
                    self.discard(asset.key, f"not a readable image ({error})")
        with self._lock:
            self._assets = {key: _checked(current, checked.get(key))
                            for key, current in self._assets.items()}
        return len(checked)

    def _walk(self, known: dict[str, Rejection], headers: bool) -> tuple[_ScanResult, bytes]:
        """Probe new and changed files, skipping those known unusable in their current version.

        Returns the folder's signature too, each file's version taken before it is read, so a
        change made during the walk shows at the next rescan.
        """
        found, signature = _ScanResult(), files.Signature()
        folder = files.resolved(self.cosmic_dir)
        for name, entry in files.walk(self.cosmic_dir, include_sidecars=True):
            key = f"{COSMIC}/{name}"
            real, version = self._real_file(entry, key, folder)
            signature.add(name, version)
            if os.path.splitext(name)[1].lower() in SIDECAR_SUFFIXES:
                continue
            if key in known and known[key][0] == version:
                found.rejected[key] = known[key]  # the same unusable file: no new warning
                continue
            asset, problem = self._probe(key, real, version, headers)
            if asset is not None:
                found.assets[key] = asset
            else:
                logger.warning("Skipping {}: {}", entry.path, problem)
                found.rejected[key] = (version, problem)
        return found, signature.digest()

    def _real_file(self, entry: os.DirEntry, key: str,
                   folder: Path | None) -> tuple[str | None, Version | None]:
        """The real file below folder a walked entry is, and its version; one lstat if plain."""
        try:
            status = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(status.st_mode) and folder is not None:
                # The walk enters no symlinked folder: below the real cosmic/ it is all real.
                return os.path.join(folder, key.removeprefix(f"{COSMIC}/")), \
                    files.version_of(status)
            version = files.version_of(os.stat(entry.path))
        except (OSError, ValueError):
            return None, None
        real = self._resolve_now(key) if stat.S_ISLNK(status.st_mode) else None
        return (str(real) if real is not None else None), version

    def _probe(self, key: str, real: str | None, version: Version | None,
               headers: bool) -> tuple[Asset | None, str]:
        problem = self._problem_with_key(key, real)
        if problem is not None or real is None:
            return None, problem or ""
        earlier = self._assets.get(key)
        if earlier is not None and (earlier.location, earlier.version) == (real, version) and (
                earlier.probe is not None or not headers):
            return earlier, ""  # unchanged since the last scan: its header was read then
        try:
            return Asset(key, real, photo.probe(Path(real)) if headers else None, version), ""
        except OSError as error:  # photo.ImageError, whatever Pillow raised
            return None, f"not a readable image ({error})"

    def _problem_with_key(self, key: str, real: str | None) -> str | None:
        if real is None or _unsafe(key):
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
                 metadata: dict[str, ImageMeta], live: set[str]) -> None:
        """Make a scan's maps the library's (under the lock); forget files that are gone."""
        for key, entry in self._rejected.items():
            # Discarded while the walk ran: the walk may have found it fine a moment before.
            if known.get(key) != entry and (key in found.assets or key in found.rejected):
                found.assets.pop(key, None)
                found.rejected[key] = entry
        self._assets, self._rejected, self._metadata = found.assets, found.rejected, metadata
        self.generation += 1
        self._fingerprints = {
            path: entry for path, entry in self._fingerprints.items() if str(path) in live
        }

    def _folder_signature(self) -> bytes:
        signature = files.Signature()
        for name, entry in files.walk(self.cosmic_dir, include_sidecars=True):
            try:
                signature.add(name, files.version_of(entry.stat()))  # a symlink followed
            except OSError:
                continue  # vanished mid-walk: the next scan will not find it either
        return signature.digest()


def _unsafe(key: str) -> bool:
    if "\\" in key:
        return True
    parts = key.split("/")
    if parts[0] == COSMIC and "" not in parts[1:] and "." not in parts and ".." not in parts:
        return False  # a plain path below cosmic/, as every walked one is: no PurePosixPath
    pure = PurePosixPath(key)
    return "\\" in key or pure.is_absolute() or ".." in pure.parts or pure.parts[:1] != (COSMIC,)


def _checked(current: Asset, checked: tuple[Asset, Asset] | None) -> Asset:
    # A rescan may have replaced the asset meanwhile: its own header check then holds.
    return checked[1] if checked is not None and checked[0] is current else current
