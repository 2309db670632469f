"""A collection of any size: small generated images, titled like the shipped ones and numbered."""

from __future__ import annotations

import json
from pathlib import Path

from cosmobot.images.metadata import ImageMeta, load_metadata
from tests.botrunner import REPO_ROOT
from tests.factories import make_image

SHIPPED = REPO_ROOT / "assets" / "images"
TITLES_FILE = "generated.toml"


def generate_collection(root: Path, count: int) -> Path:
    """Make an assets root of count images whose English and Russian titles are the shipped ones'.

    Image n is titled like the shipped image n (round robin) with its number added, so a
    search matches the same share of it as of the shipped collection.
    """
    cosmic = root / "cosmic"
    cosmic.mkdir(parents=True)
    pixels = make_image(root / "pixels.jpg").read_bytes()  # one small image, written count times
    shipped = [meta for _, meta in sorted(load_metadata(SHIPPED / "cosmic").items())]
    entries = []
    for number in range(count):
        name = f"image-{number:06d}.jpg"
        (cosmic / name).write_bytes(pixels)
        entries.append(_entry(name, shipped[number % len(shipped)], number))
    (cosmic / TITLES_FILE).write_text("\n".join(entries), encoding="utf-8")
    return root


def _entry(name: str, meta: ImageMeta, number: int) -> str:
    fields = {f"title.{language}": f"{meta.title(language)} {number}" for language in ("en", "ru")}
    fields["credit"] = meta.credit
    # JSON's quoted strings are valid TOML basic strings.
    lines = [f"[{json.dumps(name)}]"]
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()]
    return "\n".join(lines) + "\n"
