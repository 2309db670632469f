"""The PostgreSQL session that holds a bot's leader lock, on a thread of its own.

Not a connection of the pool: the lock lives as long as this one session, so it must never be
replaced behind our back (the pool reconnects) nor shared. The server is told to end it when
it goes silent (idle_session_timeout, short TCP keepalives), which frees the lock of a leader
whose host vanished.
"""

from __future__ import annotations

import asyncio
import os
import queue
import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar
from urllib.parse import urlparse

import peewee

from cosmobot.storage.database import database_for
from cosmobot.storage.process import OWNER

T = TypeVar("T")

# The first key of every cosmobot leader lock (the second is the bot's id); "cosm" in ASCII.
LEADER_CLASS = 0x636F736D
# The server ends the leader's session after this long without a query, freeing the lock.
IDLE_SESSION_SECONDS = 5
# The server, and this side, give up on a peer that stops answering after about 3 s.
CLIENT_OPTIONS = {"keepalives_idle": 1, "keepalives_interval": 1, "keepalives_count": 2,
                  "tcp_user_timeout": 3000, "connect_timeout": 3}
SESSION_SETTINGS = (
    f"SET idle_session_timeout = '{IDLE_SESSION_SECONDS}s'",
    "SET tcp_keepalives_idle = 1",
    "SET tcp_keepalives_interval = 1",
    "SET tcp_keepalives_count = 2",
    f"SET application_name = 'cosmobot {OWNER}'",
)
# idle_session_timeout came with PostgreSQL 14; before it, only keepalives end the session.
IDLE_TIMEOUT_SINCE = 140000
HOLDS_LOCK = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
              "AND pid = pg_backend_pid() AND classid = %s AND objid = %s AND objsubid = 2")
# What libpq says when the server itself refuses a session or ends it (stopping, starting,
# restarting, an administrator's command), as seen against a real PostgreSQL 15: proof that
# the server is there to say so and is down, not a partition.
SERVER_DOWN_MARKERS = (
    "connection refused", "the database system is starting up",
    "the database system is shutting down", "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "terminating connection due to administrator command",
)
# What libpq says of an idle session the server ended (a fast or immediate stop, a restart,
# pg_terminate_backend all read so): the server closed it, which a silent partition cannot do,
# but it proves nothing about the server's state now.
SERVER_CLOSED_MARKER = "server closed the connection unexpectedly"
HOLDER = ("SELECT a.application_name, a.pid FROM pg_locks l "
          "JOIN pg_stat_activity a ON a.pid = l.pid "
          "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s "
          "AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database "
          "WHERE datname = current_database())")


def is_postgres(url: str) -> bool:
    """Whether url names a PostgreSQL database."""
    return urlparse(url).scheme in ("postgres", "postgresql")


def server_down(error: BaseException) -> bool:
    """Whether error proves the server refused or ended the session itself (down, restarting)."""
    text = str(error).lower()
    return isinstance(error, peewee.OperationalError) and any(
        marker in text for marker in SERVER_DOWN_MARKERS)


def server_closed(error: BaseException) -> bool:
    """Whether error says the server closed the session (or proves it down)."""
    return server_down(error) or (isinstance(error, peewee.OperationalError)
                                  and SERVER_CLOSED_MARKER in str(error).lower())


class LeaderSession:
    """The lock's session: opened on first use, ended by close(), opened anew after that."""

    can_be_lost = True

    def __init__(self, url: str, bot_id: int) -> None:
        self._url = url
        self._key = (LEADER_CLASS, bot_id % 2**31)
        self._session: _Session | None = None

    async def try_lock(self) -> bool:
        """Try the lock once; True if this session holds it now."""
        return bool(await self._run(lambda db: _first(db, "SELECT pg_try_advisory_lock(%s, %s)",
                                                      self._key)))

    async def still_held(self) -> bool:
        """Whether this session still holds the lock (False, or an error, if it ended)."""
        return await self._run(lambda db: _first(db, HOLDS_LOCK, self._key) > 0)

    async def holder(self) -> str | None:
        """The owner named by the session holding the lock, if any."""
        row = await self._run(lambda db: db.execute_sql(HOLDER, self._key).fetchone())
        if row is None:
            return None
        name, pid = row
        return name.removeprefix("cosmobot ") if name.startswith("cosmobot ") else f"pid {pid}"

    async def close(self) -> None:
        """End the session, which frees the lock; at once, even if a query hangs."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def _run(self, work: Callable[[peewee.Database], T]) -> asyncio.Future[T]:
        if self._session is None:
            self._session = _Session(self._url, f"cosmobot-leader-{self._key[1]}")
        return self._session.run(work)


class _Session:
    """One database session and the thread its calls run on."""

    def __init__(self, url: str, name: str) -> None:
        self._url = url
        self._thread = SessionThread(name)
        self._db: peewee.PostgresqlDatabase | None = None
        self._connection: Any = None  # the driver's, to cut its socket from the event loop
        self._closed = False

    def run(self, work: Callable[[peewee.Database], T]) -> asyncio.Future[T]:
        return self._thread.call(lambda: self._run_here(work))

    def close(self) -> None:
        self._closed = True  # calls still queued must not open a session anew
        _cut(self._connection)  # a call stuck on a vanished server returns; the server hears
        self._thread.call(self._close_here)
        self._thread.close()

    def _run_here(self, work: Callable[[peewee.Database], T]) -> T:
        if self._closed:
            raise peewee.InterfaceError("the leader lock's session is closed")
        if self._db is None:
            self._db = self._connect()
            self._connection = self._db.connection()
            if self._closed:  # closed while connecting: this session must take no lock
                raise peewee.InterfaceError("the leader lock's session is closed")
        return work(self._db)

    def _connect(self) -> peewee.PostgresqlDatabase:
        pooled = database_for(self._url)  # the URL's settings, but not the pool
        db = peewee.PostgresqlDatabase(pooled.database,
                                       **{**pooled.connect_params, **CLIENT_OPTIONS})
        db.connect()
        try:
            for setting in SESSION_SETTINGS:
                if "idle_session" not in setting or db.server_version >= IDLE_TIMEOUT_SINCE:
                    db.execute_sql(setting)
        except peewee.PeeweeException:
            db.close()
            raise
        return db

    def _close_here(self) -> None:
        if self._db is not None:
            with suppress(peewee.PeeweeException):
                self._db.close()


def _first(db: peewee.Database, sql: str, params: tuple) -> Any:
    return db.execute_sql(sql, params).fetchone()[0]


def _cut(connection: Any) -> None:
    """Shut the connection's socket down, waking any call blocked on it."""
    if connection is None:
        return
    with suppress(Exception):  # closed already
        sock = socket.socket(fileno=os.dup(connection.fileno()))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


class SessionThread:
    """A daemon thread that runs one session's calls in order.

    A daemon, and no executor's worker: a query stuck on a vanished server must never keep
    the process from exiting (executors join their threads at exit).
    """

    def __init__(self, name: str) -> None:
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._serve, name=name, daemon=True).start()

    def call(self, work: Callable[[], T]) -> asyncio.Future[T]:
        """Queue work; the future gets its result or its exception."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        # Retrieved even if nobody waits any more (a timed-out heartbeat, a close).
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._calls.put((work, loop, future))
        return future

    def close(self) -> None:
        """End the thread once the calls queued so far have run."""
        self._calls.put(None)

    def _serve(self) -> None:
        while (item := self._calls.get()) is not None:
            work, loop, future = item
            try:
                outcome = (future.set_result, work())
            except BaseException as error:
                outcome = (future.set_exception, error)
            with suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future, setter: Callable[[Any], None], value: Any) -> None:
    if not future.done():
        setter(value)
