"""Benchmark: the migrations from 005 (several bots) on a big database at 004's schema.

Usage:
    python -m tests.benchmarks.migrate_bots [--chats 20000] [--postgres URL]

The database holds --chats subscriptions and 40 seen images per chat, the 81 images cached
by one bot (or by none, with --unclaimed: then the rows wait for the first bot that starts,
whose adoption is timed too), and the two totals. The script prints how long the migrations
took (005, and those after it: 008 makes each chat's seen images one row of shuffle_bags),
and checks that every row is still there, with its bot.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import peewee

from cosmobot import clock
from cosmobot.logs import configure_logging
from cosmobot.storage.adoption import UNCLAIMED, adopt_unclaimed
from cosmobot.storage.database import apply_migrations, migration_router, open_database
from tests.benchmarks.databases import emptied_postgres
from tests.factories import BOT_ID

IMAGES = 81
IMAGES_PER_CHAT = 40
BEFORE = "004_add_daily_round_bookkeeping"


def fill(db: peewee.Database, chats: int, cached: bool) -> None:
    """Rows as 004's schema holds them, written in batches of 500 chats."""
    now = clock.utcnow()
    for first in range(1, chats + 1, 500):
        chat_ids = range(first, min(first + 500, chats + 1))
        with db.atomic():
            insert(db, "subscriptions", ("chat_id", "chat_type", "language", "local_time",
                                         "zone", "next_at"),
                   [(chat, "private", "en", "09:00", "UTC", now) for chat in chat_ids])
            insert(db, "seen_images", ("chat_id", "asset_key", "seen_at"),
                   [(chat, f"cosmic/{n}.jpg", now) for chat in chat_ids
                    for n in range(IMAGES_PER_CHAT)])
    insert(db, "send_counts", ("name", "value"), [("uploads", IMAGES), ("file_id_sends", chats)])
    if cached:
        insert(db, "image_assets", ("asset_key", "file_id", "file_unique_id", "bot_id",
                                    "fingerprint"),
               [(f"cosmic/{n}.jpg", f"AgAC-{n}", f"u-{n}", BOT_ID, "f" * 64)
                for n in range(IMAGES)])


def insert(db: peewee.Database, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    marks = "(" + ", ".join([db.param] * len(columns)) + ")"
    for start in range(0, len(rows), 1000):
        batch = rows[start:start + 1000]
        db.execute_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                       + ", ".join([marks] * len(batch)),
                       tuple(value for row in batch for value in row))


def owners(db: peewee.Database) -> dict[str, dict[int, int]]:
    """Each table's rows by bot."""
    return {table: dict(db.execute_sql(f"SELECT bot_id, count(*) FROM {table} GROUP BY bot_id")
                        .fetchall())
            for table in ("subscriptions", "shuffle_bags", "send_counts", "image_assets")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=20_000)
    parser.add_argument("--unclaimed", action="store_true", help="no image cached by any bot")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database to empty and use")
    args = parser.parse_args()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as scratch:
        url = (emptied_postgres(args.postgres) if args.postgres
               else f"sqlite:///{Path(scratch) / 'bot.db'}")
        db = open_database(url)
        migration_router().run(BEFORE)
        fill(db, args.chats, cached=not args.unclaimed)
        print(f"database: {url.split(':')[0]}; {args.chats} subscriptions, "
              f"{args.chats * IMAGES_PER_CHAT} seen images, "
              f"{0 if args.unclaimed else IMAGES} cached images")
        started = time.perf_counter()
        applied = apply_migrations()
        print(f"{', '.join(applied)}: {time.perf_counter() - started:.2f} s")
        if args.unclaimed:
            started = time.perf_counter()
            adopted = adopt_unclaimed(BOT_ID)
            print(f"adoption by the first bot: {adopted} rows in "
                  f"{time.perf_counter() - started:.2f} s")
        rows = owners(db)
        print(f"rows by bot: {rows}")
        # Since 008 a chat's seen images are one row of shuffle_bags.
        expected = args.chats * 2 + 2
        kept = sum(count for table, by_bot in rows.items() if table != "image_assets"
                   for count in by_bot.values())
        assert kept == expected and UNCLAIMED not in rows["subscriptions"], "rows were lost"


if __name__ == "__main__":
    main()
