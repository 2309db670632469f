"""Where the collection lives and what its metadata says."""

from __future__ import annotations

import tomllib
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent
COSMIC = ASSETS / "images" / "cosmic"
SHEET = ASSETS / "contact-sheet.jpg"

IMAGE_EXTS = {".jpg", ".jpeg", ".png"}


def image_files(folder: Path = COSMIC) -> list[Path]:
    """The images in ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)


def load_credits(folder: Path = COSMIC) -> dict:
    """Metadata of every image, merged from all ``*.toml`` files in ``folder``."""
    meta = {}
    for f in sorted(folder.glob("*.toml")):
        with open(f, "rb") as fh:
            meta.update(tomllib.load(fh))
    return meta


def title_from_name(name: str) -> str:
    """Fallback title for an image without metadata, from its file name."""
    return Path(name).stem.replace("-", " ").replace("_", " ").capitalize()
