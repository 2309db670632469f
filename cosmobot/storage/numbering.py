"""Each bot's numbers for its images, shared by every process through the database.

The shuffle bags name images by these numbers (cosmobot.storage.bagstate). A bot numbers an
image the first time one of its processes finds it, after every number given before, and
never gives a number again: so an image added later has a number above those of every image
there was before, and the numbers of removed images simply stay unused.

Each process keeps a copy (one entry per image), brought up to date when the collection it
serves changes: the numbers other processes gave since are read, and its own new images are
numbered. That is the only work that grows with the collection, and it is done once per
change, not per pick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import peewee
from loguru import logger

from cosmobot.storage.database import database, in_db_thread, read_in_db_thread
from cosmobot.storage.models import ImageNumber

# Keys per statement: well under SQLite's limit on the values of one statement.
BATCH = 500
# The generation of a deck that could not be brought up to date: no collection's.
STALE = -1
# How long a pick waits for new images to be numbered; meanwhile they are not picked.
NUMBERING_PATIENCE_SECONDS = 1.0


class Collection(Protocol):
    """The images a process serves (an AssetLibrary)."""

    @property
    def generation(self) -> int:
        """A number that changes whenever cosmic_keys may have."""

    @property
    def cosmic_keys(self) -> list[str]:
        """The keys of the images installed now."""

    def get(self, key: str) -> object | None:
        """The image with key, None if it is not installed now."""


@dataclass(frozen=True)
class Numbering:
    """A bot's image numbers as this process knows them: key by number, number by key."""

    keys: tuple[str | None, ...] = ()  # None: a number this process has not read yet
    numbers: dict[str, int] = field(default_factory=dict)

    def with_rows(self, rows: Sequence[tuple[str, int]]) -> Numbering:
        """This numbering with the (key, number) rows added."""
        if not rows:
            return self
        keys = list(self.keys)
        keys.extend([None] * (max(number for _, number in rows) + 1 - len(keys)))
        numbers = dict(self.numbers)
        for key, number in rows:
            keys[number], numbers[key] = key, number
        return Numbering(tuple(keys), numbers)


@dataclass(frozen=True)
class Deck:
    """A bot's numbering next to the collection a process serves: which numbers are live."""

    numbering: Numbering
    collection: Collection
    generation: int  # of the collection, when the numbering was brought up to date

    @property
    def count(self) -> int:
        return len(self.numbering.keys)

    def is_live(self, number: int) -> bool:
        key = self.key(number)
        return key is not None and self.collection.get(key) is not None

    def key(self, number: int) -> str | None:
        """The key of number, None if this process does not know it."""
        return self.numbering.keys[number] if 0 <= number < self.count else None

    def number(self, key: str) -> int | None:
        return self.numbering.numbers.get(key)

    def is_current(self, collection: Collection) -> bool:
        """Whether this deck is up to date with collection."""
        return collection is self.collection and collection.generation == self.generation


# Each bot's deck in this process, the locks that keep its updates one at a time, and the
# numbering of its new images under way.
_decks: dict[int, Deck] = {}
_updating: dict[int, asyncio.Lock] = {}
_numbering: dict[int, asyncio.Future[list[tuple[str, int]]]] = {}


def reset() -> None:
    """Forget the decks (a new start, or a new collection)."""
    _decks.clear()
    _updating.clear()
    _numbering.clear()


async def deck_for(bot_id: int, collection: Collection) -> Deck:
    """bot_id's deck for collection, brought up to date if it changed.

    If the database fails meanwhile, the last deck is returned (the update is tried again
    next time), or the error raised when there is none.
    """
    deck = _decks.get(bot_id)
    if deck is not None and deck.is_current(collection):
        return deck
    async with _updating.setdefault(bot_id, asyncio.Lock()):
        deck = _decks.get(bot_id)
        if deck is not None and deck.is_current(collection):
            return deck  # brought up to date while this one waited
        try:
            deck = await _updated(bot_id, deck, collection)
        except peewee.PeeweeException as error:
            if deck is None:
                raise
            logger.warning("Cannot bring the image numbers of bot {} up to date: {}", bot_id,
                           error)
            return Deck(deck.numbering, collection, STALE)  # tried again next time
        _decks[bot_id] = deck
        return deck


async def _updated(bot_id: int, deck: Deck | None, collection: Collection) -> Deck:
    """A deck with the numbers given since deck's, and numbers for collection's new images."""
    generation = collection.generation  # first: a change from here on shows next time
    numbering = deck.numbering if deck is not None else Numbering()
    given = await read_in_db_thread(_rows_from, bot_id, len(numbering.keys))
    numbering = numbering.with_rows(given)
    new = [key for key in collection.cosmic_keys if key not in numbering.numbers]
    if new:
        numbered = await _numbered(bot_id, new)
        numbering = numbering.with_rows(numbered or [])
        if any(key not in numbering.numbers for key in new):
            return Deck(numbering, collection, STALE)  # the new images wait a while
    return Deck(numbering, collection, generation)


async def _numbered(bot_id: int, keys: list[str]) -> list[tuple[str, int]] | None:
    """Number keys; None if the database takes longer than a pick waits (it goes on)."""
    numbering = _numbering.get(bot_id)
    if numbering is not None and not numbering.done():
        return None  # an earlier pick's numbering still waits for the database
    numbering = asyncio.ensure_future(in_db_thread(number_keys, bot_id, keys))
    numbering.add_done_callback(_noted)
    _numbering[bot_id] = numbering
    done, _ = await asyncio.wait({numbering}, timeout=NUMBERING_PATIENCE_SECONDS)
    if not done:
        logger.warning("Numbering bot {}'s new images waits for the database; they are picked "
                       "once it is done", bot_id)
        return None
    return numbering.result()


def _noted(numbering: asyncio.Future) -> None:
    # Its failure is raised to the pick that waits for it; one that no pick waited for shows
    # as images still without a number, numbered by the next pick.
    if not numbering.cancelled():
        numbering.exception()


def _rows_from(bot_id: int, first: int) -> list[tuple[str, int]]:
    return list(ImageNumber.of_bot(bot_id, first).tuples())


def number_keys(bot_id: int, keys: Sequence[str]) -> list[tuple[str, int]]:
    """Number the keys bot_id has no number for yet; return every key's (key, number).

    On the database thread. Processes numbering at once take turns, so no number is given
    twice.
    """
    with _one_at_a_time():
        numbered = {}
        for start in range(0, len(keys), BATCH):
            batch = keys[start:start + BATCH]
            numbered.update(ImageNumber.select(ImageNumber.asset_key, ImageNumber.number).where(
                (ImageNumber.bot_id == bot_id) & ImageNumber.asset_key.in_(batch)).tuples())
        top = (ImageNumber.select(peewee.fn.MAX(ImageNumber.number))
               .where(ImageNumber.bot_id == bot_id).scalar())
        first = -1 if top is None else top
        new = [(key, first + n) for n, key in enumerate(
            (key for key in keys if key not in numbered), start=1)]
        for start in range(0, len(new), BATCH):
            ImageNumber.insert_many(
                [(bot_id, key, number) for key, number in new[start:start + BATCH]],
                fields=[ImageNumber.bot_id, ImageNumber.asset_key, ImageNumber.number],
            ).execute()
    if new:
        logger.debug("Bot {} numbered {} new images", bot_id, len(new))
    return [*numbered.items(), *new]


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """A transaction no other process numbers images in at the same time."""
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        with database.atomic():
            # Others still read; a second numbering waits for this one to commit.
            database.execute_sql(
                f"LOCK TABLE {ImageNumber._meta.table_name} IN SHARE ROW EXCLUSIVE MODE")
            yield
        return
    with database.atomic("IMMEDIATE"):  # SQLite: the write lock from the start
        yield
