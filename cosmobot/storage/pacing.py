"""Pacing shared by the processes of one bot: its moments to send, kept in pacing_slots.

Telegram's limits are per bot: webhook workers answering at once must together keep within
30 messages a second and each chat's own limit. A message books its chat's next moment, then
an overall one, each with one atomic upsert that returns the moment after it. A bulk send
books an overall moment only when it is at most a moment ahead (BULK_HORIZON_SECONDS), so
replies, which book at once, keep their lane however many bulk sends wait.

The slots hold seconds since the epoch on the system clock, which every process shares. The
queries run on a thread and a connection of the pacer's own: a write waiting out a lock on the
bot's writer thread must not hold up every message.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import peewee
from playhouse.pool import PooledDatabase

from cosmobot.clock import wall_seconds
from cosmobot.storage.database import database_for
from cosmobot.storage.models import PacingSlot
from cosmobot.storage.outage import note_failure, note_success

T = TypeVar("T")

OVERALL = "*"
# How far ahead of now a bulk send may book the overall slot.
BULK_HORIZON_SECONDS = 0.1
# Slots free for this long pace nothing any more; they are dropped now and then.
STALE_SECONDS = 3600.0
PRUNE_EVERY_SECONDS = 600.0


def chat_slot(chat: object) -> str:
    """The slot of one chat (an id, or a channel's @username)."""
    return f"chat:{chat}"


class SharedPacing:
    """One bot's slots in the database, booked over a connection of their own."""

    def __init__(self, database_url: str, bot_id: int) -> None:
        self.bot_id = bot_id
        self._database_url = database_url
        self._db: peewee.Database | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._pruned_at = 0.0

    async def open(self) -> None:
        """Make the connection's thread; the connection opens on first use."""
        if self._thread is None:
            self._db = database_for(self._database_url)
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cosmobot-pacing")

    async def close(self) -> None:
        """Close the connection and end its thread."""
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.get_running_loop().run_in_executor(thread, self._close_connection)
            thread.shutdown(wait=True)

    def _close_connection(self) -> None:
        if not self._db.is_closed():
            self._db.close()
        if isinstance(self._db, PooledDatabase):
            self._db.close_all()

    async def book(self, slot: str, interval: float,
                   earliest: float = 0.0) -> tuple[float, float]:
        """Book the slot's next free moment, at earliest or later: (that moment, the one after)."""
        next_free = await self._run(self._book, slot, interval, earliest, None)
        return next_free - interval, next_free

    async def book_bulk(self, slot: str, interval: float,
                        earliest: float = 0.0) -> tuple[float, float]:
        """Book the slot's next free moment for a bulk send, once it is at most a moment ahead."""
        while True:
            next_free = await self._run(self._book, slot, interval, earliest,
                                        BULK_HORIZON_SECONDS)
            if next_free is not None:
                return next_free - interval, next_free
            # Booked ahead (replies, other processes' sends): look again once it comes near.
            booked_until = await self._run(self._next_free, slot)
            await asyncio.sleep(max(0.0, booked_until - wall_seconds() - BULK_HORIZON_SECONDS))

    async def move(self, slot: str, booked: float, to: float) -> None:
        """Move the slot's next moment from booked to `to`, unless it was booked on since.

        Back, for a moment never used; on, for one used later than booked.
        """
        await self._run(self._query, PacingSlot.move(self.bot_id, slot, booked, to))

    async def hold(self, slot: str, until: float) -> None:
        """Keep the slot shut until `until` (seconds since the epoch): Telegram asked to wait."""
        await self._run(self._query, PacingSlot.hold(self.bot_id, slot, until))

    def _book(self, slot: str, interval: float, earliest: float,
              horizon: float | None) -> float | None:
        self._db.connect(reuse_if_open=True)  # before reading the clock: connecting takes a while
        now = max(wall_seconds(), earliest)
        latest = None if horizon is None else now + horizon
        rows = list(PacingSlot.book(self.bot_id, slot, now, interval, latest).execute(self._db))
        self._prune_now_and_then(now)
        return rows[0][0] if rows else None

    def _next_free(self, slot: str) -> float:
        return PacingSlot.next_free(self.bot_id, slot).scalar(self._db) or 0.0

    def _prune_now_and_then(self, now: float) -> None:
        if now - self._pruned_at > PRUNE_EVERY_SECONDS:
            self._pruned_at = now
            PacingSlot.stale(now - STALE_SECONDS).execute(self._db)

    def _query(self, query: peewee.Query) -> None:
        query.execute(self._db)

    async def _run(self, call: Callable[..., T], *args: object) -> T:
        if self._thread is None:
            raise peewee.InterfaceError("shared pacing is not open")
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, _tracked, call, args)


def _tracked(call: Callable[..., T], args: tuple) -> T:
    try:
        result = call(*args)
    except peewee.PeeweeException as error:
        note_failure(error)
        raise
    note_success()
    return result
