"""Writes in the background: in order, retried through a long lock, and never lost silently."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest

from cosmobot import sender
from cosmobot.bot import app
from cosmobot.storage import writes
from cosmobot.storage.database import apply_migrations, close_database, database, open_database
from cosmobot.storage.models import ImageAsset, ShuffleBag
from tests.dblocks import (
    file_or_postgres_url,
    lock_waits,
    stored_file_id,
    terminate_every_other_backend,
    write_locker,
)

pytestmark = pytest.mark.asyncio
KEY = "cosmic/orion.jpg"
# What the bot allowed a file_id write before: 5 tries, then it was given up on.
TRIES_BEFORE = 5


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path, monkeypatch):
    lock_waits(monkeypatch, 50)  # each try fails fast while the lock is held
    monkeypatch.setattr(writes, "RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(writes, "RETRY_MAX_SECONDS", 0.05)
    url = file_or_postgres_url(request, tmp_path)
    open_database(url)
    apply_migrations()
    yield url
    close_database()


def store(file_id: str):
    return ImageAsset.store(KEY, file_id, f"unique-{file_id}", 1, "fingerprint").execute


def forget(file_id: str):
    return ImageAsset.forget(1, KEY, file_id).execute


def failed_tries(log_lines: list[str]) -> int:
    return sum("trying again" in line for line in log_lines)


async def wait_for(predicate, timeout: float = 20.0) -> None:
    async def poll():
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


async def test_a_write_lands_after_a_lock_longer_than_the_old_retries(url, log_lines):
    with write_locker(url, "image_assets"):
        write = writes.queue_write(store("AgAC-new"), "store the file_id of orion")
        await wait_for(lambda: failed_tries(log_lines) >= 3 * TRIES_BEFORE)
        assert not write.done()
    assert await asyncio.wait_for(write, timeout=20) is True
    assert stored_file_id(url) == "AgAC-new"
    assert any("Saved after" in line and "orion" in line for line in log_lines)


async def test_a_write_waiting_out_a_lock_is_not_overtaken(url, log_lines):
    with write_locker(url, "image_assets"):
        first = writes.queue_write(store("AgAC-old"), "store the old file_id")
        await wait_for(lambda: failed_tries(log_lines) >= 4)  # its pauses have grown
        # Queued later with a short first pause: it must still land after the store.
        writes.queue_write(forget("AgAC-old"), "forget the old file_id")
    await asyncio.wait_for(writes.settle(), timeout=20)
    assert first.result() is True
    assert stored_file_id(url) is None


async def test_a_write_that_would_fail_again_is_logged_not_retried(url, log_lines):
    calls = []

    def broken() -> None:
        calls.append(1)
        ImageAsset.insert(asset_key=KEY).execute()  # the other columns may not be null

    assert await asyncio.wait_for(writes.queue_write(broken, "insert a broken row"), 10) is False
    assert len(calls) == 1
    assert any(line.startswith("ERROR") and "insert a broken row" in line for line in log_lines)


async def test_a_write_given_up_on_is_logged_as_an_error(url, log_lines, monkeypatch):
    monkeypatch.setattr(writes, "WRITE_PATIENCE_SECONDS", 0.3)
    with write_locker(url, "image_assets"):
        assert await writes.queue_write(store("AgAC-new"), "store orion") is False
    assert any(line.startswith("ERROR") and "store orion" in line and "given up" in line
               for line in log_lines)


async def test_writes_still_waiting_at_shutdown_are_counted_in_a_warning(url, log_lines):
    with write_locker(url, "image_assets"):
        writes.queue_write(store("AgAC-new"), "store the file_id of orion")
        writes.queue_write(forget("AgAC-older"), "forget the refused file_id of vela")
        assert await writes.finish(timeout=0.3) == 2
    warnings = [line for line in log_lines if line.startswith("WARNING") and "shutdown" in line]
    assert len(warnings) == 1
    assert "2 database write(s)" in warnings[0]
    assert "orion" in warnings[0] and "vela" in warnings[0]
    assert writes.pending() == []


async def test_a_stopping_bot_flushes_the_writes_that_land_in_time(url, log_lines):
    lock = write_locker(url, "image_assets").__enter__()
    writes.queue_write(store("AgAC-new"), "store the file_id of orion")
    threading.Timer(0.5, lock.release).start()
    await app.post_shutdown(SimpleNamespace(bot_data={}))
    assert stored_file_id(url) == "AgAC-new"
    assert not [line for line in log_lines if "lost" in line]


async def test_a_stopping_bot_names_the_writes_it_could_not_flush(url, log_lines, monkeypatch):
    monkeypatch.setattr(app, "SHUTDOWN_WRITES_SECONDS", 0.3)
    with write_locker(url, "image_assets"):
        writes.queue_write(store("AgAC-new"), "store the file_id of orion")
        await app.post_shutdown(SimpleNamespace(bot_data={}))
    assert any(line.startswith("WARNING") and "1 database write(s)" in line and "orion" in line
               for line in log_lines)


async def test_the_senders_shutdown_names_the_writes_it_could_not_flush(url, log_lines):
    with write_locker(url, "image_assets"):
        writes.queue_write(store("AgAC-new"), "store the file_id of orion")
        await sender.shutdown(timeout=0.3)
    assert any(line.startswith("WARNING") and "1 database write(s)" in line and "orion" in line
               for line in log_lines)


async def test_a_write_cut_off_by_a_dropped_connection_is_tried_again(postgres_url, log_lines):
    open_database(postgres_url)
    try:
        apply_migrations()
        await writes.queue_write(store("AgAC-old"), "store the old file_id")
        tries = []

        def replace() -> None:
            tries.append(1)
            with database.atomic():  # peewee never reconnects silently inside a transaction
                forget("AgAC-old")()
                if len(tries) == 1:
                    terminate_every_other_backend(postgres_url)  # the server goes away
                store("AgAC-new")()

        assert await writes.queue_write(replace, "replace the file_id") is True
        assert len(tries) == 2
        assert stored_file_id(postgres_url) == "AgAC-new"
    finally:
        close_database()


# ---- writes of a key: a file_id, kept until it lands ---------------------------------------

FILE_ID_KEY = ("file_id", 1, KEY)


async def test_a_file_ids_write_is_kept_past_the_patience_of_other_writes(url, log_lines,
                                                                          monkeypatch):
    monkeypatch.setattr(writes, "WRITE_PATIENCE_SECONDS", 0.3)
    with write_locker(url, "image_assets"):
        kept = writes.queue_write(store("AgAC-new"), "store the file_id of orion",
                                  key=FILE_ID_KEY)
        await wait_for(lambda: failed_tries(log_lines) >= 20)  # well past 0.3 s of patience
        assert not kept.done()
    assert await asyncio.wait_for(kept, timeout=20) is True
    assert stored_file_id(url) == "AgAC-new"
    assert not [line for line in log_lines if line.startswith("ERROR")]


async def test_only_the_newest_write_of_a_key_waits(url, log_lines):
    with write_locker(url, "image_assets"):
        first = writes.queue_write(store("AgAC-1"), "store the first file_id", key=FILE_ID_KEY)
        await wait_for(lambda: failed_tries(log_lines) >= 2)
        second = writes.queue_write(store("AgAC-2"), "store the second file_id",
                                    key=FILE_ID_KEY)
        assert second is first
        assert writes.pending() == ["store the second file_id"]  # bounded: one per key
    assert await asyncio.wait_for(second, timeout=20) is True
    assert stored_file_id(url) == "AgAC-2"


async def test_writes_of_a_key_do_not_wait_behind_other_writes(
        postgres_url, log_lines, monkeypatch):
    # PostgreSQL locks a table at a time; SQLite's one write lock would hold up every write.
    lock_waits(monkeypatch, 50)
    monkeypatch.setattr(writes, "RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(writes, "RETRY_MAX_SECONDS", 0.05)
    open_database(postgres_url)
    try:
        apply_migrations()
        with write_locker(postgres_url, "shuffle_bags"):
            blocked = writes.queue_write(
                lambda: ShuffleBag.insert(bot_id=1, chat_id=7, seed=1).execute(),
                "record that chat 7 saw orion")
            await wait_for(lambda: failed_tries(log_lines) >= 2)
            kept = writes.queue_write(store("AgAC-new"), "store the file_id of orion",
                                      key=FILE_ID_KEY)
            assert await asyncio.wait_for(kept, timeout=10) is True
            assert not blocked.done()
        assert await asyncio.wait_for(blocked, timeout=20) is True
        assert stored_file_id(postgres_url) == "AgAC-new"
    finally:
        close_database()
