"""Scenario: a whole /cosmic through cosmobot next to a bare PTB bot, both processes of their own.

Both long-poll the same fake Bot API, each with its own token, and take turns: a new chat
sends /cosmic, timed from the moment the update is pushed onto the bot's held getUpdates to
the moment its sendPhoto reaches the fake. cosmobot runs as `python -m cosmobot` with the
shipped collection, every image cached (rows stored as a warm-up would leave them, one
upload's file_id for all), logging as it does by default; the bare bot
(tests.benchmarks.barebot) answers with its own file_id of one of those images, its caption
and a button, from a dict.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import time
from pathlib import Path

from telegram import Bot

from cosmobot import sender
from cosmobot.config import Settings
from cosmobot.images.assets import AssetLibrary
from tests.benchmarks import barebot
from tests.benchmarks.databases import cache_every_image, emptied_postgres, sqlite_url
from tests.benchmarks.harness import UNPACED_GAP_SECONDS, Context, Goal, Row, timings
from tests.benchmarks.pollers import answered_call, wait_for_held_poll
from tests.botrunner import REPO_ROOT, BotProcess
from tests.factories import OTHER_TOKEN, TOKEN, make_image
from tests.fakebotapi import FakeBotApi

ROUNDS = (60, 6)  # full, quick
WARM_UP_ROUNDS = 3
CACHE_CHAT = -1001000000001
SHIPPED = REPO_ROOT / "assets" / "images"
START_SECONDS = 60  # for a process to start polling, on a busy machine
RATIO_GOAL = Goal("ratio", 1.05)
BARE, COSMOBOT = "bare PTB bot, file_id from a dict", "cosmobot (python -m cosmobot)"


class BareBotProcess(BotProcess):
    """tests.benchmarks.barebot as a child process, stopped like cosmobot's (SIGINT)."""

    def __init__(self, api: FakeBotApi, file_id: str, caption: str, cwd: Path) -> None:
        super().__init__({barebot.TOKEN_VARIABLE: OTHER_TOKEN}, cwd)
        self.argv = ["--api-url", api.base_url, "--file-id", file_id, "--caption", caption]

    def start(self) -> BareBotProcess:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.benchmarks.barebot", *self.argv],
                cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self


def run(context: Context) -> list[Row]:
    """On SQLite."""
    return _measure(context, sqlite_url(context.scratch))


def run_postgres(context: Context) -> list[Row]:
    """On PostgreSQL."""
    return _measure(context, emptied_postgres(context.postgres_url))


def _measure(context: Context, database_url: str) -> list[Row]:
    api = context.api
    api.add_group(CACHE_CHAT, "Cache")
    settings = Settings(token=TOKEN, database_url=database_url, assets_dir=SHIPPED,
                        api_url=api.base_url)
    with context.full_speed():
        cache_every_image(settings, make_image(context.scratch / "upload.jpg"), CACHE_CHAT)
        file_id, caption = asyncio.run(_reference_photo(api))
    bots = {
        BARE: (OTHER_TOKEN, BareBotProcess(api, file_id, caption, context.scratch)),
        COSMOBOT: (TOKEN, BotProcess({"COSMOBOT_TOKEN": TOKEN,
                                      "COSMOBOT_DATABASE_URL": database_url,
                                      "COSMOBOT_ASSETS_DIR": str(SHIPPED),
                                      "COSMOBOT_API_URL": api.base_url}, context.scratch)),
    }
    processes = [process for _, process in bots.values()]
    try:
        for process in processes:
            process.start()
        for token, _ in bots.values():
            wait_for_held_poll(api, token, START_SECONDS)
        seconds = _take_turns(context, {what: token for what, (token, _) in bots.items()})
    except AssertionError as error:
        error.add_note("\n".join(f"{process.log_path}:\n{process.output[-2000:]}"
                                 for process in processes))
        raise
    finally:
        _stop(processes)
    reference = timings(BARE, seconds[BARE])
    return [reference, timings(COSMOBOT, seconds[COSMOBOT]).against(reference, RATIO_GOAL)]


async def _reference_photo(api: FakeBotApi) -> tuple[str, str]:
    """The bare bot's own file_id of a shipped image, and cosmobot's caption for it."""
    library = AssetLibrary(SHIPPED)
    library.scan()
    sender.configure(library)
    key = library.cosmic_keys[0]
    async with Bot(OTHER_TOKEN, base_url=api.base_url) as bot:
        message = await bot.send_photo(CACHE_CHAT, sender.library().resolve(key).read_bytes())
    return message.photo[-1].file_id, sender.image_caption(key)


def _take_turns(context: Context, tokens: dict[str, str]) -> dict[str, list[float]]:
    """Seconds of each bot's /cosmic, in turns whose order rotates; the first not counted."""
    chats = itertools.count(20_000)
    seconds: dict[str, list[float]] = {what: [] for what in tokens}
    order = list(tokens)
    for number in range(WARM_UP_ROUNDS + context.size(*ROUNDS)):
        for what in order[number % len(order):] + order[:number % len(order)]:
            elapsed = _cosmic(context, tokens[what], next(chats))
            if number >= WARM_UP_ROUNDS:
                seconds[what].append(elapsed)
    return seconds


def _cosmic(context: Context, token: str, chat: int) -> float:
    """Seconds from a new chat's /cosmic pushed to the bot's sendPhoto arriving."""
    api = context.api
    wait_for_held_poll(api, token)
    # Each bot's turns come at least this far apart, so its pacing never holds a photo.
    time.sleep(UNPACED_GAP_SECONDS)
    pushed = time.monotonic()
    api.push_text(chat, "/cosmic", token=token)
    call = answered_call(api, token, "sendPhoto", chat, pushed)
    if call.status != 200 or not isinstance(call.params.get("photo"), str):
        raise AssertionError(f"/cosmic in chat {chat} was not answered by file_id: {call}")
    return call.timestamp - pushed


def _stop(processes: list[BotProcess]) -> None:
    """Stop every process that was started; fail on one that did not end cleanly."""
    failures = []
    for process in processes:
        if process.process is not None and process.stop() != 0:
            failures.append(process.output[-2000:])
    if failures:
        raise AssertionError("a bot did not stop cleanly:\n" + "\n".join(failures))
