"""Scenario: a restart, a new `python -m cosmobot run` on a database that has cached everything.

The shipped collection is warmed once. Then, each time, a new chat's /cosmic waits in the
fake's update queue while a new process starts; timed from the process's start to its
sendPhoto reaching the fake, and every photo must go by file_id (0 uploads).
"""

from __future__ import annotations

import time

from cosmobot.config import Settings
from tests.benchmarks.databases import sqlite_url
from tests.benchmarks.harness import Context, Goal, Row, timings
from tests.benchmarks.pollers import answered_call
from tests.botrunner import REPO_ROOT, BotProcess, warm_now
from tests.factories import TOKEN

RESTARTS = (5, 2)  # full, quick
CACHE_CHAT = -1001000000002
SHIPPED = REPO_ROOT / "assets" / "images"
START_SECONDS = 60  # for a process to start and answer, on a busy machine
GOAL = Goal("median", 1.5, strict=True)


def run(context: Context) -> list[Row]:
    api = context.api
    api.add_group(CACHE_CHAT, "Cache")
    database_url = sqlite_url(context.scratch)
    with context.full_speed():
        warm_now(Settings(token=TOKEN, database_url=database_url, assets_dir=SHIPPED,
                          api_url=api.base_url), CACHE_CHAT)
    uploads = len(api.uploads())
    seconds = [_first_photo(context, database_url, 30_000 + n)
               for n in range(context.size(*RESTARTS))]
    if len(api.uploads()) != uploads:
        raise AssertionError(f"{len(api.uploads()) - uploads} uploads after a restart, not 0")
    return [timings("process start to the first photo delivered (0 uploads)", seconds, "s",
                    GOAL)]


def _first_photo(context: Context, database_url: str, chat: int) -> float:
    process = BotProcess({"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": database_url,
                          "COSMOBOT_ASSETS_DIR": str(SHIPPED),
                          "COSMOBOT_API_URL": context.api.base_url}, context.scratch)
    context.api.push_text(chat, "/cosmic", token=TOKEN)
    started = time.monotonic()
    process.start()
    try:
        call = answered_call(context.api, TOKEN, "sendPhoto", chat, started, START_SECONDS)
    except AssertionError as error:
        error.add_note(process.output[-2000:])
        raise
    finally:
        if process.stop() != 0:
            raise AssertionError(f"the bot did not stop cleanly:\n{process.output[-2000:]}")
    if call.status != 200 or not isinstance(call.params.get("photo"), str):
        raise AssertionError(f"the first photo after a restart went as an upload: {call}")
    return call.timestamp - started
