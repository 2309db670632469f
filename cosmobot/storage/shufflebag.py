"""Each chat's shuffle bag: every image once before any image comes to that chat again.

A chat has a bag with each bot that sends it images: one bot's sends never count for another.
The bag is one row of shuffle_bags, the same few numbers whatever the collection's size: where
the chat is in a shuffled order of the bot's images (cosmobot.storage.bagstate). So it
survives restarts, and every process serving the bot shares it.

A pick works out the next image from the chat's row as this process last read or wrote it
(read first when it has nothing of the chat's on its way, a chat it has not picked for yet is
taken to have no row), and claims it: the row is written only if nobody changed it since (a
compare-and-set on its version), so two picks for one chat, in this process or in another,
never take the same image. When somebody did, the row is read as it is now and the pick is
worked out again on it. So a pick costs the database one statement, two the first time this
process picks for a chat that has a row. A send that fails gives its image back.

A claim is a write. While the database takes writes promptly, the pick waits for it (a
fraction of a millisecond). While writes wait for a lock held elsewhere, it does not: the claim
lands later, and meanwhile this process keeps it in memory, so the chat's next pick counts it
already; only a pick in another process could then take the same image.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

import peewee
from loguru import logger

from cosmobot.storage import bagrows, numbering, writes
from cosmobot.storage.bagstate import BagState, Choice, match_pick, new_seed, next_pick
from cosmobot.storage.database import read_in_db_thread
from cosmobot.storage.numbering import Deck
from cosmobot.storage.outage import is_unreachable

# How long a pick waits for its claim to land before it goes on without knowing.
CLAIM_PATIENCE_SECONDS = 0.25
# Picks worked out again because another one took the image first, before going on anyway
# (a repeat). Each try lost is another pick for the chat that landed: two processes picking
# for one chat as fast as they can lose a few in a row (10 was seen run out), so the bound is
# far above what picks paced by sends can reach.
PICK_TRIES = 100
# Compare-and-set tries of one write before it is retried later, as for a lock.
WRITE_TRIES = 20
SHOW, REPEAT, GIVE_BACK = "show", "repeat", "give back"


@dataclass(eq=False)
class _Change:
    """A change to a chat's bag made here, kept while the database may not show it yet."""

    kind: str
    number: int
    reseed: int | None = None  # SHOW: the seed of the round the pick opened
    claim: _Change | None = None  # GIVE_BACK: the SHOW it undoes
    written: bool | None = None  # set on the database thread: whether it changed the row
    done: bool = False  # its write has ended (landed, or was given up on)

    def apply(self, state: BagState, deck: Deck | None) -> BagState | None:
        """state with this change made; None if it changes nothing (a SHOW needs the deck)."""
        if self.kind == SHOW:
            return state.marked(self.number, deck, self.reseed)
        if self.kind == REPEAT:
            return None if state.last == self.number else replace(state, last=self.number)
        if self.claim is not None and self.claim.written is False:
            return None  # the image was somebody else's to show
        return state.unmarked(self.number)


@dataclass(eq=False)
class Pick:
    """An image picked for a chat, held from the chat's other picks until settle()."""

    bot_id: int
    chat_id: int
    key: str
    change: _Change | None = None  # None: the bag does not change (or could not be read)


@dataclass
class _ChatMemory:
    """What the database may not show yet of one chat's bag."""

    changes: list[_Change] = field(default_factory=list)  # in the order they were made
    reads: int = 0  # reads of the bag under way
    on_their_way: list[str] = field(default_factory=list)  # may hold a key twice

    def is_idle(self) -> bool:
        return not (self.changes or self.reads or self.on_their_way)


@dataclass(frozen=True)
class _Read:
    state: BagState
    version: int | None  # of the row read; None when the chat has none yet
    pending: bool  # changes of this process were still on their way to the database
    guessed: bool = False  # not read: the chat was taken to have no row yet


# (bot, chat) -> what the database may not show yet of that bag.
_chats: dict[tuple[int, int], _ChatMemory] = {}
# Claims on their way to the database, with when they were queued.
_claims: dict[asyncio.Task, float] = {}


def reset() -> None:
    """Forget what is kept in memory (for a new start: its writes are done or given up)."""
    _chats.clear()
    _claims.clear()
    numbering.reset()
    bagrows.forget_known()


async def pick_next(bot_id: int, chat_id: int,
                    collection: numbering.Collection) -> Pick | None:
    """Pick and claim chat_id's next image in its round with bot_id; None if none installed."""
    return await _pick(bot_id, chat_id, collection, None)


async def pick_match(bot_id: int, chat_id: int, collection: numbering.Collection,
                     candidates: Sequence[str]) -> Pick | None:
    """Pick and claim a candidate chat_id has not seen this round, else any but the last.

    For a search: the round goes on, it never opens a new one. None without candidates.
    """
    return await _pick(bot_id, chat_id, collection, candidates)


def settle(pick: Pick, shown: bool) -> None:
    """The send of pick is over: let go of its image, and give it back if it was not shown."""
    memory = _chats.get((pick.bot_id, pick.chat_id))
    if memory is not None and pick.key in memory.on_their_way:
        memory.on_their_way.remove(pick.key)
    claim = pick.change
    if not shown and claim is not None and claim.kind == SHOW and claim.written is not False:
        _change(pick.bot_id, pick.chat_id, _Change(GIVE_BACK, claim.number, claim=claim),
                None, f"give {pick.key} back to chat {pick.chat_id}'s round")
    _tidy((pick.bot_id, pick.chat_id))


async def _pick(bot_id: int, chat_id: int, collection: numbering.Collection,
                candidates: Sequence[str] | None) -> Pick | None:
    try:
        deck = await numbering.deck_for(bot_id, collection)
    except peewee.PeeweeException as error:
        # A repeat is a small price; leaving the user without an image is not.
        _log_unread(chat_id, error)
        return _without_bag(bot_id, chat_id, candidates or collection.cosmic_keys)
    memory = _chats.setdefault((bot_id, chat_id), _ChatMemory())
    for attempt in range(PICK_TRIES):
        read = _as_known(bot_id, chat_id, memory) or await _open(bot_id, chat_id, deck)
        state = read.state if read is not None else BagState(new_seed())
        choice = _choose(state, deck, candidates, memory.on_their_way)
        if choice is None:
            # Nothing numbered (the numbering could not be written, say): the keys as they are.
            return _without_bag(bot_id, chat_id, candidates or collection.cosmic_keys)
        pick = _held(bot_id, chat_id, deck.key(choice.number))
        if choice.state is None:
            return pick  # shown out of order with no room to keep it
        change = _Change(REPEAT if choice.repeat else SHOW, choice.number, choice.reseed)
        expected = None if read is None or read.pending else (read.version, choice.state)
        waiting = _change(bot_id, chat_id, change, deck, f"record that chat {chat_id} saw "
                          f"{pick.key}", expected, read is not None and read.guessed)
        pick.change = change
        if read is not None and not _claims_stalled():
            await asyncio.wait({waiting}, timeout=CLAIM_PATIENCE_SECONDS)
        if change.written is not False or attempt == PICK_TRIES - 1:
            return pick
        # Another pick took that image first: work it out again on the row as it is now.
        settle(pick, shown=True)
    raise AssertionError("unreachable")


def _log_unread(chat_id: int, error: peewee.PeeweeException) -> None:
    # An outage is logged once, as it starts: its failed reads need no line each.
    log = logger.debug if is_unreachable(error) else logger.warning
    log("Cannot read which images chat {} has seen: {}", chat_id, error)


def _choose(state: BagState, deck: Deck, candidates: Sequence[str] | None,
            on_their_way: Collection[str]) -> Choice | None:
    held = {deck.number(key) for key in on_their_way} - {None}
    if candidates is None:
        return next_pick(state, deck, held)
    numbers = [number for number in map(deck.number, candidates) if number is not None]
    return match_pick(state, deck, numbers, held)


def _held(bot_id: int, chat_id: int, key: str) -> Pick:
    _chats.setdefault((bot_id, chat_id), _ChatMemory()).on_their_way.append(key)
    return Pick(bot_id, chat_id, key)


def _without_bag(bot_id: int, chat_id: int, keys: Sequence[str]) -> Pick | None:
    """A random key when the bag cannot be read: one not on its way to the chat, if any."""
    memory = _chats.get((bot_id, chat_id))
    busy = memory.on_their_way if memory is not None else []
    free = [key for key in keys if key not in busy] or list(keys)
    return _held(bot_id, chat_id, random.choice(free)) if free else None


def _as_known(bot_id: int, chat_id: int, memory: _ChatMemory) -> _Read | None:
    """The chat's row as last read or written here, if nothing of its own is on its way."""
    if memory.changes or memory.reads or _claims_stalled():
        return None  # what the database shows is to be read, and the changes made again on it
    known = bagrows.known(bot_id, chat_id)
    if known is None:
        return _Read(BagState(new_seed()), None, False, guessed=True)
    return _Read(known[1], known[0], False)


async def _open(bot_id: int, chat_id: int, deck: Deck) -> _Read | None:
    """Read the chat's bag, with this process's changes the database may not show yet."""
    memory = _chats.setdefault((bot_id, chat_id), _ChatMemory())
    memory.reads += 1
    try:
        row = await read_in_db_thread(bagrows.read_row, bot_id, chat_id)
    except peewee.PeeweeException as error:
        _log_unread(chat_id, error)
        return None
    finally:
        memory.reads -= 1
    state = bagrows.state_of(row)
    # A change whose write ended while this read ran may be missing from what it read, so
    # every change kept is made again; one the database has already changes nothing more.
    for change in memory.changes:
        state = change.apply(state, deck) or state
    pending = any(not change.done for change in memory.changes)
    _tidy((bot_id, chat_id))
    return _Read(state, None if row is None else row.version, pending)


def _change(bot_id: int, chat_id: int, change: _Change, deck: Deck | None, what: str,
            expected: tuple[int | None, BagState] | None = None,
            guessed: bool = False) -> asyncio.Task[bool]:
    """Keep change in memory and queue its write; the task ends when the write has."""
    bag = (bot_id, chat_id)
    _chats.setdefault(bag, _ChatMemory()).changes.append(change)
    task = writes.queue_write(partial(_write_change, bot_id, chat_id, change, deck, expected,
                                      guessed), what)
    if change.kind == SHOW:
        _claims[task] = time.monotonic()
    task.add_done_callback(lambda _: _written(bag, change, task))
    return task


def _claims_stalled() -> bool:
    """Whether a claim has waited for the database longer than a pick would wait."""
    now = time.monotonic()
    return any(now - queued > CLAIM_PATIENCE_SECONDS for task, queued in _claims.items()
               if not task.done() and task.get_loop() is asyncio.get_running_loop())


def _written(bag: tuple[int, int], change: _Change, task: asyncio.Task) -> None:
    # Landed or given up on (and logged): either way the database says all there is to say.
    change.done = True
    _claims.pop(task, None)
    _tidy(bag)


def _tidy(bag: tuple[int, int]) -> None:
    memory = _chats.get(bag)
    if memory is None:
        return
    if not memory.reads:
        # No read under way can have missed these writes: the database shows them now.
        memory.changes = [change for change in memory.changes if not change.done]
    if memory.is_idle():
        del _chats[bag]


# ---- on the database thread ------------------------------------------------------------------


def _write_change(bot_id: int, chat_id: int, change: _Change, deck: Deck | None,
                  expected: tuple[int | None, BagState] | None, guessed: bool = False) -> None:
    """Make change on the chat's row as it is now, compare-and-set; note if it changed it.

    guessed: expected was worked out on a new round, the row unread; if the chat has a row,
    the change is not made on it (it would not be its round's next), the row is read instead.
    """
    if expected is not None and bagrows.set_if_unchanged(bot_id, chat_id, *expected):
        change.written = True
        return
    if guessed:
        bagrows.read_row(bot_id, chat_id)  # kept, for the pick worked out again
        change.written = False
        return
    for _ in range(WRITE_TRIES):
        row = bagrows.read_row(bot_id, chat_id)
        changed = change.apply(bagrows.state_of(row), deck)
        if changed is None:
            change.written = False
            return
        version = None if row is None else row.version
        if bagrows.set_if_unchanged(bot_id, chat_id, version, changed):
            change.written = True
            return
    raise peewee.OperationalError(f"chat {chat_id}'s bag changed under {WRITE_TRIES} tries")
