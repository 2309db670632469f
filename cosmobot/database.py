"""The database: chosen at runtime from one URL, migrated with peewee-migrate."""

from __future__ import annotations

from pathlib import Path

import peewee
from loguru import logger
from peewee_migrate import Router
from playhouse.db_url import connect, parse, register_database
from playhouse.shortcuts import ReconnectMixin

# A proxy lets models be declared at import time and bound to SQLite or PostgreSQL later.
database = peewee.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# WAL lets a reader (e.g. `cosmobot check`) work while the bot writes; busy_timeout makes a
# second writer wait for the lock instead of failing at once.
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}


POSTGRES_OPTIONS = {"connect_timeout": 5}
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
    """Connect to the database named by url and bind the models to it.

    Queries then run on the event loop's thread, synchronously: they are single indexed
    statements, far quicker than the Telegram calls around them. The connect timeout bounds
    how long an unreachable PostgreSQL server can hold the bot up.
    """
    options = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else POSTGRES_OPTIONS
    db = connect(url, **options)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db


def sqlite_file(url: str) -> Path | None:
    """Return the file a SQLite URL names, or None for other databases and in-memory ones."""
    if not url.startswith("sqlite"):
        return None
    name = parse(url)["database"]
    return None if name in ("", ":memory:") else Path(name)


def close_database() -> None:
    """Close the connection, if one is open."""
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
    applied = migration_router(db).run()
    if applied:
        logger.info("Applied migrations: {}", ", ".join(applied))
    return applied
