"""The shipped collection: every image fits Telegram's limits and has titles, credits, licences."""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from cosmobot.images import photo
from cosmobot.images.assets import AssetLibrary
from cosmobot.images.files import files_under

ROOT = Path(__file__).resolve().parent.parent / "assets" / "images"
COSMIC = ROOT / "cosmic"
IMAGES = files_under(COSMIC)
CREDITS = tomllib.loads((COSMIC / "credits.toml").read_text(encoding="utf-8"))

MIN_LONG_SIDE = 1000
MIN_PHOTOGRAPHS = 50
MIN_IMAGES = 80
# Licences whose images anyone may redistribute with the collection; "x.y" is the version.
ALLOWED_LICENSE = re.compile(r"Public domain|CC0-1\.0|CC BY(-SA)? \d\.\d")
# Two images whose small thumbnails correlate this closely are the same picture twice.
NEAR_DUPLICATE = 0.98


def is_generated(entry: dict) -> bool:
    """Rendered by assets/generate.py (CC0) rather than photographed."""
    return entry["license"] == "CC0-1.0" and entry["source"].startswith("assets/generate.py")


def test_the_collection_is_large_enough():
    assert len(IMAGES) >= MIN_IMAGES


def test_most_of_the_collection_is_real_photographs():
    photographs = [p for p in IMAGES if not is_generated(CREDITS[p.name])]
    assert len(photographs) >= MIN_PHOTOGRAPHS


@pytest.mark.parametrize("path", IMAGES, ids=lambda path: path.name)
def test_image_is_a_good_telegram_photo(path: Path):
    info = photo.verify(path)  # decodes every pixel: a damaged file fails here
    assert info.format == "JPEG" and path.suffix == ".jpg"
    assert info.fits_telegram
    assert max(info.width, info.height) >= MIN_LONG_SIDE
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


@pytest.mark.parametrize("path", IMAGES, ids=lambda path: path.name)
def test_image_licence_allows_redistribution(path: Path):
    assert ALLOWED_LICENSE.fullmatch(CREDITS[path.name]["license"])


@pytest.mark.parametrize("path", IMAGES, ids=lambda path: path.name)
def test_attribution_licences_are_named_in_the_caption(path: Path):
    """CC BY and CC BY-SA ask for the licence beside the credit, which the bot shows."""
    entry = CREDITS[path.name]
    if entry["license"].startswith("CC BY"):
        assert entry["credit"].endswith(", " + entry["license"])


def test_no_metadata_without_a_file():
    assert sorted(CREDITS) == sorted(path.name for path in IMAGES)


def test_the_bot_reads_the_shipped_metadata():
    library = AssetLibrary(ROOT)
    assert library.scan() == len(IMAGES)
    assert all(library.has_metadata(key) for key in library.cosmic_keys)


def test_no_two_images_are_the_same_file():
    digests = {AssetLibrary(ROOT).fingerprint(path) for path in IMAGES}
    assert len(digests) == len(IMAGES)


def thumbnail_vector(path: Path, size: int = 24) -> list[float]:
    """A tiny colour thumbnail as a zero-mean unit vector: crops and tones barely move it."""
    with Image.open(path) as image:
        pixels = image.convert("RGB").resize((size, size), Image.BOX).tobytes()
    mean = sum(pixels) / len(pixels)
    centred = [value - mean for value in pixels]
    norm = math.sqrt(sum(value * value for value in centred)) or 1.0
    return [value / norm for value in centred]


def test_no_two_images_are_near_duplicates():
    vectors = {path.name: thumbnail_vector(path) for path in IMAGES}
    twins = [(a, b) for a, b in itertools.combinations(vectors, 2)
             if sum(x * y for x, y in zip(vectors[a], vectors[b])) >= NEAR_DUPLICATE]
    assert not twins
