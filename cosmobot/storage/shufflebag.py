"""Each chat's shuffle bag: every image once before any image comes to that chat again.

A chat has a bag with each bot that sends it images: one bot's sends never count for another.
The bag lives in the database (seen_images), so it survives restarts: one small read before
a send and one small write after it, in the background. Images added later join the current
round; removed ones simply stop being picked.

Two things the database cannot say yet are kept in memory, only while they last: the records
still on their way to it (a chat asking again must not get the same image while its write
waits for a lock), and the images picked for sends still on their way (two sends to one chat
at once, say /cosmic and the daily image, must not pick the same one).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import peewee
from loguru import logger

from cosmobot.storage import writes
from cosmobot.storage.database import database, read_in_db_thread
from cosmobot.storage.models import SeenImage
from cosmobot.storage.outage import is_unreachable


@dataclass(frozen=True)
class Bag:
    """What one chat has seen this round, in the order it saw it, and what is on its way."""

    chat_id: int
    seen: tuple[str, ...] = ()
    taken: frozenset[str] = frozenset()  # picked for sends still on their way

    def pick(self, installed: Sequence[str]) -> tuple[str | None, bool]:
        """Return a random installed image not seen this round, and whether it starts a new one.

        When every installed image was seen, a new round starts, and its first image is not
        the one just shown, when there is another. An image on its way is never picked while
        there is another. None when nothing is installed.
        """
        if not installed:
            return None, False
        free = [key for key in installed if key not in self.taken] or list(installed)
        seen = set(self.seen)
        unseen = [key for key in free if key not in seen]
        if unseen:
            return random.choice(unseen), False
        last = self.seen[-1] if self.seen else None
        return random.choice([key for key in free if key != last] or free), True

    def pick_among(self, candidates: Sequence[str]) -> str | None:
        """Return a random candidate not seen this round; if all were, any but the last seen.

        For a search: the round goes on, so it never starts a new one. An image on its way is
        never picked while there is another.
        """
        if not candidates:
            return None
        free = [key for key in candidates if key not in self.taken] or list(candidates)
        seen = set(self.seen)
        unseen = [key for key in free if key not in seen]
        if unseen:
            return random.choice(unseen)
        last = self.seen[-1] if self.seen else None
        return random.choice([key for key in free if key != last] or free)


@dataclass(eq=False)
class _Record:
    asset_key: str
    new_round: bool
    done: bool = False  # its write has ended (landed, or was given up on)


@dataclass
class _ChatState:
    """What the database may not show yet of one chat's bag."""

    records: list[_Record] = field(default_factory=list)  # in the order they were made
    reads: int = 0  # reads of the bag under way
    taken: list[str] = field(default_factory=list)  # may hold a key twice, for two sends

    def is_idle(self) -> bool:
        return not (self.records or self.reads or self.taken)


# (bot, chat) -> what the database may not show yet of that bag.
_chats: dict[tuple[int, int], _ChatState] = {}


def reset() -> None:
    """Forget what is kept in memory (for a new start: its writes are done or given up)."""
    _chats.clear()


async def open_bag(bot_id: int, chat_id: int) -> Bag:
    """Read the chat's bag with bot_id; what the database cannot say is left out."""
    state = _chats.setdefault((bot_id, chat_id), _ChatState())
    state.reads += 1
    try:
        seen = await read_in_db_thread(_seen_keys, bot_id, chat_id)
    except peewee.PeeweeException as error:
        # A repeat is a small price; leaving the user without an image is not. An outage is
        # logged once, as it starts: its failed reads need no line each.
        log = logger.debug if is_unreachable(error) else logger.warning
        log("Cannot read which images chat {} has seen: {}", chat_id, error)
        seen = []
    finally:
        state.reads -= 1
    # A record whose write ended while this read ran may be missing from what it read, so
    # every record kept is applied; applying one the database already has changes nothing.
    bag = Bag(chat_id, tuple(_with_records(seen, state.records)), frozenset(state.taken))
    _tidy((bot_id, chat_id))
    return bag


@contextmanager
def taking(bot_id: int, chat_id: int, asset_key: str) -> Iterator[None]:
    """Keep asset_key from bot_id's other picks for chat_id while the block sends it."""
    state = _chats.setdefault((bot_id, chat_id), _ChatState())
    state.taken.append(asset_key)
    try:
        yield
    finally:
        state.taken.remove(asset_key)
        _tidy((bot_id, chat_id))


def record(bot_id: int, chat_id: int, asset_key: str, new_round: bool) -> None:
    """Put asset_key in the chat's bag with bot_id, in the background (a new round empties it).

    The bag's next open_bag() sees it at once; the chat need not wait for the write.
    """
    entry = _Record(asset_key, new_round)
    _chats.setdefault((bot_id, chat_id), _ChatState()).records.append(entry)
    write = writes.queue_write(partial(_record, bot_id, chat_id, asset_key, new_round),
                               f"record that chat {chat_id} saw {asset_key}")
    write.add_done_callback(lambda _: _written((bot_id, chat_id), entry))


def _written(bag: tuple[int, int], entry: _Record) -> None:
    # Landed or given up on (and logged): either way the database says all there is to say.
    entry.done = True
    _tidy(bag)


def _tidy(bag: tuple[int, int]) -> None:
    state = _chats.get(bag)
    if state is None:
        return
    if not state.reads:
        # No read under way can have missed these writes: the database shows them now.
        state.records = [entry for entry in state.records if not entry.done]
    if state.is_idle():
        del _chats[bag]


def _with_records(seen: list[str], records: list[_Record]) -> list[str]:
    keys = list(seen)
    for entry in records:
        if entry.new_round:
            keys = [entry.asset_key]
        elif entry.asset_key not in keys:
            keys.append(entry.asset_key)
    return keys


def _seen_keys(bot_id: int, chat_id: int) -> list[str]:
    return [row.asset_key for row in SeenImage.seen_by(bot_id, chat_id)]


def _record(bot_id: int, chat_id: int, asset_key: str, new_round: bool) -> None:
    with database.atomic():
        if new_round:
            SeenImage.new_round(bot_id, chat_id).execute()
        SeenImage.mark(bot_id, chat_id, asset_key).execute()
