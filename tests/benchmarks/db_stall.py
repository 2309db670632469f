"""Benchmark: how long the event loop stands still while the database is locked.

Usage:
    python -m tests.benchmarks.db_stall [--hold 3] [--postgres URL]

Another connection holds the cache table locked for --hold seconds (SQLite: a write
transaction, `BEGIN IMMEDIATE`; PostgreSQL: `LOCK TABLE image_assets`) while the bot sends a
new image, which needs the database. A ticker on the bot's event loop wakes every 10 ms; the
longest gap between its wakes is how long every other user of the bot would have waited. The
script also says whether the user who asked got the photo, or an error.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
from telegram import Bot

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.logs import configure_logging
from cosmobot.storage.database import apply_migrations, open_database
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi


def hold_lock(url: str, seconds: float, locked: threading.Event) -> None:
    """Keep the cache table locked from a connection of another 'process' for a while."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection = psycopg2.connect(url)
        connection.cursor().execute("LOCK TABLE image_assets IN ACCESS EXCLUSIVE MODE")
    locked.set()
    time.sleep(seconds)
    connection.rollback()
    connection.close()


async def ticker(gaps: list[float], stop: asyncio.Event) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last - 0.01)
        last = now


async def measure(url: str, hold: float, scratch: Path) -> None:
    library = AssetLibrary(make_assets(scratch / "assets", ("orion.jpg",)))
    library.scan()
    sender.configure(library)
    open_database(url)
    apply_migrations()
    with FakeBotApi([TOKEN]) as api:
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            locked = threading.Event()
            locker = threading.Thread(target=hold_lock, args=(url, hold, locked))
            locker.start()
            locked.wait()
            gaps, stop = [], asyncio.Event()
            ticking = asyncio.create_task(ticker(gaps, stop))
            try:
                outcome = "got the photo" if await sender.send_image(bot, 1, "cosmic/orion.jpg") \
                    else "got nothing"
            except Exception as error:  # noqa: BLE001 -- the figure is what the user got
                outcome = f"got an error: {type(error).__name__}: {error}"
            await asyncio.to_thread(locker.join)
            stop.set()
            await ticking
    print(f"database: {url.split(':')[0]}; lock held for {hold:.1f} s")
    print(f"longest event-loop stall: {max(gaps) * 1000:.0f} ms")
    print(f"the user who asked: {outcome}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to empty and use")
    args = parser.parse_args()
    configure_logging("CRITICAL")
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bot.db'}"
        if args.postgres:
            db = open_database(url)
            db.execute_sql("DROP TABLE IF EXISTS image_assets, migratehistory")
            db.close()
        asyncio.run(measure(url, args.hold, Path(scratch)))


if __name__ == "__main__":
    main()
