"""Warming the file_id cache: uploading every image not cached yet to the cache chat.

Users then only ever get sends by file_id, the very first one too. The bot runs a pass in
the background after it starts and after each rescan that found changes; `cosmobot warm`
runs one and exits. Uploads go on the rate limiter's bulk lane, at the cache chat's own
pace, behind users' replies.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum

from loguru import logger
from telegram import Bot
from telegram.error import TelegramError

from cosmobot import sender
from cosmobot.botapi import ratelimit
from cosmobot.botapi.retry import chat_is_gone
from cosmobot.storage import filecache
from cosmobot.storage.models import ImageAsset


class Outcome(StrEnum):
    UPLOADED = "uploaded"
    CACHED = "already cached"
    FAILED = "failed"


# Called after each image with its key and what became of it.
OnImage = Callable[[str, Outcome], None]
# How long a stopping bot waits for the warm-up's upload on its way (bounded: a stop must end).
STOP_WAIT_SECONDS = 15.0


class CacheChatUnusable(Exception):
    """The bot cannot post to the cache chat at all: no use trying the other images."""


@dataclass
class WarmReport:
    """What a warm pass did, image by image."""

    chat_id: int
    total: int
    outcomes: Counter[Outcome] = field(default_factory=Counter)

    @property
    def complete(self) -> bool:
        """Whether every image is cached now."""
        return self.outcomes[Outcome.UPLOADED] + self.outcomes[Outcome.CACHED] == self.total

    def summary(self) -> str:
        """One line for a person: the counts, and whether every image is cached."""
        counts = ", ".join(f"{self.outcomes[outcome]} {outcome}" for outcome in Outcome)
        missing = self.total - self.outcomes[Outcome.UPLOADED] - self.outcomes[Outcome.CACHED]
        verdict = "every image is cached" if self.complete else f"{missing} not cached"
        return f"Warmed {self.total} images in chat {self.chat_id}: {counts}; {verdict}."


async def warm_cache(bot: Bot, chat_id: int, on_image: OnImage | None = None,
                     stopping: Callable[[], bool] = lambda: False) -> WarmReport:
    """Upload to chat_id every installed image bot has no valid cached file_id for.

    Once stopping() is true, no further image is taken; the pass ends early.
    """
    keys = sender.library().cosmic_keys
    await filecache.preload(bot.id, keys)  # one query instead of one per image
    report = WarmReport(chat_id, len(keys))
    for done, key in enumerate(keys):
        if stopping():
            break
        try:
            outcome = await _warm_one(bot, chat_id, key)
        except CacheChatUnusable as error:
            logger.error("Cannot post to the cache chat {}: {}; the bot must be able to post "
                         "there (in a channel, as an administrator)", chat_id, error)
            report.outcomes[Outcome.FAILED] += len(keys) - done
            return report
        report.outcomes[outcome] += 1
        if on_image is not None:
            on_image(key, outcome)
    return report


async def _warm_one(bot: Bot, chat_id: int, key: str) -> Outcome:
    if await sender.is_cached(bot, key):
        return Outcome.CACHED
    try:
        sent = await sender.send_image(bot, chat_id, key, caption=key, chat_action=False,
                                       upload_only=True, **ratelimit.bulk_options(bot))
    except TelegramError as error:
        if chat_is_gone(error):
            raise CacheChatUnusable(error) from error
        logger.warning("Could not upload {} to the cache chat: {}", key, error)
        return Outcome.FAILED
    if isinstance(sent, ImageAsset):
        return Outcome.CACHED  # by another process (`cosmobot warm`, a standby) meanwhile
    # None: the file turned out unusable, and the library dropped it with a warning.
    return Outcome.UPLOADED if sent is not None else Outcome.FAILED


class BackgroundWarmer:
    """The bot's warm passes: one at a time, as a task of their own.

    Not a job's body: stopping the JobQueue waits for running jobs, and a pass at a group's
    20 posts a minute must not hold up a shutdown.
    """

    def __init__(self, chat_id: int) -> None:
        self.chat_id = chat_id
        self._task: asyncio.Task | None = None
        self._again = False
        self._stopping = False

    def start(self, bot: Bot) -> None:
        """Start a pass in the background; if one is running, it makes one more pass after."""
        if self._stopping:
            return
        if self._task is not None and not self._task.done():
            self._again = True  # the images changed since that pass listed them
            return
        self._task = asyncio.create_task(self._run(bot), name="warm-cache")

    async def stop(self, timeout: float = STOP_WAIT_SECONDS) -> None:
        """Take no new image, let the one on its way finish (up to timeout s), then end.

        Call it while the bot can still reach Telegram: an upload cut off midway is lost.
        What the pass uploaded stays cached; the next start warms the rest.
        """
        self._stopping = True
        if self._task is None or self._task.done():
            return
        done, _ = await asyncio.wait([self._task], timeout=timeout)
        if not done:
            logger.warning("The cache warm-up's upload was still on its way after {:.0f}s; "
                           "cut it off to stop", timeout)
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, bot: Bot) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                report = await warm_cache(bot, self.chat_id, stopping=lambda: self._stopping)
            except Exception:  # a task's exception would otherwise go unseen
                logger.exception("The cache warm-up failed")
                return
            if self._stopping:
                logger.info("The cache warm-up stopped with the bot; the next start goes on")
                return
            log = logger.info if report.complete else logger.warning
            log("{}", report.summary())
