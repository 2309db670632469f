"""Scenario: a cached send through sender.send_image next to a bare bot.send_photo(file_id).

Three sends of one cached photo take turns, each to a chat of its own, spaced so that no
pacing applies: PTB's bare `bot.send_photo(file_id)`, the sender's `send_image` on that same
bot, and `send_image` on the bot cosmobot's Application builds (its pacing and defaults).
The ratio of each median to the bare send's is what the sender adds to the Bot API call.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

from telegram import Bot

from cosmobot import sender
from cosmobot.bot.app import build_application
from cosmobot.config import Settings
from tests.benchmarks.databases import emptied_postgres, sqlite_url
from tests.benchmarks.harness import UNPACED_GAP_SECONDS, Context, Goal, Row, timings
from tests.benchmarks.send_latency import copy_to_assets, pick_image
from tests.factories import TOKEN

ROUNDS = (60, 12)  # full, quick
WARM_UP_ROUNDS = 3
CACHE_CHAT = 500  # where the one upload goes
RATIO_GOAL = Goal("ratio", 1.03)

Send = Callable[[int], Awaitable[object]]


def run(context: Context) -> list[Row]:
    """On SQLite."""
    return asyncio.run(_measure(context, sqlite_url(context.scratch)))


def run_postgres(context: Context) -> list[Row]:
    """On PostgreSQL."""
    return asyncio.run(_measure(context, emptied_postgres(context.postgres_url)))


async def _measure(context: Context, database_url: str) -> list[Row]:
    library, key = copy_to_assets(pick_image(None, context.scratch), context.scratch)
    sender.setup(database_url, library.root)
    settings = Settings(token=TOKEN, database_url=database_url, assets_dir=library.root,
                        api_url=context.api.base_url)
    try:
        async with Bot(TOKEN, base_url=context.api.base_url) as bare, \
                build_application(settings).bot as cosmobots:
            with context.full_speed():
                file_id = (await sender.send_image(bare, CACHE_CHAT, key)).photo[-1].file_id
            sends: dict[str, Send] = {
                "bare PTB bot.send_photo(file_id)": lambda chat: bare.send_photo(chat, file_id),
                "sender.send_image, cached, same bare bot":
                    lambda chat: sender.send_image(bare, chat, key),
                "sender.send_image, cached, cosmobot's bot (pacing)":
                    lambda chat: sender.send_image(cosmobots, chat, key),
            }
            seconds = await _take_turns(sends, context.size(*ROUNDS))
    finally:
        await sender.shutdown()
    reference, *others = (timings(what, samples) for what, samples in seconds.items())
    return [reference] + [row.against(reference, RATIO_GOAL) for row in others]


async def _take_turns(sends: dict[str, Send], rounds: int) -> dict[str, list[float]]:
    """Seconds of each send, in turns whose order rotates; the first rounds are not counted."""
    chats = itertools.count(10_000)
    seconds: dict[str, list[float]] = {what: [] for what in sends}
    order = list(sends)
    last = 0.0
    for number in range(WARM_UP_ROUNDS + rounds):
        for what in order[number % len(order):] + order[:number % len(order)]:
            await asyncio.sleep(max(0.0, last + UNPACED_GAP_SECONDS - time.perf_counter()))
            last = time.perf_counter()
            await sends[what](next(chats))
            if number >= WARM_UP_ROUNDS:
                seconds[what].append(time.perf_counter() - last)
    return seconds
