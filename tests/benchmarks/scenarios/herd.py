"""Scenario: a herd of users asking at once for one image nobody has sent yet.

tests.benchmarks.herd's rounds, with the largest shipped image (about 500 KB): one user alone
(one cold send: the upload) and the whole herd take turns, each on a new database. One upload
serves the herd (the round checks it) and every user gets the photo (a failed send raises);
the last photo of the herd is compared with the one cold send. Beside them, the floor of the
herd's sends by file_id: as many bare PTB send_photo(file_id) on the same bot, all at once,
and (faster here) at most photosend.SENDS_IN_FLIGHT at a time; and the floor of the whole
herd: one cold send followed by those capped bare sends, round by round, compared with the
one cold send as the herd is. The fake Bot API runs in this process: each request's work on
both sides shares one interpreter, so a hundred requests cost a few hundred milliseconds here.
"""

from __future__ import annotations

import asyncio
import time

from telegram import Bot

from cosmobot.botapi.photosend import SENDS_IN_FLIGHT
from tests.benchmarks import herd, send_latency
from tests.benchmarks.harness import Context, Goal, Row, timings
from tests.fakebotapi import FakeBotApi

USERS = (100, 20)  # full, quick
ROUNDS = (6, 2)
LAST_GOAL = Goal("ratio", 1.5)


def run(context: Context) -> list[Row]:
    return asyncio.run(_measure(context, context.size(*USERS), context.size(*ROUNDS)))


async def _measure(context: Context, users: int, rounds: int) -> list[Row]:
    image = send_latency.pick_image(None, context.scratch)
    cold, last, bare, capped = [], [], [], []
    async with herd.herd_bot(context.api, users) as bot:
        for number in range(rounds):
            # Turns alternate which goes first, so both see the machine alike.
            for size in (1, users) if number % 2 else (users, 1):
                finished = await herd.one_round(bot, context.api, size, None, context.scratch,
                                                2 * number + (size == 1), image)
                (cold if size == 1 else last).append(finished[-1])
            bare.append(await _bare_sends(bot, context.api, users))
            capped.append(await _bare_sends(bot, context.api, users, SENDS_IN_FLIGHT))
    reference = timings("one user: one cold send (the upload)", cold)
    return [reference,
            timings(f"{users} users at once: the last one's photo (1 upload)",
                    last).against(reference, LAST_GOAL),
            timings(f"{users} bare PTB send_photo(file_id) at once: the last one", bare),
            timings(f"{users} bare PTB send_photo(file_id), {SENDS_IN_FLIGHT} at a time: "
                    "the last one", capped),
            timings(f"floor: one cold send, then {users} bare sends {SENDS_IN_FLIGHT} at a time",
                    [one + sends for one, sends in zip(cold, capped)]).against(reference)]


async def _bare_sends(bot: Bot, api: FakeBotApi, users: int, at_once: int | None = None) -> float:
    """Seconds until the last of users sends by the file_id just uploaded has its answer."""
    file_id = api.uploads()[-1].result["photo"][-1]["file_id"]
    slots = asyncio.Semaphore(at_once or users)

    async def send(chat_id: int) -> None:
        async with slots:
            await bot.send_photo(chat_id, file_id)

    started = time.perf_counter()
    await asyncio.gather(*(send(100_000 + user) for user in range(users)))
    return time.perf_counter() - started
