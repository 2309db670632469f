"""Two `python -m cosmobot migrate` started together: both come up, each migration runs once.

So that the two really race, a gate holds what the first migration needs (a lock another
process would hold) until both processes are on their way to it, then lets go of it at once.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from playhouse.db_url import connect

from cosmobot.storage.database import (
    MIGRATIONS_DIR,
    close_database,
    migration_router,
    open_database,
    sqlite_file,
)
from tests.botrunner import BotProcess
from tests.dblocks import SqliteLocker

pytestmark = pytest.mark.timeout(300)

ROUNDS = 3
MIGRATIONS = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.py"))
OLD_SCHEMA = "003_add_seen_images_and_send_counts"
UP_TO_DATE = "The database is up to date."


@pytest.fixture(params=["sqlite-file", "postgresql"])
def backend(request) -> str:
    return request.param


def fresh_database(backend: str, tmp_path: Path, request, round_number: int) -> str:
    """An empty database of the backend's kind, new for this round."""
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        db = connect(url)
        for table in db.get_tables():
            db.execute_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        db.close()
        return url
    path = tmp_path / f"race-{round_number}.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=wal")  # as cosmobot makes it, before the gate locks it
    return f"sqlite:///{path}"


def migrated_to(url: str, last: str | None) -> None:
    if last is not None:
        open_database(url)
        migration_router().run(last)
        close_database()


@contextmanager
def gate(url: str, last: str | None, processes: list[BotProcess]) -> Iterator[None]:
    """Hold back the first migration to run until every process is on its way to it."""
    if url.startswith("sqlite"):
        with SqliteLocker(url):
            path = sqlite_file(url).resolve()
            wait_until(processes, lambda: all(has_open(bot, path) for bot in processes))
            time.sleep(1.0)  # from opening the file to its first write takes a moment only
            yield
        return
    # The history table for an empty database, the table 004 changes for one at 003.
    holder = psycopg2.connect(url)
    try:
        if last is None:
            holder.cursor().execute("CREATE TABLE migratehistory (id SERIAL PRIMARY KEY)")
        else:
            holder.cursor().execute("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE")
        wait_until(processes, lambda: lock_waiters(url) == len(processes))
        yield
    finally:
        holder.rollback()
        holder.close()


def wait_until(processes: list[BotProcess], condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        for bot in processes:
            assert bot.process.poll() is None, f"exited early:\n{bot.output}"
        assert time.monotonic() < deadline, "the processes never reached the gate"
        time.sleep(0.05)


def has_open(bot: BotProcess, path: Path) -> bool:
    """Whether the process has the file open (Linux's /proc)."""
    fds = Path(f"/proc/{bot.process.pid}/fd")
    try:
        return any(os.path.realpath(fd) == str(path) for fd in fds.iterdir())
    except (FileNotFoundError, ProcessLookupError):
        return False


def lock_waiters(url: str) -> int:
    """How many other sessions of the database wait for a lock (advisory, table or row)."""
    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]
    finally:
        connection.close()


def history(url: str) -> list[str]:
    db = connect(url)
    try:
        return [name for (name,) in db.execute_sql("SELECT name FROM migratehistory ORDER BY id")]
    finally:
        db.close()


def race(url: str, last: str | None, tmp_path: Path) -> list[str]:
    """Start two `migrate` at once through the gate; return what each printed last."""
    env = {"COSMOBOT_DATABASE_URL": url}
    processes = [BotProcess(env, tmp_path, command="migrate") for _ in range(2)]
    for bot in processes:
        bot.start()
    try:
        with gate(url, last, processes):
            pass
        statuses = [bot.wait(timeout=60) for bot in processes]
    finally:
        for bot in processes:
            bot.stop()
    assert statuses == [0, 0], "\n\n".join(bot.output for bot in processes)
    return sorted(bot.output.strip().splitlines()[-1] for bot in processes)


@pytest.mark.parametrize("last", [None, OLD_SCHEMA], ids=["empty", "at-003"])
def test_two_processes_migrating_at_once_both_come_up(backend, last, tmp_path, request):
    to_apply = MIGRATIONS[MIGRATIONS.index(last) + 1:] if last else MIGRATIONS
    for round_number in range(ROUNDS):
        url = fresh_database(backend, tmp_path, request, round_number)
        migrated_to(url, last)
        printed = race(url, last, tmp_path)
        assert printed == [f"Applied: {', '.join(to_apply)}", UP_TO_DATE], round_number
        assert history(url) == MIGRATIONS  # each once
