"""Scenario: the cache lookup a send makes before its Bot API call, with 100,000 cached images.

`sender.cached_file_id` is what `sender.send_image` does before it calls the Bot API: the
key resolved to its file, the file's fingerprint, the file_id cache. The database holds
100,000 cached rows; a sample of them are image files (the lookup reads one file's path and
size, whatever the collection's size). Timed per call: each sample image's first lookup since
start (the file hashed, a small one here, and its row read from the database), then every
lookup once all 100,000 rows are in memory, as after the bot has sent each image once.
"""

from __future__ import annotations

import asyncio
import random
import time

from telegram import Bot

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import filecache
from tests.benchmarks.databases import emptied_postgres, fingerprinted, sqlite_url, store_file_ids
from tests.benchmarks.generated import generate_collection
from tests.benchmarks.harness import Context, Goal, Row, timings
from tests.factories import TOKEN

ROWS = (100_000, 10_000)  # full, quick
SAMPLE = (2_000, 300)
PASSES = 5  # lookups of each sample image once its row is in memory
PRELOAD_BATCH = 5_000
GOAL = Goal("median", 20e-6)
FILE_ID = "AgACAgIAAxkBAAbenchmark"


def run(context: Context) -> list[Row]:
    """On SQLite."""
    return asyncio.run(_measure(context, sqlite_url(context.scratch)))


def run_postgres(context: Context) -> list[Row]:
    """On PostgreSQL."""
    return asyncio.run(_measure(context, emptied_postgres(context.postgres_url)))


async def _measure(context: Context, database_url: str) -> list[Row]:
    count = context.size(*ROWS)
    root = generate_collection(context.scratch / "assets", context.size(*SAMPLE))
    rows = _rows(AssetLibrary(root), count)
    library = sender.setup(database_url, root)  # a library of its own: no fingerprint known
    try:
        async with Bot(TOKEN, base_url=context.api.base_url) as bot:
            store_file_ids(rows, bot.id, FILE_ID)
            sample = library.cosmic_keys
            first = [await _lookup(bot, key) for key in sample]
            keys = [key for key, _ in rows]
            for start in range(0, count, PRELOAD_BATCH):
                await filecache.preload(bot.id, keys[start:start + PRELOAD_BATCH])
            after = [await _lookup(bot, key)
                     for key in random.sample(sample * PASSES, len(sample) * PASSES)]
    finally:
        await sender.shutdown()
    return [timings(f"first lookup of an image since start, {count:,} rows", first, "µs"),
            timings(f"every lookup after, all {count:,} rows in memory", after, "µs", GOAL)]


def _rows(library: AssetLibrary, count: int) -> list[tuple[str, str]]:
    """(key, fingerprint) of each image of library, then of images whose files are elsewhere."""
    library.scan()
    found = fingerprinted(library)
    return found + [(f"cosmic/elsewhere-{n:06d}.jpg", "0" * 64) for n in range(count - len(found))]


async def _lookup(bot: Bot, key: str) -> float:
    started = time.perf_counter()
    file_id = await sender.cached_file_id(bot, key)
    elapsed = time.perf_counter() - started
    if file_id != FILE_ID:
        raise AssertionError(f"{key} should be cached, with {FILE_ID}; found {file_id}")
    return elapsed
