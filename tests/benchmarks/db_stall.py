"""Benchmark: what a locked database costs the bot's other users, and reads per inline query.

Usage:
    python -m tests.benchmarks.db_stall [--hold 3] [--postgres URL] [--lock 5] [--rounds 3]

1. Event-loop stall. Another connection holds the cache table locked for --hold seconds
   (SQLite: a write transaction, `BEGIN IMMEDIATE`; PostgreSQL: `LOCK TABLE image_assets`)
   while the bot sends a new image, which needs the database. A ticker on the bot's event loop
   wakes every 10 ms; the longest gap between its wakes is how long every other user of the
   bot would have waited. Also says whether the user who asked got the photo, or an error.
2. A known chat's /cosmic behind a waiting write (SQLite). Every image is cached and a known
   chat has had one. Another process takes the SQLite write lock for --lock seconds; a new
   chat asks for its first image (its "seen" record must wait for the lock), then the known
   chat asks for one: how long that takes, per round, and whether the new chat's "seen" record
   is in the database once the lock is gone.
3. Database reads per inline query: the real Application with the shipped collection
   (assets/images), nothing cached and no cache chat; the SELECTs each of three queries made.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg2
from telegram import Bot

from cosmobot import sender
from cosmobot.delivery import deliver_cosmic
from cosmobot.images.assets import AssetLibrary
from cosmobot.logs import configure_logging
from cosmobot.storage import database, filecache
from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.botrunner import REPO_ROOT, BotThread, bot_settings
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi

CACHE_CHAT, KNOWN_CHAT = -1001000000001, 1001
NEW_CHATS = range(2001, 2100)
# Another process: take the write lock, say so, hold it, let go.
LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.rollback()
"""


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


async def measure_stall(url: str, hold: float, scratch: Path) -> None:
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
    close_database()
    print(f"1. database: {url.split(':')[0]}; lock held for {hold:.1f} s")
    print(f"   longest event-loop stall: {max(gaps) * 1000:.0f} ms")
    print(f"   the user who asked: {outcome}")


async def measure_known_chat(lock: float, rounds: int, scratch: Path) -> None:
    path = scratch / "known.db"
    library = AssetLibrary(make_assets(scratch / "known-assets",
                                       tuple(f"image-{n}.jpg" for n in range(12))))
    library.scan()
    sender.configure(library)
    open_database(f"sqlite:///{path}")
    apply_migrations()
    latencies, present = [], []
    with FakeBotApi([TOKEN]) as api:
        api.add_group(CACHE_CHAT, "Cache")
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            for key in library.cosmic_keys:  # every image cached: each /cosmic is a quick send
                await sender.send_image(bot, CACHE_CHAT, key)
            await deliver_cosmic(bot, KNOWN_CHAT, "en")
            await _writes_done()
            for new_chat in NEW_CHATS[:rounds]:
                latency = await _known_chat_behind_a_lock(bot, path, lock, new_chat)
                latencies.append(latency)
                await _writes_done()
                present.append(_seen_rows(path, new_chat) > 0)
    close_database()
    shown = ", ".join(f"{seconds:.3f}" for seconds in latencies)
    print(f"2. SQLite write lock held by another process for {lock:.1f} s, {rounds} rounds")
    print(f"   known chat's cached /cosmic right after a new chat's: {shown} s "
          f"(median {statistics.median(latencies):.3f} s)")
    print(f"   new chat's 'seen' record present after: {sum(present)} of {rounds}")


async def _known_chat_behind_a_lock(bot: Bot, path: Path, lock: float, new_chat: int) -> float:
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path), str(lock)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        await deliver_cosmic(bot, new_chat, "en")  # its "seen" record now waits for the lock
        started = time.perf_counter()
        await deliver_cosmic(bot, KNOWN_CHAT, "en")
        latency = time.perf_counter() - started
    finally:
        await asyncio.to_thread(locker.wait)
    return latency


async def _writes_done() -> None:
    # The file_id writes, then whatever was queued on the database thread before this.
    await filecache.settle()
    await database.in_db_thread(lambda: None)


def _seen_rows(path: Path, chat_id: int) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT COALESCE(SUM(shown), 0) FROM shuffle_bags WHERE chat_id = ?",
            (chat_id,)).fetchone()[0]


def measure_inline_reads(scratch: Path) -> None:
    assets = REPO_ROOT / "assets" / "images"
    (scratch / "inline").mkdir()
    with FakeBotApi([TOKEN]) as api:
        settings = bot_settings(scratch / "inline", api, assets)
        with BotThread(settings, api):
            reads = _count_reads(database.database.obj)
            counts = [_reads_for(api, reads, query) for query in ("", "", "neb")]
    images = len(list((assets / "cosmic").rglob("*.*"))) - 1  # less credits.toml
    print(f"3. inline queries, {images} images, none cached, no cache chat")
    for query, count in zip(("''", "'' again", "'neb'"), counts):
        print(f"   query {query}: {count} database reads")


def _count_reads(db) -> list[str]:
    reads: list[str] = []
    real = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        if sql.lstrip().upper().startswith("SELECT"):
            reads.append(sql)
        return real(sql, params, *args, **kwargs)

    db.execute_sql = counting
    return reads


def _reads_for(api: FakeBotApi, reads: list[str], query: str) -> int:
    before = len(reads)
    query_id = api.push_inline_query(4242, query)["inline_query"]["id"]
    api.wait_until(lambda: api.inline_answer(query_id), timeout=60)
    return len(reads) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=3.0)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to empty and use")
    parser.add_argument("--lock", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_logging("CRITICAL")
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bot.db'}"
        if args.postgres:
            db = open_database(url)
            db.execute_sql("DROP TABLE IF EXISTS image_assets, seen_images, image_numbers, "
                           "shuffle_bags, send_counts, subscriptions, migratehistory")
            close_database()
        asyncio.run(measure_stall(url, args.hold, Path(scratch)))
        asyncio.run(measure_known_chat(args.lock, args.rounds, Path(scratch)))
        measure_inline_reads(Path(scratch))


if __name__ == "__main__":
    main()
