"""Image titles and credits, read from TOML sidecar files in the cosmic folder."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from loguru import logger


@dataclass(frozen=True)
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
    def from_table(cls, table: dict) -> ImageMeta:
        """Build from one TOML table; raise ValueError if its fields have the wrong types."""
        titles = table.get("title", {})
        if isinstance(titles, str):
            titles = {"en": titles}
        fields = {name: table.get(name, "") for name in ("credit", "license", "source")}
        values = [*titles.values(), *fields.values()]
        if not isinstance(titles, dict) or not all(isinstance(v, str) for v in values):
            raise ValueError("title, credit, license and source must be text")
        return cls(titles=dict(titles), **fields)


def load_metadata(folder: Path) -> dict[str, ImageMeta]:
    """Read every *.toml in folder; a broken file or entry is skipped with a warning."""
    found: dict[str, ImageMeta] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            logger.warning("Ignoring image metadata in {}: {}", path, error)
            continue
        for name, table in document.items():
            try:
                found[name] = ImageMeta.from_table(table if isinstance(table, dict) else {})
            except ValueError as error:
                logger.warning("Ignoring metadata for {!r} in {}: {}", name, path, error)
    return found
