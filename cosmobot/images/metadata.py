"""Image titles and credits, read from TOML sidecar files in the cosmic folder."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import rtoml
from loguru import logger

from cosmobot.images import files
from cosmobot.images.files import Version


@dataclass(frozen=True, slots=True)
class ImageMeta:
    """What a caption says about an image."""

    titles: dict[str, str] = field(default_factory=dict)
    credit: str = ""
    license: str = ""
    source: str = ""

    def title(self, language: str) -> str:
        """Return the title in language, falling back to English."""
        return self.titles.get(language) or self.titles.get("en", "")

    @classmethod
    def from_file_name(cls, name: str) -> ImageMeta:
        """Make a readable title from a file name: `orion_nebula-2.jpg` -> `Orion nebula 2`."""
        words = re.sub(r"[\s_\-.]+", " ", PurePosixPath(name).stem).strip()
        return cls(titles={"en": words[:1].upper() + words[1:]})

    @classmethod
    def from_table(cls, table: dict, shared: dict[str, str] | None = None) -> ImageMeta:
        """Build from one TOML table; raise ValueError if its fields have the wrong types.

        shared: strings met before, so that a credit given to many images is kept once.
        """
        titles = table.get("title", {})
        if isinstance(titles, str):
            titles = {"en": titles}
        fields = {name: table.get(name, "") for name in ("credit", "license", "source")}
        values = [*titles.values(), *fields.values()]
        if not isinstance(titles, dict) or not all(isinstance(v, str) for v in values):
            raise ValueError("title, credit, license and source must be text")
        if shared is not None:
            fields = {name: shared.setdefault(value, value) for name, value in fields.items()}
        return cls(titles=dict(titles), **fields)


class Sidecars:
    """The titles of every *.toml in a folder, each file read again only when it changes."""

    def __init__(self) -> None:
        self._read: dict[Path, tuple[Version, dict[str, ImageMeta]]] = {}

    def load(self, folder: Path) -> dict[str, ImageMeta]:
        """Every file's entries, a later file's winning; broken files and entries are skipped.

        Each is skipped with one warning, given when that version of its file is read.
        """
        read: dict[Path, tuple[Version, dict[str, ImageMeta]]] = {}
        found: dict[str, ImageMeta] = {}
        for path in sorted(folder.glob("*.toml")):
            try:
                version = files.version(path)  # taken before the read: a change shows next time
                cached = self._read.get(path)
                entries = cached[1] if cached and cached[0] == version else _read(path)
            except (OSError, UnicodeDecodeError, rtoml.TomlParsingError) as error:
                logger.warning("Ignoring image metadata in {}: {}", path, error)
                if not isinstance(error, OSError):  # the content is bad: until it changes
                    read[path] = (version, {})
                continue
            read[path] = (version, entries)
            found.update(entries)
        self._read = read
        return found


def load_metadata(folder: Path) -> dict[str, ImageMeta]:
    """Read every *.toml in folder; a broken file or entry is skipped with a warning."""
    return Sidecars().load(folder)


def _read(path: Path) -> dict[str, ImageMeta]:
    # rtoml reads a 10,000-entry sidecar about six times as fast as tomllib: at start-up,
    # that is most of the scan of a large collection.
    document = rtoml.loads(path.read_text(encoding="utf-8"))
    found: dict[str, ImageMeta] = {}
    # Many entries share a credit, licence or source: one string each, not one per image.
    shared: dict[str, str] = {}
    for name, table in document.items():
        table = table if isinstance(table, dict) else {}
        try:
            found[name] = ImageMeta.from_table(table, shared)
        except ValueError as error:
            logger.warning("Ignoring metadata for {!r} in {}: {}", name, path, error)
    return found
