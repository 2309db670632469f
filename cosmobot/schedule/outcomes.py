"""What became of each daily send, recorded with retries, and kept when it cannot be.

A send's row stays marked until its outcome is recorded. If the database will not take the
outcome, a few tries later it is kept in memory, logged, and recorded at the start of the next
round before anything else; meanwhile the mark keeps the chat out of the round, and this
process does not mistake its own mark for one a killed process left (which would turn a
failed send into "delivered"). While the database is unreachable (an outage is logged once),
outcomes are kept without a line per chat.

Deliveries, nearly every outcome of a round, are recorded together (`Deliveries`): those that
come in while one transaction is written go into the next, so a round at Telegram's pace
writes a transaction every few images rather than one per image, and the send waits for its
own to be written, as before.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from loguru import logger

from cosmobot.schedule import daybook
from cosmobot.storage.database import in_db_thread
from cosmobot.storage.outage import is_unreachable

T = TypeVar("T")
R = TypeVar("R")
# Pauses between tries at recording one outcome.
RECORD_DELAYS = (0.5, 2.0, 5.0)


class Result(enum.Enum):
    DELIVERED = "delivered"
    FAILED = "failed"
    GONE = "gone"  # the bot can no longer write to the chat


@dataclass(frozen=True)
class Outcome:
    """One send's result: to which chat, for which local day (in zone), and when."""

    subscription_id: int
    chat_id: int
    day: dt.date
    zone: str
    at: dt.datetime
    result: Result


# Outcomes the database would not take yet, by subscription.
_unrecorded: dict[int, Outcome] = {}


def unrecorded() -> set[int]:
    """Return the subscriptions whose outcome is waiting to be recorded."""
    return set(_unrecorded)


def write(outcome: Outcome) -> int:
    """Record an outcome (on the database thread); the tries so far for a failure, else 0."""
    if outcome.result is Result.DELIVERED:
        daybook.record_delivery(outcome.subscription_id, outcome.day, outcome.zone, outcome.at)
    elif outcome.result is Result.GONE:
        daybook.deactivate(outcome.subscription_id)
    else:
        return daybook.record_failure(outcome.subscription_id, outcome.day, outcome.at)
    return 0


def write_deliveries(delivered: Sequence[Outcome]) -> None:
    """Record delivered outcomes in one transaction (on the database thread)."""
    daybook.record_deliveries([daybook.Delivery(outcome.subscription_id, outcome.day,
                                                outcome.zone, outcome.at)
                               for outcome in delivered])


async def record(outcome: Outcome) -> int | None:
    """Record an outcome, trying again after each pause; None if it is kept for later."""
    what = f"the daily image to chat {outcome.chat_id} as {outcome.result.value}"
    return await _retrying([outcome], write, outcome, what)


async def _retrying(batch: Sequence[Outcome], writer: Callable[[T], R], argument: T,
                    what: str) -> R | None:
    """Record the batch with writer(argument), trying again after each pause; None if the
    batch is kept for later."""
    for pause in (*RECORD_DELAYS, None):
        try:
            return await in_db_thread(writer, argument)
        except Exception as error:  # a locked, slow or vanished database
            if pause is None or is_unreachable(error):
                for outcome in batch:
                    _keep(outcome, error)
                return None
            logger.warning("Could not record {} ({}); trying again in {:.1f}s", what, error,
                           pause)
            await asyncio.sleep(pause)
    raise AssertionError("unreachable: the last try returns")


class Deliveries:
    """One round's delivered outcomes, recorded a transaction at a time as they come in."""

    def __init__(self) -> None:
        self._waiting: list[tuple[Outcome, asyncio.Future]] = []
        self._writing: asyncio.Task | None = None

    async def record(self, outcome: Outcome) -> None:
        """Record a delivery with those that come in meanwhile; kept for later if it cannot."""
        written = asyncio.get_running_loop().create_future()
        self._waiting.append((outcome, written))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._write_waiting())
        await written

    async def _write_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                delivered = [outcome for outcome, _ in batch]
                await _retrying(delivered, write_deliveries, delivered,
                                f"{len(batch)} daily images as delivered")
            finally:  # written, kept, or (cancelled) left marked: the sends go on either way
                for _, written in batch:
                    if not written.done():
                        written.set_result(None)


def _keep(outcome: Outcome, error: Exception) -> None:
    log = logger.debug if is_unreachable(error) else logger.error
    log("Could not record the daily image to chat {} as {} ({}); kept to record at the next "
        "round", outcome.chat_id, outcome.result.value, error)
    _unrecorded[outcome.subscription_id] = outcome


async def record_kept() -> None:
    """Record the outcomes kept from earlier rounds; those that still fail stay kept."""
    for outcome in list(_unrecorded.values()):
        try:
            await in_db_thread(write, outcome)
        except Exception as error:
            if is_unreachable(error):
                return  # the round pauses; they are recorded once the database is back
            logger.warning("Still cannot record the daily image to chat {} as {} ({})",
                           outcome.chat_id, outcome.result.value, error)
            continue
        del _unrecorded[outcome.subscription_id]
        logger.info("Recorded the daily image to chat {} as {}, kept since {:%H:%M:%S} UTC",
                    outcome.chat_id, outcome.result.value, outcome.at)
