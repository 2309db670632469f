"""The database threads: one writer, readers apart from it, every connection closed at the end."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from pathlib import Path

import peewee
import psycopg2
import pytest

from cosmobot.storage import database
from cosmobot.storage.database import (
    apply_migrations,
    close_database,
    database_for,
    in_db_thread,
    open_database,
    read_in_db_thread,
)
from cosmobot.storage.models import ImageNumber
from tests.dblocks import (
    file_or_postgres_url,
    lock_waits,
    terminate_every_other_backend,
    write_locker,
)

pytestmark = pytest.mark.asyncio
CHAT = 5151


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path):
    return file_or_postgres_url(request, tmp_path)


@pytest.fixture
def opened(url, monkeypatch):
    # A write waits for the lock far longer than the test waits for the read.
    lock_waits(monkeypatch, 60_000)
    open_database(url)
    apply_migrations()
    yield url
    close_database()


def mark_seen(key: str) -> None:
    """Write a row: number an image, after the others."""
    ImageNumber.create(bot_id=CHAT, asset_key=key, number=ImageNumber.select().count())


def seen() -> list[str]:
    """Read the rows back, in the order they were written."""
    rows = ImageNumber.select().where(ImageNumber.bot_id == CHAT).order_by(ImageNumber.number)
    return [row.asset_key for row in rows]


async def test_a_read_does_not_wait_for_a_write_stuck_behind_a_lock(opened):
    await in_db_thread(mark_seen, "cosmic/a.jpg")
    with write_locker(opened, "image_numbers") as lock:
        write = asyncio.ensure_future(in_db_thread(mark_seen, "cosmic/b.jpg"))
        await asyncio.sleep(0.2)  # the write has started, and waits for the lock
        assert await asyncio.wait_for(read_in_db_thread(seen), timeout=20) == ["cosmic/a.jpg"]
        assert not write.done(), "the read came back while the write still waited"
        lock.release()
        await write
    assert await read_in_db_thread(seen) == ["cosmic/a.jpg", "cosmic/b.jpg"]


async def test_reads_run_on_threads_of_their_own(opened):
    writer = await in_db_thread(threading.get_ident)
    readers = await asyncio.gather(*[read_in_db_thread(_slow_ident) for _ in range(3)])
    assert writer not in readers and len(set(readers)) == 3


async def test_in_memory_sqlite_keeps_every_query_on_one_thread(memory_db):
    # One shared connection: two threads running statements on it at once would break it.
    writer = await in_db_thread(threading.get_ident)
    readers = await asyncio.gather(*[read_in_db_thread(_slow_ident) for _ in range(3)])
    assert set(readers) == {writer}


def _slow_ident() -> int:
    ImageNumber.select().count()  # this thread's connection is open now
    time.sleep(0.2)  # so that the other calls go to other threads
    return threading.get_ident()


async def test_closing_closes_the_connection_of_every_thread(opened):
    await in_db_thread(mark_seen, "cosmic/a.jpg")
    await asyncio.gather(*[read_in_db_thread(_slow_ident) for _ in range(3)])
    assert open_connections(opened) >= 5  # the writer's, three readers', and this thread's
    close_database()
    assert _eventually(lambda: open_connections(opened) == 0)
    assert database.database.is_closed()


async def test_the_database_is_usable_again_after_closing(opened):
    close_database()
    await in_db_thread(mark_seen, "cosmic/a.jpg")
    assert await read_in_db_thread(seen) == ["cosmic/a.jpg"]


def open_connections(url: str) -> int:
    """How many connections to the bot's database are open, seen from outside the bot."""
    if url.startswith("sqlite"):
        # Each SQLite connection holds the file open.
        path = Path(url.removeprefix("sqlite:///")).resolve()
        fds = Path("/proc/self/fd")
        return sum(1 for fd in os.listdir(fds) if _points_to(fds / fd, path))
    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]
    finally:
        connection.close()


def _points_to(fd: Path, path: Path) -> bool:
    try:
        return Path(os.readlink(fd)) == path
    except OSError:  # closed meanwhile
        return False


def _eventually(predicate, timeout: float = 10.0) -> bool:
    # A PostgreSQL backend leaves pg_stat_activity a moment after its connection is closed.
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_postgresql_threads_reconnect_after_the_server_dropped_every_connection(
    postgres_url
):
    open_database(postgres_url)
    try:
        apply_migrations()
        await in_db_thread(mark_seen, "cosmic/a.jpg")
        await asyncio.gather(*[read_in_db_thread(_slow_ident) for _ in range(3)])
        dropped = terminate_every_other_backend(postgres_url)
        assert dropped >= 5
        # What a server restart does to every connection the bot holds: each thread reconnects.
        readers = await asyncio.gather(*[read_in_db_thread(seen) for _ in range(6)])
        assert readers == [["cosmic/a.jpg"]] * 6
        await in_db_thread(mark_seen, "cosmic/b.jpg")
        assert await read_in_db_thread(seen) == ["cosmic/a.jpg", "cosmic/b.jpg"]
    finally:
        close_database()


async def test_postgresql_options_in_the_url_win_over_the_defaults():
    db = database_for("postgresql://bot:pw@db.example/cosmo?connect_timeout=2&keepalives_idle=7")
    assert db.connect_params["connect_timeout"] == 2
    assert db.connect_params["keepalives_idle"] == 7
    assert db.connect_params["options"] == database.POSTGRES_OPTIONS["options"]


async def test_every_postgresql_thread_has_the_statement_timeout(postgres_url):
    open_database(postgres_url)
    try:
        def timeout() -> str:
            return database.database.execute_sql("SHOW statement_timeout").fetchone()[0]

        readers = await asyncio.gather(*[read_in_db_thread(_slow_call, timeout)
                                         for _ in range(3)])
        assert [await in_db_thread(timeout)] + readers == ["5s"] * 4
    finally:
        close_database()


def _slow_call(call):
    time.sleep(0.2)  # so that the other calls go to other threads
    return call()


async def test_a_failed_query_leaves_nothing_that_waits_for_a_busy_connection(
    tmp_path, monkeypatch
):
    lock_waits(monkeypatch, 100)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    open_database(url)
    try:
        apply_migrations()
        with write_locker(url, "image_numbers") as lock:
            try:
                await in_db_thread(mark_seen, "cosmic/a.jpg")
            except peewee.OperationalError as error:  # database is locked
                failure = error
            # The writer now waits for the lock, holding its connection, as long as it is held.
            await in_db_thread(database.database.execute_sql, "PRAGMA busy_timeout = 20000")
            write = asyncio.ensure_future(in_db_thread(mark_seen, "cosmic/b.jpg"))
            await asyncio.sleep(0.2)
            del failure  # what a garbage collection on the event loop may free at any time
            gc.collect()
            assert not write.done(), "freeing the failure waited for the busy connection"
            lock.release()
            await write
    finally:
        close_database()
