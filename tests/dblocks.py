"""Locks held on the bot's database from another connection, as another process would hold them.

SQLite: a write transaction (`BEGIN IMMEDIATE`) on the file; in WAL mode others still read.
PostgreSQL: `LOCK TABLE` in a mode of the test's choosing; SHARE lets others read and makes
every write wait, like SQLite's write lock.
"""

from __future__ import annotations

import sqlite3
from urllib.parse import urlparse

import psycopg2
import pytest

from cosmobot.storage import database

WRITES_WAIT = "SHARE"


class SqliteLocker:
    """Another process's write transaction on the bot's SQLite file."""

    def __init__(self, url: str) -> None:
        # Released from any thread (a timer, say).
        self._connection = sqlite3.connect(urlparse(url).path[1:], isolation_level=None,
                                           check_same_thread=False)

    def __enter__(self) -> SqliteLocker:
        self._connection.execute("BEGIN IMMEDIATE")  # the write lock, held until rollback
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        """Let go of the lock (again is fine)."""
        if self._connection is not None:
            self._connection.rollback()
            self._connection.close()
            self._connection = None


class PostgresLocker:
    """Another session holding `LOCK TABLE table IN mode MODE` until it lets go."""

    def __init__(self, url: str, table: str = "image_assets",
                 mode: str = "ACCESS EXCLUSIVE") -> None:
        self._connection = psycopg2.connect(url)
        self._statement = f"LOCK TABLE {table} IN {mode} MODE"

    def __enter__(self) -> PostgresLocker:
        self._connection.cursor().execute(self._statement)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        """Let go of the lock (again is fine)."""
        if self._connection is not None:
            self._connection.rollback()
            self._connection.close()
            self._connection = None


def locker_for(url: str) -> SqliteLocker | PostgresLocker:
    """A lock on image_assets that makes reads and writes wait (on SQLite, writes only)."""
    return SqliteLocker(url) if url.startswith("sqlite") else PostgresLocker(url)


def write_locker(url: str, table: str) -> SqliteLocker | PostgresLocker:
    """A lock that makes writes to table wait, and lets reads go on."""
    return SqliteLocker(url) if url.startswith("sqlite") else PostgresLocker(url, table,
                                                                             WRITES_WAIT)


def lock_waits(monkeypatch: pytest.MonkeyPatch, milliseconds: int) -> None:
    """Make one query wait this long for a lock before failing (for databases opened after)."""
    monkeypatch.setitem(database.SQLITE_PRAGMAS, "busy_timeout", milliseconds)
    monkeypatch.setitem(database.POSTGRES_OPTIONS, "options",
                        f"-c statement_timeout={milliseconds}")


def file_or_postgres_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A SQLite file's URL, or PostgreSQL's (emptied), by the fixture's param."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'bot.db'}"


def query_one(url: str, sql: str, params: tuple = ()) -> tuple | None:
    """The first row of a query over a connection of our own, not the bot's."""
    if url.startswith("sqlite"):
        with sqlite3.connect(urlparse(url).path[1:]) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchone()
    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        return cursor.fetchone()
    finally:
        connection.close()


def seen_count(url: str, chat_id: int) -> int:
    """How many images the database holds as seen by chat_id this round."""
    return query_one(url, "SELECT COALESCE(SUM(shown), 0) FROM shuffle_bags WHERE chat_id = %s",
                     (chat_id,))[0]


def stored_file_id(url: str, key: str = "cosmic/orion.jpg") -> str | None:
    """The file_id the bot's database holds for key."""
    row = query_one(url, "SELECT file_id FROM image_assets WHERE asset_key = %s", (key,))
    return row[0] if row else None


def terminate_every_other_backend(url: str) -> int:
    """Drop every other connection to the PostgreSQL database, as a server restart would."""
    admin = psycopg2.connect(url)
    try:
        admin.autocommit = True
        cursor = admin.cursor()
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return len(cursor.fetchall())
    finally:
        admin.close()
