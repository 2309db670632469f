"""Benchmark: what pruning a big backlog costs the bot's own queries meanwhile.

Usage:
    python -m tests.benchmarks.prune [--chats 20000] [--postgres URL]

The database holds --chats chats' shuffle bags (a row each), half of them idle for 91 days
and unsubscribed, plus as many inactive subscriptions, half of them 91 days old (then
ANALYZE, as autovacuum would have done on a database that grew this big). A "user"
reads a chat's bag and claims an image in it (what every /cosmic does) every 20 ms: a few seconds
alone, then while pruning runs with its default batches and pauses, then alone again. The
script prints the user's query times side by side, and how long each batch took.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from cosmobot import clock
from cosmobot.logs import configure_logging
from cosmobot.storage import bagrows, prune
from cosmobot.storage.database import (
    apply_migrations,
    database,
    in_db_thread,
    open_database,
    read_in_db_thread,
)
from cosmobot.storage.models import ShuffleBag, Subscription
from tests.benchmarks.databases import emptied_postgres
from tests.factories import BOT_ID

IMAGES_PER_CHAT = 40  # the size of each chat's round
BASELINE_SECONDS = 3.0


def fill(chats: int) -> None:
    """Write the backlog: every other chat idle, every other subscription old and inactive."""
    now = clock.utcnow()
    old, fresh = now - dt.timedelta(days=91), now - dt.timedelta(days=1)
    for first in range(1, chats + 1, 500):
        chat_ids = range(first, min(first + 500, chats + 1))
        with database.atomic():
            ShuffleBag.insert_many(
                [{"bot_id": BOT_ID, "chat_id": chat, "seed": chat, "leg_end": IMAGES_PER_CHAT,
                  "step": chat % IMAGES_PER_CHAT, "updated_at": old if chat % 2 else fresh}
                 for chat in chat_ids]).execute()
            Subscription.insert_many(
                [{"bot_id": BOT_ID, "chat_id": -chat, "chat_type": "group", "language": "en",
                  "local_time": "09:00", "zone": "UTC", "active": False, "next_at": now,
                  "updated_at": old if chat % 2 else fresh} for chat in chat_ids]).execute()


async def user(latencies: list[float], stop: asyncio.Event, chat_id: int) -> None:
    """Ask for an image every 20 ms: read the bag, claim one image; note how long it took."""
    while not stop.is_set():
        started = time.perf_counter()
        row = await read_in_db_thread(bagrows.read_row, BOT_ID, chat_id)
        state = bagrows.state_of(row)
        # Forty steps over and over: the bag stays the size of a real one.
        claimed = replace(state, leg_end=IMAGES_PER_CHAT,
                          step=(state.step + 1) % IMAGES_PER_CHAT)
        await in_db_thread(bagrows.set_if_unchanged, BOT_ID, chat_id,
                           None if row is None else row.version, claimed)
        latencies.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)


async def alone(chat_id: int) -> list[float]:
    """The user's query times for a few seconds with nothing else going on."""
    latencies, stop = [], asyncio.Event()
    asking = asyncio.create_task(user(latencies, stop, chat_id))
    await asyncio.sleep(BASELINE_SECONDS)
    stop.set()
    await asking
    return latencies


async def measure(chats: int) -> None:
    before = await alone(chats + 1)
    during, batches = [], []
    real_in_db_thread = prune.in_db_thread

    async def timed(call, *args):
        started = time.perf_counter()
        result = await real_in_db_thread(call, *args)
        batches.append(time.perf_counter() - started)
        return result

    prune.in_db_thread = timed
    stop = asyncio.Event()
    asking = asyncio.create_task(user(during, stop, chats + 2))
    started = time.perf_counter()
    report = await prune.prune_stale(BOT_ID)
    elapsed = time.perf_counter() - started
    stop.set()
    await asking
    after = await alone(chats + 3)
    print(f"{report.summary()}; {elapsed:.1f} s in {len(batches)} batches")
    print(f"batch (query on the database thread): median {_ms(statistics.median(batches))}, "
          f"max {_ms(max(batches))}")
    for name, times in (("alone, before", before), ("while pruning", during),
                        ("alone, after", after)):
        print(f"user's bag read + write, {name}: median {_ms(statistics.median(times))}, "
              f"p95 {_ms(_p95(times))}, max {_ms(max(times))} ({len(times)} asks)")


def _p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20_000)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to empty and use")
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as scratch:
        url = (emptied_postgres(args.postgres) if args.postgres
               else f"sqlite:///{Path(scratch) / 'bot.db'}")
        db = open_database(url)
        apply_migrations()
        fill(args.chats)
        db.execute_sql("ANALYZE")
        print(f"database: {url.split(':')[0]}; {args.chats} chats, "
              f"{args.chats} shuffle bags, {args.chats} subscriptions")
        asyncio.run(measure(args.chats))


if __name__ == "__main__":
    main()
