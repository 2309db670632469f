"""The database: chosen at runtime from one URL, migrated with peewee-migrate."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qs, urlparse

import peewee
from loguru import logger
from peewee_migrate import Router
from playhouse.db_url import connect, parse, register_database
from playhouse.shortcuts import ReconnectMixin

# A proxy lets models be declared at import time and bound to SQLite or PostgreSQL later.
database = peewee.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

T = TypeVar("T")

# How long one query may wait for a lock (SQLite) or run in all (PostgreSQL) before failing.
QUERY_TIMEOUT_MS = 5000

# WAL lets a reader (e.g. `cosmobot check`) work while the bot writes; busy_timeout makes a
# second writer wait for the lock instead of failing at once.
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": QUERY_TIMEOUT_MS, "foreign_keys": 1}
# One in-memory database is one connection: share it with the database thread.
SQLITE_MEMORY_OPTIONS = {"thread_safe": False, "check_same_thread": False}

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


class ReconnectingPostgresqlDatabase(ReconnectMixin, peewee.PostgresqlDatabase):
    """PostgreSQL that reconnects once when the server dropped the connection.

    ReconnectMixin never retries inside a transaction, so no half-done work is repeated;
    the bot's queries are single statements outside transactions.
    """

    reconnect_errors = (
        (peewee.OperationalError, "server closed the connection"),
        (peewee.OperationalError, "terminating connection"),
        (peewee.InterfaceError, "connection already closed"),
    )


register_database(ReconnectingPostgresqlDatabase, "postgres", "postgresql")


class MigrationsMissing(RuntimeError):
    """The migrations folder is not where the code expects it."""


def open_database(url: str) -> peewee.Database:
    """Connect to the database named by url and bind the models to it."""
    db = database_for(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db


def database_for(url: str) -> peewee.Database:
    """Return the database url names, not yet connected.

    Percent-encoded user names and passwords are decoded. Options given in the URL's query
    string win over the defaults above.
    """
    return connect(url, unquote_password=True, unquote_user=True, **_options(url))


def _options(url: str) -> dict:
    if url.startswith("sqlite"):
        memory = parse(url)["database"] == ":memory:"
        return {"pragmas": SQLITE_PRAGMAS, **(SQLITE_MEMORY_OPTIONS if memory else {})}
    given = parse_qs(urlparse(url).query)
    return {name: value for name, value in POSTGRES_OPTIONS.items() if name not in given}


# The bot's queries run here, one at a time, never on the event loop: a locked or slow
# database then delays only the requests that wait for it.
_db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cosmobot-db")


async def in_db_thread(call: Callable[..., T], *args: object) -> T:
    """Run a synchronous peewee call on the database thread and return its result."""
    return await queue_in_db_thread(call, *args)


def queue_in_db_thread(call: Callable[..., T], *args: object) -> asyncio.Future[T]:
    """Queue a peewee call on the database thread now, without waiting for it.

    Calls run in the order they were queued: anything queued later sees this call's writes.
    """
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(_db_thread, functools.partial(call, *args))


def sqlite_file(url: str) -> Path | None:
    """Return the file a SQLite URL names, or None for other databases and in-memory ones."""
    if not url.startswith("sqlite"):
        return None
    name = parse(url)["database"]
    return None if name in ("", ":memory:") else Path(name)


def close_database() -> None:
    """Close the connections of this thread and of the database thread, if open."""
    _db_thread.submit(_close_connection).result()
    _close_connection()


def _close_connection() -> None:
    if database.obj is not None and not database.is_closed():
        database.close()


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
    """Apply pending migrations and return their names."""
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    postgres = isinstance(target, peewee.PostgresqlDatabase)
    if postgres:
        # A schema change on a big table may rightly take longer than one query may.
        db.execute_sql("SET statement_timeout = 0")
    try:
        applied = migration_router(db).run()
    finally:
        if postgres:
            db.execute_sql("RESET statement_timeout")
    if applied:
        logger.info("Applied migrations: {}", ", ".join(applied))
    return applied
