"""Benchmark: a cached send (by file_id) against an upload, on the fake Bot API.

Usage:
    python -m tests.benchmarks.send_latency [--rounds 30] [--image PATH] [--uplink BYTES_PER_S]

Each round starts as a new process on a new database would (the file_id cache empty, in the
database and in memory): the first send of the image is an upload (cache miss), the second
goes by file_id (cache hit). Both run side by side in the same round, so machine noise
hits them alike; the script prints the medians and their ratio. `--uplink` makes the fake API
hold an upload's answer for size/uplink seconds, a model of a real uplink (off by default:
then the figures are pure loopback, the least favourable case for the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from telegram import Bot

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.logs import configure_logging
from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.botrunner import REPO_ROOT
from tests.factories import TOKEN, make_image
from tests.fakebotapi import FakeBotApi

DEFAULT_IMAGE = REPO_ROOT / "assets" / "images" / "cosmic"


def pick_image(option: str | None, scratch: Path) -> Path:
    """The image to send: the one given, the largest shipped one, or a generated one."""
    if option:
        return Path(option)
    shipped = sorted(DEFAULT_IMAGE.glob("*.jpg"), key=lambda p: p.stat().st_size)
    if shipped:
        return shipped[-1]
    return make_image(scratch / "generated.jpg", size=(1600, 1000))


async def one_round(bot: Bot, api: FakeBotApi, library: AssetLibrary, key: str,
                    database_url: str) -> tuple[float, float]:
    """One upload and one cached send of key, as a new process on a new database makes them."""
    open_database(database_url)
    apply_migrations()
    sender.configure(library)  # a new process starts with the file_id cache empty in memory too
    uploads_before = len(api.uploads())
    started = time.perf_counter()
    await sender.send_image(bot, 1, key)
    upload = time.perf_counter() - started
    assert len(api.uploads()) == uploads_before + 1, "the first send must upload"
    started = time.perf_counter()
    await sender.send_image(bot, 1, key)
    cached = time.perf_counter() - started
    assert len(api.uploads()) == uploads_before + 1, "the second send must not upload"
    return upload, cached


def copy_to_assets(image: Path, scratch: Path) -> tuple[AssetLibrary, str]:
    """A scanned library holding only image, and its key."""
    root = scratch / "assets"
    (root / "cosmic").mkdir(parents=True)
    (root / "cosmic" / image.name).write_bytes(image.read_bytes())
    library = AssetLibrary(root)
    library.scan()
    return library, f"cosmic/{image.name}"


async def measure_on(api: FakeBotApi, rounds: int, image: Path,
                     scratch: Path) -> tuple[list[float], list[float]]:
    """Seconds of each round's upload and of its cached send, on a database of each round's."""
    library, key = copy_to_assets(image, scratch)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        results = [
            await one_round(bot, api, library, key, f"sqlite:///{scratch / f'round{n}.db'}")
            for n in range(rounds)
        ]
    close_database()
    uploads, cached = zip(*results)
    return list(uploads), list(cached)


async def measure(rounds: int, image: Path, uplink: float | None, scratch: Path) -> None:
    with FakeBotApi([TOKEN]) as api:
        api.upload_bandwidth = uplink
        uploads, cached = await measure_on(api, rounds, image, scratch)
        report(image, uplink, rounds, uploads, cached, api)


def report(image, uplink, rounds, uploads, cached, api) -> None:
    upload_ms, cached_ms = statistics.median(uploads) * 1000, statistics.median(cached) * 1000
    print(f"image: {image} ({image.stat().st_size / 1024:.0f} KiB)")
    print(f"uplink model: {f'{uplink / 1e6:.1f} MB/s' if uplink else 'none (pure loopback)'}")
    print(f"rounds: {rounds}; uploads made: {len(api.uploads())}; "
          f"file_id sends: {len(api.file_id_sends())}")
    print(f"median upload send:   {upload_ms:8.2f} ms")
    print(f"median cached send:   {cached_ms:8.2f} ms")
    print(f"upload / cached:      {upload_ms / cached_ms:8.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--image")
    parser.add_argument("--uplink", type=float, help="bytes per second; default: none")
    args = parser.parse_args()
    configure_logging("WARNING")  # per-send INFO lines would only add noise to the timings
    with tempfile.TemporaryDirectory() as scratch:
        image = pick_image(args.image, Path(scratch))
        asyncio.run(measure(args.rounds, image, args.uplink, Path(scratch)))


if __name__ == "__main__":
    main()
