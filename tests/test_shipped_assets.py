"""The shipped collection: every image fits Telegram's limits and has titles and credits."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from PIL import Image

from cosmobot import photo
from cosmobot.assets import AssetLibrary, files_under

ROOT = Path(__file__).resolve().parent.parent / "assets" / "images"
COSMIC = ROOT / "cosmic"
IMAGES = files_under(COSMIC)
CREDITS = tomllib.loads((COSMIC / "credits.toml").read_text(encoding="utf-8"))


def test_the_collection_is_large_enough():
    assert len(IMAGES) >= 40


@pytest.mark.parametrize("path", IMAGES, ids=lambda path: path.name)
def test_image_is_a_good_telegram_photo(path: Path):
    info = photo.verify(path)  # decodes every pixel: a damaged file fails here
    assert info.format == "JPEG" and path.suffix == ".jpg"
    assert info.fits_telegram
    assert max(info.width, info.height) >= 1280
    assert 80 * 1024 <= info.size_bytes <= 600 * 1024
    with Image.open(path) as image:
        assert image.mode == "RGB"


@pytest.mark.parametrize("path", IMAGES, ids=lambda path: path.name)
def test_image_has_complete_metadata(path: Path):
    entry = CREDITS[path.name]
    assert entry["title"]["en"].strip() and entry["title"]["ru"].strip()
    assert any("а" <= ch.lower() <= "я" for ch in entry["title"]["ru"]), "Russian title"
    for field in ("credit", "license", "source"):
        assert entry[field].strip(), field


def test_no_metadata_without_a_file():
    assert sorted(CREDITS) == sorted(path.name for path in IMAGES)


def test_the_bot_reads_the_shipped_metadata():
    library = AssetLibrary(ROOT)
    assert library.scan() == len(IMAGES)
    assert all(library.has_metadata(key) for key in library.cosmic_keys)


def test_no_two_images_are_the_same_file():
    digests = {AssetLibrary(ROOT).fingerprint(path) for path in IMAGES}
    assert len(digests) == len(IMAGES)
