"""Turns to send booked for all the processes of one bot: the rate limiter's shared backend.

A message books its chat's next moment (storage.pacing); at that moment it takes this
process's own overall slot (replies first), then books the bot's overall moment, which is one
moment after another, so it is booked only when the message is due: booked seconds ahead, it
would push every other message behind it. A bulk send books it only when it is at most a
moment ahead, so replies keep their lane.

A moment is kept only if the message leaves on time: one that wakes late (the event loop was
busy, or the database slow to answer) would come too close to the next, so it books again,
that much ahead. If the database cannot be reached, the limiter paces this process alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import suppress

import peewee

from cosmobot.clock import wall_seconds
from cosmobot.storage.pacing import OVERALL, SharedPacing, chat_slot

# Moments booked in the database may be left a little late, which brings a message closer to
# the next one (sent on time by another process): each window of a limit is stretched by this
# much more (26.7 messages a second overall, a private chat every 1.125 s).
SHARED_ALLOWANCE_SECONDS = 0.1
# A message later than this for its overall moment books another: half the allowance, so
# even the first of a window's messages late by as much keeps the window.
LATE_SECONDS = SHARED_ALLOWANCE_SECONDS / 2
REBOOKINGS = 3
OVERALL_WINDOW_COUNT = 30

TakeSlot = Callable[[bool], Awaitable[None]]


def stretched(interval: float, window_count: int) -> float:
    """interval, with the window of window_count messages stretched by the allowance."""
    return interval + SHARED_ALLOWANCE_SECONDS / window_count


class SharedTurns:
    """Waits for the moments one message books for all the bot's processes."""

    def __init__(self, pacing: SharedPacing, overall_interval: float) -> None:
        self._pacing = pacing
        self._overall_interval = stretched(overall_interval, OVERALL_WINDOW_COUNT)
        self._background: set[asyncio.Task] = set()

    async def open(self) -> None:
        await self._pacing.open()

    async def close(self) -> None:
        if self._background:
            await asyncio.wait(self._background)
        await self._pacing.close()

    async def wait_turn(self, chat: object, urgent: bool, chat_interval: float,
                        take_local_slot: TakeSlot) -> bool:
        """Wait for the message's moments; False, at once, if the database took no booking."""
        slot = chat_slot(chat) if chat is not None else None
        try:
            start, booked = (await self._pacing.book(slot, chat_interval) if slot
                             else (wall_seconds(), None))
        except peewee.PeeweeException:
            return False  # the database is away: this process paces alone meanwhile
        try:
            await _sleep_until(start)
            await take_local_slot(urgent)  # this process's replies first, at its own pace
            moment = await self._overall_moment(urgent)
        except asyncio.CancelledError:
            if booked is not None:
                # Given back before the cancellation ends (unless cancelled again meanwhile):
                # a message sent right after must find the moment free.
                giving_back = self._in_background(self._pacing.move(slot, booked, start))
                with suppress(asyncio.CancelledError):
                    await asyncio.shield(giving_back)
            raise
        if booked is not None and moment > start + LATE_SECONDS / 10:
            # The chat's moment was used later: its next one moves on as much, unless booked.
            self._in_background(self._pacing.move(slot, booked, booked + moment - start))
        return True

    async def _overall_moment(self, urgent: bool) -> float:
        """Book the bot's overall moment now, and wait for it; the moment the message leaves."""
        book = self._pacing.book if urgent else self._pacing.book_bulk
        lead = 0.0
        for _ in range(REBOOKINGS):
            try:
                moment, _ = await book(OVERALL, self._overall_interval, wall_seconds() + lead)
            except peewee.PeeweeException:
                break
            await _sleep_until(moment)
            late = wall_seconds() - moment
            if late <= LATE_SECONDS:
                return moment
            lead = late  # a busy event loop or a slow database: book that much ahead
        return wall_seconds()

    async def hold(self, chat: object, seconds: float) -> None:
        """Telegram asked the chat to wait (a 429): every process holds off it as long."""
        with suppress(peewee.PeeweeException):
            await self._pacing.hold(chat_slot(chat), wall_seconds() + seconds)

    def _in_background(self, coroutine: Coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(_quietly(coroutine))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


async def _sleep_until(moment: float) -> None:
    delay = moment - wall_seconds()
    if delay > 0:
        await asyncio.sleep(delay)


async def _quietly(coroutine: Coroutine) -> None:
    # Moving a moment is a nicety: a database that cannot take it changes nothing.
    with suppress(peewee.PeeweeException):
        await coroutine
