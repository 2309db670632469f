"""Each chat's shuffle bag: every image once before any image comes to that chat again.

The bag lives in the database (seen_images), so it survives restarts and the bot keeps
nothing per chat in memory: one small read before a send and one small write after it.
Images added later join the current round; removed ones simply stop being picked.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

import peewee
from loguru import logger

from cosmobot.storage.database import database, in_db_thread, queue_in_db_thread
from cosmobot.storage.models import SeenImage


@dataclass(frozen=True)
class Bag:
    """What one chat has seen this round, in the order it saw it."""

    chat_id: int
    seen: tuple[str, ...] = ()

    def pick(self, installed: Sequence[str]) -> tuple[str | None, bool]:
        """Return a random installed image not seen this round, and whether it starts a new one.

        When every installed image was seen, a new round starts, and its first image is not
        the one just shown, when there is another. None when nothing is installed.
        """
        seen = set(self.seen)
        unseen = [key for key in installed if key not in seen]
        if unseen:
            return random.choice(unseen), False
        if not installed:
            return None, False
        last = self.seen[-1] if self.seen else None
        return random.choice([key for key in installed if key != last] or list(installed)), True

    def pick_among(self, candidates: Sequence[str]) -> str | None:
        """Return a random candidate not seen this round; if all were, any but the last seen.

        For a search: the round goes on, so it never starts a new one.
        """
        seen = set(self.seen)
        unseen = [key for key in candidates if key not in seen]
        if unseen:
            return random.choice(unseen)
        last = self.seen[-1] if self.seen else None
        others = [key for key in candidates if key != last] or list(candidates)
        return random.choice(others) if others else None


async def open_bag(chat_id: int) -> Bag:
    """Read the chat's bag; an empty one if the database cannot say (any image will do)."""
    try:
        return Bag(chat_id, tuple(await in_db_thread(_seen_keys, chat_id)))
    except peewee.PeeweeException as error:
        # A repeat is a small price; leaving the user without an image is not.
        logger.warning("Cannot read which images chat {} has seen: {}", chat_id, error)
        return Bag(chat_id)


def record(chat_id: int, asset_key: str, new_round: bool) -> None:
    """Put asset_key in the chat's bag (after emptying it, for a new round), in the background.

    Queued at once on the database thread, so the chat's next read of its bag sees it, and
    the chat need not wait for the write before asking again.
    """
    write = queue_in_db_thread(_record, chat_id, asset_key, new_round)
    write.add_done_callback(lambda done: _log_failure(done, chat_id, asset_key))


def _log_failure(write: asyncio.Future, chat_id: int, asset_key: str) -> None:
    error = None if write.cancelled() else write.exception()
    if isinstance(error, peewee.PeeweeException):
        # The user has the photo already; at worst this image comes round again early.
        logger.warning("Cannot record that chat {} saw {}: {}", chat_id, asset_key, error)
    elif error is not None:
        logger.opt(exception=error).error("Cannot record that chat {} saw {}", chat_id, asset_key)


def _seen_keys(chat_id: int) -> list[str]:
    return [row.asset_key for row in SeenImage.seen_by(chat_id)]


def _record(chat_id: int, asset_key: str, new_round: bool) -> None:
    with database.atomic():
        if new_round:
            SeenImage.new_round(chat_id).execute()
        SeenImage.mark(chat_id, asset_key).execute()
