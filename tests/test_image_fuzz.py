"""Fuzzing: damaged files of every format Pillow writes here, fed to every path that reads one.

Whatever a file holds, probing, scanning, `check` and sending treat it as one bad file: an
ImageError, a skip with one warning, a FAIL line, or another image sent; never a crash.
"""

from __future__ import annotations

import functools
import io
import random
import warnings
from pathlib import Path

import pytest
from PIL import Image
from telegram import Bot

from cosmobot import sender
from cosmobot.check import Report, check_images
from cosmobot.config import Settings
from cosmobot.images import assets, photo
from cosmobot.images.assets import AssetLibrary
from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import TOKEN, make_assets, make_image, seed_opening_with

MUTANTS_PER_FORMAT = 12
# Formats whose writer needs an external handler or program, or writes no single image.
UNWRITABLE = frozenset({"BUFR", "GRIB", "HDF5", "WMF", "PDF"})
MODES = ("RGB", "L", "1", "P", "F")


def _base_image(fmt: str, rng: random.Random) -> bytes | None:
    """A small noisy image saved in fmt, in the first mode the format accepts; None if none."""
    size = (rng.randint(16, 64), rng.randint(16, 64))
    picture = Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * n) for n in range(3)])
    for mode in MODES:
        buffer = io.BytesIO()
        try:
            picture.convert(mode).save(buffer, fmt)
        except Exception:  # this format cannot write this mode (or anything) here
            continue
        return buffer.getvalue()
    return None


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One of the damages real files suffer: flipped bits, a bad header, a cut, an insertion."""
    damaged = bytearray(data)
    kind = rng.choice(("flip", "header", "truncate", "insert", "mixed"))
    if kind in ("flip", "mixed"):
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
    if kind in ("header", "mixed"):
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(min(64, len(damaged)))] = rng.randrange(256)
    if kind == "truncate":
        del damaged[rng.randrange(1, len(damaged)):]
    if kind in ("insert", "mixed"):
        at = rng.randrange(len(damaged))
        damaged[at:at] = rng.randbytes(rng.randint(1, 16))
    return bytes(damaged)


@functools.cache
def corpus() -> tuple[tuple[str, bytes], ...]:
    """(file name, content) of every mutant, the same on every run."""
    Image.init()
    cases = []
    for fmt in sorted((set(Image.SAVE) & set(Image.OPEN)) - UNWRITABLE):
        rng = random.Random(f"cosmobot-fuzz-{fmt}")
        base = _base_image(fmt, rng)
        if base is None:
            continue
        cases += [(f"{fmt.lower()}-{n:02d}.img", _mutate(base, rng))
                  for n in range(MUTANTS_PER_FORMAT)]
    return tuple(cases)


def write_corpus(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in corpus():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return paths


@pytest.fixture(autouse=True)
def quiet_pillow():
    # Pillow warns about odd headers and big sizes; this test wants exactly those files.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_the_corpus_covers_many_formats():
    formats = {name.split("-")[0] for name, _ in corpus()}
    assert {"jpeg", "png", "gif", "bmp", "tiff", "webp", "ppm", "ico", "tga", "pcx"} <= formats
    assert len(corpus()) >= 250


def test_probe_verify_and_prepare_raise_only_image_errors(tmp_path):
    unexpected = []
    for path in write_corpus(tmp_path):
        for read in (photo.probe, photo.verify, photo.prepare_upload):
            try:
                read(path)
            except photo.ImageError:
                pass
            except BaseException as error:  # noqa: B036 - the very thing this test hunts
                unexpected.append(f"{path.name} {read.__name__}: {error!r}")
    assert unexpected == []


def test_scans_and_rescans_survive_every_mutant_and_still_pick_up_new_images(tmp_path):
    root = make_assets(tmp_path, ("good.jpg",))
    write_corpus(root / "cosmic")
    library = AssetLibrary(root)
    library.scan()
    assert "cosmic/good.jpg" in library.cosmic_keys
    assert len(library.cosmic_keys) + len(library.rejected) == len(corpus()) + 1
    make_image(root / "cosmic" / "later.jpg")
    assert library.rescan_if_changed()
    assert "cosmic/later.jpg" in library.cosmic_keys
    assert library.rescan_if_changed() is False


def test_check_gives_each_bad_mutant_one_fail_line(tmp_path):
    root = make_assets(tmp_path, ("good.jpg",))
    paths = write_corpus(root / "cosmic")
    report = Report()
    check_images(Settings(token=TOKEN, assets_dir=root), report)
    bad = [path for path in paths if not _verifies(path)]
    assert report.problems == len(bad)
    failed = "\n".join(line for line in report.lines if "FAIL" in line)
    assert all(f"{path}:" in failed for path in bad)
    usable = len(paths) - len(bad) + 1
    assert f"images: {usable} usable" in "\n".join(report.lines)


def _verifies(path: Path) -> bool:
    try:
        photo.verify(path)
    except photo.ImageError:
        return False
    return True


@pytest.mark.asyncio
async def test_every_mutant_is_sent_or_dropped_never_a_crash(memory_db, library, fake_api):
    write_corpus(library.root / "cosmic")
    library.scan()
    offered = [key for key in library.cosmic_keys if key.endswith(".img")]
    assert offered, "some mutants should pass the header check"
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        for key in offered:
            message = await sender.send_image(bot, 1, key)
            if message is None:
                assert key not in library.cosmic_keys  # dropped: never offered again
    assert fake_api.calls("sendPhoto")


def first_mutant_that_fails_only_when_decoded(folder: Path) -> Path:
    """A file whose header reads fine but whose decode fails with no OSError inside Pillow."""
    for path in write_corpus(folder):
        try:
            photo.probe(path)
            photo.prepare_upload(path)
        except photo.ImageError as error:
            if not isinstance(error.__cause__, (OSError, type(None))):
                return path
    raise AssertionError("the corpus holds no such file")


def test_a_cosmic_request_meeting_a_bad_file_sends_a_good_image(
    tmp_path, fake_api, monkeypatch
):
    root = make_assets(tmp_path / "assets", ("z-good.jpg",))
    bad = first_mutant_that_fails_only_when_decoded(tmp_path / "corpus")
    (root / "cosmic" / f"a-{bad.name}").write_bytes(bad.read_bytes())
    # The chat's round opens with the first key, so the bad file is tried first.
    seed = seed_opening_with(0, 2)
    monkeypatch.setattr(assets.random, "getrandbits", lambda bits: seed)
    with BotThread(bot_settings(tmp_path, fake_api, root), fake_api):
        for n in (1, 2):
            fake_api.push_text(1001, "/cosmic")
            fake_api.wait_until(lambda n=n: len(photos(fake_api, 1001)) == n)
    assert not texts(fake_api, 1001)  # no "something went wrong": just a picture, twice
