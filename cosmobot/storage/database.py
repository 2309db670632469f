"""The database: chosen at runtime from one URL, migrated with peewee-migrate.

The bot's queries run on threads of their own, never on the event loop: one writer, which runs
calls in the order they were queued, and a few readers, each with a connection of its own, so
that a write waiting for a lock held elsewhere holds up no read.
"""

from __future__ import annotations

import asyncio
import fcntl
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

import peewee
from loguru import logger
from peewee_migrate import Router
from playhouse.db_url import connect, parse
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase
from playhouse.shortcuts import ReconnectMixin

from cosmobot.storage.outage import note_failure, note_success

# A proxy lets models be declared at import time and bound to SQLite or PostgreSQL later.
database = peewee.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

T = TypeVar("T")

# How long one query may wait for a lock (SQLite) or run in all (PostgreSQL) before failing.
QUERY_TIMEOUT_MS = 5000

# WAL lets a reader (e.g. `cosmobot check`) work while the bot writes; busy_timeout makes a
# second writer wait for the lock instead of failing at once.
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": QUERY_TIMEOUT_MS, "foreign_keys": 1}
# One in-memory database is one connection: every thread shares it.
SQLITE_MEMORY_OPTIONS = {"thread_safe": False, "check_same_thread": False}
# A SQLite file gets a connection per database thread; close_database() closes them all from
# its own thread, which sqlite3 allows once the threads that used them have ended.
SQLITE_FILE_OPTIONS = {"check_same_thread": False}

# Every wait on PostgreSQL is bounded: connecting, a query stuck behind a lock
# (statement_timeout), and a server that vanished without closing the socket (keepalives).
POSTGRES_OPTIONS = {
    "connect_timeout": 5,
    "options": f"-c statement_timeout={QUERY_TIMEOUT_MS}",
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}
MIGRATION_TABLE = "migratehistory"
# The class of PostgreSQL's advisory lock (two-int form) that processes migrating one database
# take in turn; cosmobot's other advisory locks have classes of their own.
MIGRATION_LOCK_CLASS = 0x434D4947
# Beside a SQLite file, the file whose OS lock processes migrating it take in turn.
MIGRATION_LOCK_SUFFIX = ".migrate.lock"
# Threads that only read, each with a connection of its own, next to the one writer.
READER_THREADS = 4
# The pools hold one connection per thread that uses the database (the writer, the readers
# and the thread that opened it), so they need no limit of their own.
POOL_OPTIONS = {"max_connections": None}


class PooledReconnectingPostgresql(ReconnectMixin, PooledPostgresqlDatabase):
    """PostgreSQL with a connection per thread that reconnects when the server dropped it.

    ReconnectMixin never retries inside a transaction, so no half-done work is repeated; the
    bot's queries are single statements outside transactions. The pool checks an idle
    connection before handing it out (`SELECT 1`), so after a server restart the retry gets
    a live one.
    """

    reconnect_errors = (
        (peewee.OperationalError, "server closed the connection"),
        (peewee.OperationalError, "terminating connection"),
        (peewee.InterfaceError, "connection already closed"),
    )


class MigrationsMissing(RuntimeError):
    """The migrations folder is not where the code expects it."""


def open_database(url: str) -> peewee.Database:
    """Connect to the database named by url and bind the models to it.

    The connections of a database opened before are closed first.
    """
    db = database_for(url)
    close_database()
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db


def database_for(url: str) -> peewee.Database:
    """Return the database url names, not yet connected.

    Percent-encoded user names and passwords are decoded. Options given in the URL's query
    string win over the defaults above.
    """
    scheme = urlparse(url).scheme
    given = parse(url, unquote_password=True, unquote_user=True)
    if scheme == "sqlite":
        memory = given["database"] == ":memory:"
        db_class = peewee.SqliteDatabase if memory else PooledSqliteDatabase
        options = SQLITE_MEMORY_OPTIONS if memory else {**SQLITE_FILE_OPTIONS, **POOL_OPTIONS}
        return db_class(**{"pragmas": SQLITE_PRAGMAS, **options, **given})
    if scheme in ("postgres", "postgresql"):
        return PooledReconnectingPostgresql(**{**POSTGRES_OPTIONS, **POOL_OPTIONS, **given})
    # Any other scheme: peewee's own, which names the scheme it does not know.
    return connect(url, unquote_password=True, unquote_user=True)


@dataclass(frozen=True)
class _Threads:
    """Where the bot's queries run, never on the event loop."""

    writer: ThreadPoolExecutor
    readers: ThreadPoolExecutor


_threads: _Threads | None = None


def _database_threads() -> _Threads:
    global _threads
    if _threads is None:
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cosmobot-db-writer")
        # An in-memory SQLite database is one connection that every thread shares, and one
        # connection runs one statement at a time: there everything stays on the writer.
        readers = writer if _one_shared_connection() else ThreadPoolExecutor(
            max_workers=READER_THREADS, thread_name_prefix="cosmobot-db-reader")
        _threads = _Threads(writer, readers)
    return _threads


def _one_shared_connection() -> bool:
    db = database.obj
    return db is None or (isinstance(db, peewee.SqliteDatabase) and db.database == ":memory:")


async def in_db_thread(call: Callable[..., T], *args: object) -> T:
    """Run a synchronous peewee call on the writer thread and return its result."""
    return await queue_in_db_thread(call, *args)


def queue_in_db_thread(call: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """Queue a peewee call on the writer thread now, without waiting for it.

    Calls run in the order they were queued: anything queued later sees this call's writes.
    """
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(_database_threads().writer, _run_here, call, args)


async def read_in_db_thread(call: Callable[..., T], *args: object) -> T:
    """Run a peewee call that only reads on a reader thread and return its result.

    Readers never wait behind the writer: a write that waits for a lock held elsewhere delays
    no read. So a read sees the writes already done, not the ones still queued.
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_database_threads().readers, _run_here, call, args)


def _run_here(call: Callable[..., T], args: tuple) -> T:
    """Run call on this database thread; a failure leaves it with its frames cleared.

    A failed query's traceback keeps peewee's frames alive, and with them the query's cursor.
    Freed later by a garbage collection on the event loop, a SQLite cursor waits there for its
    connection, which this thread may hold for seconds while it waits for a lock: the whole bot
    would stand still. Cleared here, it is freed here.
    """
    try:
        result = call(*args)
    except BaseException as error:
        _clear_frames(error)
        note_failure(error)
        raise
    note_success()
    return result


def _clear_frames(error: BaseException | None) -> None:
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


def sqlite_file(url: str) -> Path | None:
    """Return the file a SQLite URL names, or None for other databases and in-memory ones."""
    if not url.startswith("sqlite"):
        return None
    name = parse(url)["database"]
    return None if name in ("", ":memory:") else Path(name)


def close_database() -> None:
    """Close every connection to the database: the database threads' and this thread's.

    The calls already queued on the database threads run first.
    """
    global _threads
    threads, _threads = _threads, None
    if threads is not None:
        threads.writer.shutdown(wait=True)
        threads.readers.shutdown(wait=True)
    db = database.obj
    if isinstance(db, PooledDatabase):
        db.close_all()  # the threads that held these connections have ended
    elif db is not None and not db.is_closed():
        db.close()


def migration_router(db: peewee.Database | peewee.DatabaseProxy = database) -> Router:
    """Return a router over the project's migrations folder."""
    # Without this check peewee-migrate would create an empty folder and report "up to date".
    if not any(MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.py")):
        raise MigrationsMissing(
            f"No migrations in {MIGRATIONS_DIR}: run cosmobot from its source folder "
            "(installed with `pip install -e .`)"
        )
    # peewee-migrate logs through stdlib logging, which our setup routes into loguru.
    return Router(db, migrate_dir=MIGRATIONS_DIR, migrate_table=MIGRATION_TABLE)


def pending_migrations(db: peewee.Database | peewee.DatabaseProxy = database) -> list[str]:
    """Return the names of migrations not yet applied, without writing anything."""
    router = migration_router(db)
    # Asking the router for its diff would create the history table; a check must not write.
    if MIGRATION_TABLE not in db.get_tables():
        return list(router.todo)
    return router.diff


def apply_migrations(db: peewee.Database | peewee.DatabaseProxy = database) -> list[str]:
    """Apply pending migrations and return their names.

    Processes migrating one database at once (two starting together, say) take turns: the
    later ones find the migrations applied, so each runs once.
    """
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    postgres = isinstance(target, peewee.PostgresqlDatabase)
    if postgres:
        # A schema change on a big table may rightly take longer than one query may, and so
        # may waiting for another process's.
        db.execute_sql("SET statement_timeout = 0")
    try:
        with _migration_lock(target):
            applied = migration_router(db).run()
    finally:
        if postgres:
            db.execute_sql("RESET statement_timeout")
    if applied:
        logger.info("Applied migrations: {}", ", ".join(applied))
    return applied


@contextmanager
def _migration_lock(db: peewee.Database) -> Iterator[None]:
    """Hold the lock of db's migrations while the block runs (freed if the process dies)."""
    if isinstance(db, peewee.PostgresqlDatabase):
        # Session-level, on the connection this thread migrates on.
        db.execute_sql("SELECT pg_advisory_lock(%s, 0)", (MIGRATION_LOCK_CLASS,))
        try:
            yield
        finally:
            # A session that is gone took its lock with it.
            with suppress(peewee.OperationalError, peewee.InterfaceError):
                db.execute_sql("SELECT pg_advisory_unlock(%s, 0)", (MIGRATION_LOCK_CLASS,))
        return
    path = db.database if isinstance(db, peewee.SqliteDatabase) else ""
    if path in ("", ":memory:"):
        yield  # in memory: a database of this process alone
        return
    with open(f"{path}{MIGRATION_LOCK_SUFFIX}", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield
