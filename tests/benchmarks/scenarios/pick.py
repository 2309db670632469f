"""Scenario: a chat's next image out of its shuffle bag at 1,000, 10,000 and 100,000 images.

Each chat timed has seen every image of the collection but one: its pick is the last of its
round. Timed per pick as a send makes it: `shufflebag.pick_next` (the chat's row read from
the database, the next image worked out, the claim written compare-and-set) and `settle`
once it is shown. Each chat is picked for once, so every pick reads a row no pick has cached.
Then what the bag stores: its rows per chat, and on PostgreSQL the bytes of a chat's row.
"""

from __future__ import annotations

import asyncio
import random
import time

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import numbering, shufflebag
from cosmobot.storage.bagstate import new_seed
from cosmobot.storage.database import database, in_db_thread, read_in_db_thread
from cosmobot.storage.models import ShuffleBag
from cosmobot.storage.shuffle import Shuffle
from tests.benchmarks.databases import emptied_postgres, sqlite_url
from tests.benchmarks.generated import generate_collection
from tests.benchmarks.harness import Context, Goal, Row, timings

SIZES = ((1_000, 10_000, 100_000), (1_000, 5_000))  # full, quick
CHATS = (300, 30)  # chats picked for at each size
BOT_ID = 7_000_000_001
GOAL = {100_000: Goal("median", 1e-3, strict=True)}
INSERT_ROWS = 500


def run(context: Context) -> list[Row]:
    """On SQLite."""
    return asyncio.run(_measure(context, lambda count: sqlite_url(context.scratch, f"pick{count}")))


def run_postgres(context: Context) -> list[Row]:
    """On PostgreSQL."""
    return asyncio.run(_measure(context, lambda _: emptied_postgres(context.postgres_url)))


async def _measure(context: Context, fresh_database) -> list[Row]:
    rows = []
    for count in SIZES[1] if context.quick else SIZES[0]:
        root = context.scratch / f"assets-{count}"
        if not root.exists():
            generate_collection(root, count)
        library = sender.setup(fresh_database(count), root)
        try:
            rows += await _picks(library, count, context.size(*CHATS))
        finally:
            shufflebag.reset()
            await sender.shutdown()
    return rows


async def _picks(library: AssetLibrary, count: int, chats: int) -> list[Row]:
    # Numbered first, as a running bot's images are: the first pick after a scan waits for
    # that only so long.
    await in_db_thread(numbering.number_keys, BOT_ID, library.cosmic_keys)
    deck = await numbering.deck_for(BOT_ID, library)
    last = await read_in_db_thread(_all_but_one_seen, count, chats)
    seconds = []
    for chat_id, number in last.items():
        started = time.perf_counter()
        pick = await shufflebag.pick_next(BOT_ID, chat_id, library)
        shufflebag.settle(pick, shown=True)
        seconds.append(time.perf_counter() - started)
        if pick.key != deck.key(number):
            raise AssertionError(f"chat {chat_id} should get {deck.key(number)}, the last "
                                 f"image of its round; it got {pick.key}")
    stored = await read_in_db_thread(_storage, list(last))
    result = [timings(f"next pick, seen all but one of {count:,} images", seconds, "µs",
                      GOAL.get(count)),
              Row(f"rows per chat, {count:,} images", "rows", 1, *[stored[0]] * 4)]
    if stored[1] is not None:
        result.append(Row(f"bytes of a chat's row, {count:,} images", "B", 1,
                          *[stored[1]] * 4))
    return result


def _all_but_one_seen(count: int, chats: int) -> dict[int, int]:
    """Give chats bags that have seen every image but one; each chat's last image number."""
    bags, last = [], {}
    for chat_id in random.sample(range(1, 10 * chats), chats):
        seed = new_seed()
        bags.append({"bot_id": BOT_ID, "chat_id": chat_id, "seed": seed, "leg_start": 0,
                     "leg_end": count, "step": count - 1, "shown": count - 1, "version": 1})
        last[chat_id] = Shuffle(seed, 0, count).at(count - 1)
    with database.atomic():
        for start in range(0, len(bags), INSERT_ROWS):
            ShuffleBag.insert_many(bags[start:start + INSERT_ROWS]).execute()
    return last


def _storage(chats: list[int]) -> tuple[float, float | None]:
    """Rows per chat in the bag's table; bytes of a row on PostgreSQL (None on SQLite)."""
    rows = ShuffleBag.select().where(ShuffleBag.bot_id == BOT_ID).count() / len(chats)
    if "postgres" not in type(database.obj).__name__.lower():
        return rows, None
    size = database.execute_sql(
        "SELECT AVG(pg_column_size(b.*)) FROM shuffle_bags b WHERE bot_id = %s",
        (BOT_ID,)).fetchone()[0]
    return rows, float(size)
