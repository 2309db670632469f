"""Writes made in the background: in the order they were queued, retried until they land.

A user who already has a photo must not wait for its bookkeeping (a new file_id, a chat's
"seen" record), nor lose it because another connection held a lock for a while. Each write
runs on the database's writer thread after the ones queued before it; a write that meets a
lock or a dropped connection is tried again with growing pauses for up to WRITE_PATIENCE_SECONDS,
then logged as an error. Between tries the writer thread is free for other work. Writes still
pending when the bot stops are waited for a while, then named in a warning with their count.

A write given a key (a file_id: its bot and image) is kept until it lands, however long the
database is away, so an outage never costs an upload after the next start. Only the newest
write of a key is kept: a key has one write on its way at most, so they stay bounded. Writes
of different keys need no order among themselves, nor with the others: they do not wait in
line behind a write that waits out a lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import peewee
from loguru import logger

from cosmobot.storage.database import in_db_thread, queue_in_db_thread
from cosmobot.storage.outage import is_unreachable

# A lock held elsewhere (SQLite's busy timeout or PostgreSQL's statement timeout ran out) or a
# connection gone: worth trying again. Anything else (a constraint, a bug) would fail again.
TRANSIENT_ERRORS = (peewee.OperationalError, peewee.InterfaceError)
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 15.0
# How long a write is tried before it is given up on and logged as lost.
WRITE_PATIENCE_SECONDS = 300.0

_last: asyncio.Task | None = None
# Each write still on its way, with what it does, for the warning at shutdown.
_pending: dict[asyncio.Task, str] = {}


@dataclass
class _Kept:
    """The newest write of a key, and how many came before it."""

    write: Callable[[], object]
    what: str
    version: int = 0
    task: asyncio.Task | None = None


_kept: dict[Hashable, _Kept] = {}


def queue_write(write: Callable[[], object], what: str,
                key: Hashable | None = None) -> asyncio.Task[bool]:
    """Queue a synchronous peewee write; the task says whether it landed.

    what says what the write does, for the log ("store the file_id of cosmic/orion.jpg").
    With no earlier write still on its way, it is queued on the writer thread at once, so
    whatever is queued there later sees it. A write with a key replaces the write of that key
    still on its way, if any (whose task then says whether this one landed), and is kept until
    it lands.
    """
    global _last
    if key is not None:
        return _queue_kept(write, what, key)
    previous = _last if _is_on_its_way(_last) else None
    first_try = None if previous is not None else queue_in_db_thread(write)
    task = asyncio.create_task(_write_in_turn(previous, first_try, write, what))
    _pending[task] = what
    task.add_done_callback(_done)
    _last = task
    return task


def _queue_kept(write: Callable[[], object], what: str, key: Hashable) -> asyncio.Task[bool]:
    kept = _kept.get(key)
    if kept is not None and _is_on_its_way(kept.task):
        kept.write, kept.what, kept.version = write, what, kept.version + 1
        _pending[kept.task] = what
        return kept.task
    kept = _Kept(write, what)
    first_try = queue_in_db_thread(write)
    kept.task = asyncio.create_task(_keep_trying(kept, first_try))
    _kept[key] = kept
    _pending[kept.task] = what
    kept.task.add_done_callback(_done)
    kept.task.add_done_callback(lambda _: _forget_kept(key, kept))
    return kept.task


def _forget_kept(key: Hashable, kept: _Kept) -> None:
    if _kept.get(key) is kept:
        del _kept[key]


def kept_write(key: Hashable) -> asyncio.Task[bool] | None:
    """The task of the write of key still on its way, if there is one."""
    kept = _kept.get(key)
    return kept.task if kept is not None and _is_on_its_way(kept.task) else None


def pending() -> list[str]:
    """What the writes still on their way do, oldest first."""
    return list(_pending.values())


def on_their_way() -> int:
    """How many writes of this event loop are still on their way."""
    return len(_of_this_loop())


async def settle(timeout: float | None = None) -> None:
    """Wait until the writes queued so far are done (or timeout seconds have passed)."""
    mine = _of_this_loop()
    if mine:
        await asyncio.wait(mine, timeout=timeout)


async def finish(timeout: float | None) -> int:
    """Wait up to timeout seconds for the writes on their way; drop the rest with a warning.

    Returns how many were dropped. For a bot that stops: none is dropped silently.
    """
    await settle(timeout)
    left = _of_this_loop()
    if left:
        names = [_pending[task] for task in left]
        logger.warning("{} database write(s) still waiting at shutdown are given up on: {}",
                       len(left), "; ".join(names))
        for task in left:
            task.cancel()
        await asyncio.wait(left)
    return len(left)


def _of_this_loop() -> list[asyncio.Task]:
    for task in [task for task in _pending if task.get_loop().is_closed()]:
        del _pending[task]  # left behind by an event loop that is gone (tests run many)
    return [task for task in _pending if _is_on_its_way(task)]


def _is_on_its_way(task: asyncio.Task | None) -> bool:
    return (task is not None and task.get_loop() is asyncio.get_running_loop()
            and not task.done())


def _done(task: asyncio.Task) -> None:
    what = _pending.pop(task, "a write")
    if not task.cancelled() and task.exception() is not None:
        logger.opt(exception=task.exception()).error("Could not {} in the database", what)


async def _write_in_turn(previous: asyncio.Task | None, first_try: asyncio.Future | None,
                         write: Callable[[], object], what: str) -> bool:
    if previous is not None:
        # The previous write may be waiting out a lock: this one must not overtake it.
        await asyncio.wait([previous])
    return await _with_retries(write, what, first_try)


async def _keep_trying(kept: _Kept, first_try: asyncio.Future) -> bool:
    """Write the key's newest write until it lands, trying again after transient failures."""
    delay, failures, last_error = RETRY_FIRST_SECONDS, 0, None
    attempt, version, what = first_try, 0, kept.what  # the first try was queued with version 0
    while True:
        try:
            await attempt
        except TRANSIENT_ERRORS as error:
            failures, last_error = failures + 1, error
            _log_failed_try(what, error, failures, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
        except peewee.PeeweeException as error:
            logger.error("Could not {} in the database: {}", what, error)
            if kept.version == version:
                return False  # else a newer write of the key came meanwhile: it may well work
        else:
            if kept.version == version:
                if failures:
                    _log_saved(what, failures + 1, last_error)
                return True
            # A newer write of the key came while this one ran: it is written next.
        version, what = kept.version, kept.what
        attempt = in_db_thread(kept.write)


def _log_failed_try(what: str, error: Exception, tries: int, delay: float) -> None:
    # An outage is logged once as it starts and once as it ends: its writes need no line each.
    log = logger.warning if tries == 1 and not is_unreachable(error) else logger.debug
    log("Could not {} ({}); trying again in {:.1f} s", what, error, delay)


def _log_saved(what: str, tries: int, last_error: Exception | None) -> None:
    log = logger.debug if last_error is not None and is_unreachable(last_error) else logger.info
    log("Saved after {} tries: {}", tries, what)


async def _with_retries(write: Callable[[], object], what: str,
                        first_try: asyncio.Future | None) -> bool:
    started = time.monotonic()
    delay, tries, last_error = RETRY_FIRST_SECONDS, 0, None
    while True:
        tries += 1
        try:
            await (first_try if tries == 1 and first_try is not None else in_db_thread(write))
        except TRANSIENT_ERRORS as error:
            last_error = error
            if time.monotonic() - started + delay > WRITE_PATIENCE_SECONDS:
                logger.error("Could not {} in the database after {} tries: {}; given up",
                             what, tries, error)
                return False
            _log_failed_try(what, error, tries, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            continue
        except peewee.PeeweeException as error:
            logger.error("Could not {} in the database: {}", what, error)
            return False
        if tries > 1:
            _log_saved(what, tries, last_error)
        return True
