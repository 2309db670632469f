"""The leader lock: of the processes of one bot on one database, one leads, the others wait.

PostgreSQL: a session-level advisory lock keyed by the bot's id, on a connection of its own
(`leadersession`). The server ends that session once the leader goes silent for
`leadersession.IDLE_SESSION_SECONDS`, which frees the lock; the leader checks every second
that it still holds it, and steps down when it cannot tell for HEARTBEAT_DEADLINE_SECONDS, so
it stops before the server could free the lock for anyone else. A process that gets the lock
waits TAKEOVER_GRACE_SECONDS before it leads: a leader whose session was cut off at once
(terminated, a server restart) has re-taken the lock or stepped down by then.

A leader whose session the server itself ended (stopped, restarting, `pg_terminate_backend`;
libpq reads "server closed the connection unexpectedly", which silence cannot produce) leads
on, answering from memory, and every HEARTBEAT_SECONDS tries the lock on a new session: taken,
it leads on; refused, it steps down at once; no answer or any other error, it steps down. Only
an error proving the server down (connection refused, starting up, shutting down) moves the
deadline on. Why never two pollers: nobody can take the lock while the server is down; once it
accepts connections a standby may take it, but then waits the grace before it polls, while the
riding leader asks within about a second and steps down when refused (or at the deadline
unheard), well inside that grace. A process still in its grace never rides: it drops back to
standing by, so a restart during a takeover leaves the old leader alone to ride it out.

A SQLite file: an exclusive `flock` on a file beside it, which the kernel frees when the
process dies, so it is never lost while the process lives. In-memory SQLite: one process,
always the leader.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path
from typing import Protocol

from loguru import logger

from cosmobot.storage.database import sqlite_file
from cosmobot.storage.leadersession import LeaderSession, is_postgres, server_closed, server_down
from cosmobot.storage.process import OWNER

# How often a standby tries the lock.
RETRY_SECONDS = 1.0
# How often the leader checks that it still holds the lock, and how long it may go without
# an answer before it steps down (well before the server ends its silent session).
HEARTBEAT_SECONDS = 1.0
HEARTBEAT_DEADLINE_SECONDS = 3.0
TAKEOVER_GRACE_SECONDS = HEARTBEAT_DEADLINE_SECONDS


class _Backend(Protocol):
    """Where the lock lives: a database session, a file, or nowhere."""

    can_be_lost: bool

    async def try_lock(self) -> bool: ...

    async def still_held(self) -> bool: ...

    async def holder(self) -> str | None: ...

    async def close(self) -> None: ...


class LeaderLock:
    """The bot's leader lock as this process sees it: acquire, notice its loss, release."""

    def __init__(self, url: str, bot_id: int) -> None:
        self.bot_id = bot_id
        self.lost = asyncio.Event()
        self._backend = _backend_for(url, bot_id)
        self._heartbeat: asyncio.Task | None = None
        self._failing = False
        # Settled in: past the takeover grace, a session the server ended is ridden out.
        self._settled = False

    async def acquire(self) -> None:
        """Return once this process leads the bot, trying every RETRY_SECONDS until then."""
        stood_by = False
        while True:
            asked = asyncio.get_running_loop().time()
            if await self._try() and await self._settle_in(asked):
                self._log_lead(stood_by)
                return
            if not stood_by and not self._failing:
                stood_by = True
                holder = await self._holder()
                logger.info("Standing by: process {} leads bot {}", holder or "(unknown)",
                            self.bot_id)
            await asyncio.sleep(RETRY_SECONDS)

    async def _settle_in(self, asked: float) -> bool:
        """Keep a lock that can be lost for the takeover grace; False if it was lost meanwhile."""
        self.lost.clear()
        self._settled = False
        if not self._backend.can_be_lost:
            return True
        self._heartbeat = asyncio.create_task(self._beat(asked), name="leader-heartbeat")
        # A leader whose session was cut off at once (terminated, a server restart) may still
        # be polling: it notices within the heartbeat's deadline, and stops.
        await asyncio.sleep(TAKEOVER_GRACE_SECONDS)
        if self.lost.is_set():
            await self._end_session()
            return False
        self._settled = True
        return True

    async def release(self) -> None:
        """Stop leading, or standing by: the lock is free for another process."""
        await self._end_session()

    async def _try(self) -> bool:
        try:
            acquired = await self._backend.try_lock()
        except Exception as error:  # the database is away: a standby goes on trying
            if not self._failing:
                logger.warning("Cannot reach the database to see who leads bot {} ({}); "
                               "trying again every {:.0f}s", self.bot_id, _one_line(error),
                               RETRY_SECONDS)
            self._failing = True
            await self._backend.close()
            return False
        if self._failing:
            logger.info("The database answers again: looking for bot {}'s leader", self.bot_id)
        self._failing = False
        return acquired

    async def _holder(self) -> str | None:
        try:
            return await self._backend.holder()
        except Exception:  # only for a log line
            return None

    def _log_lead(self, took_over: bool) -> None:
        if took_over:
            logger.info("Taking over: this process ({}) leads bot {} now", OWNER, self.bot_id)
        else:
            logger.info("This process ({}) leads bot {}", OWNER, self.bot_id)

    async def _beat(self, held_since: float) -> None:
        """Check every second that the lock is held; on no answer for the deadline, step down.

        The deadline runs from when the last good check was asked, not answered: the server's
        clock for a silent session starts no earlier, however slow the answer came back. Once
        settled in, a session the server ended is ridden out (see the module's docstring).
        """
        loop = asyncio.get_running_loop()
        riding = False
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            asked = loop.time()
            wait = max(held_since + HEARTBEAT_DEADLINE_SECONDS - asked, 0.0)
            check = self._backend.try_lock() if riding else self._backend.still_held()
            try:
                held = await asyncio.wait_for(check, wait)
            except TimeoutError:
                reason = f"no answer from the database for {HEARTBEAT_DEADLINE_SECONDS:.0f}s"
            except Exception as error:
                if self._settled and server_closed(error):
                    riding = await self._ride(error, riding)
                    held_since = asked if server_down(error) else held_since
                    continue
                reason = f"its database session failed ({_one_line(error)})"
            else:
                if held:
                    self._log_back(riding)
                    riding, held_since = False, asked
                    continue
                reason = ("another process took the lock after the database came back"
                          if riding else "its database session no longer holds the lock")
            logger.warning("This process no longer leads bot {}: {}", self.bot_id, reason)
            self.lost.set()
            return

    async def _ride(self, error: Exception, riding: bool) -> bool:
        """Lead on while the server is away: the next check takes the lock on a new session."""
        if not riding:
            logger.warning("The database server ended this process's session ({}); it leads bot "
                           "{} on while the server is down, and takes the lock again every "
                           "{:.0f}s", _one_line(error), self.bot_id, HEARTBEAT_SECONDS)
        await self._backend.close()
        return True

    def _log_back(self, riding: bool) -> None:
        if riding:
            logger.info("The database is back: this process ({}) leads bot {} again", OWNER,
                        self.bot_id)

    async def _end_session(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        await self._backend.close()


def _one_line(error: Exception) -> str:
    # The driver's messages span lines (a hint under the error); a log line is one line.
    return " ".join(str(error).split()) or type(error).__name__


def _backend_for(url: str, bot_id: int) -> _Backend:
    if is_postgres(url):
        return LeaderSession(url, bot_id)
    path = sqlite_file(url)
    return _Always() if path is None else LockFile(path.with_name(f"{path.name}.leader-{bot_id}"))


class LockFile:
    """An exclusive flock on a file; it names the process holding it."""

    can_be_lost = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    async def try_lock(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, OWNER.encode(), 0)
        self._fd = fd
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def holder(self) -> str | None:
        try:
            return self.path.read_text().strip() or None
        except OSError:
            return None

    async def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the one descriptor that holds the flock releases it


class _Always:
    """One process on an in-memory database: the leader from the start."""

    can_be_lost = False

    async def try_lock(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def holder(self) -> str | None:
        return OWNER

    async def close(self) -> None:
        return None
