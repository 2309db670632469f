"""The database: chosen at runtime from one URL, migrated with peewee-migrate."""

from __future__ import annotations

from pathlib import Path

import peewee
from loguru import logger
from peewee_migrate import Router
from playhouse.db_url import connect

# A proxy lets models be declared at import time and bound to SQLite or PostgreSQL later.
database = peewee.DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

# WAL lets a reader (e.g. `cosmobot check`) work while the bot writes; busy_timeout makes a
# second writer wait for the lock instead of failing at once.
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1}


def open_database(url: str) -> peewee.Database:
    """Connect to the database named by url and bind the models to it."""
    options = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else {}
    db = connect(url, **options)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    return db


def close_database() -> None:
    """Close the connection, if one is open."""
    if database.obj is not None and not database.is_closed():
        database.close()


def migration_router(db: peewee.Database | peewee.DatabaseProxy = database) -> Router:
    """Return a router over the project's migrations folder."""
    # peewee-migrate logs through stdlib logging, which our setup routes into loguru.
    return Router(db, migrate_dir=MIGRATIONS_DIR)


def pending_migrations(db: peewee.Database | peewee.DatabaseProxy = database) -> list[str]:
    """Return the names of migrations not yet applied."""
    return migration_router(db).diff


def apply_migrations(db: peewee.Database | peewee.DatabaseProxy = database) -> list[str]:
    """Apply pending migrations and return their names."""
    applied = migration_router(db).run()
    if applied:
        logger.info("Applied migrations: {}", ", ".join(applied))
    return applied
