"""A locked or slow database delays only the requests that need it, and loses no file_id."""

from __future__ import annotations

import dataclasses

import peewee
import pytest

from cosmobot.storage import database
from cosmobot.storage.database import open_database
from cosmobot.storage.models import ImageAsset
from tests.botrunner import BotThread, bot_settings, photos, texts, warm_now
from tests.dblocks import (
    PostgresLocker,
    SqliteLocker,
    lock_waits,
    locker_for,
    seen_count,
    stored_file_id,
    write_locker,
)
from tests.factories import make_assets

ALICE, BORIS = 3001, 3002
CACHE_CHAT = -1003000000001
NAMES = ("orion.jpg", "andromeda.png", "vela.jpg")
LOCK_WORDS = ("database is locked", "statement timeout", "Could not store")


@pytest.fixture(params=["sqlite", "postgresql"])
def locked_bot_settings(request, tmp_path, fake_api):
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))
    if request.param == "postgresql":
        settings = dataclasses.replace(settings,
                                       database_url=request.getfixturevalue("postgres_url"))
    return settings


def test_a_locked_database_holds_up_no_other_user(locked_bot_settings, fake_api, log_lines):
    url = locked_bot_settings.database_url
    with BotThread(locked_bot_settings, fake_api):
        with locker_for(url):
            fake_api.push_text(ALICE, "/cosmic")  # needs the database, and must wait for it
            if url.startswith("sqlite"):
                # SQLite lets the read through (WAL); the write of the new file_id then waits.
                fake_api.wait_until(lambda: photos(fake_api, ALICE))
            fake_api.push_text(BORIS, "/help")
            fake_api.wait_until(lambda: texts(fake_api, BORIS))
            # Answered while the database still made Alice's request wait: the event loop
            # never stood still behind it.
            assert not [line for line in log_lines if any(w in line for w in LOCK_WORDS)]
        photo = fake_api.wait_until(lambda: photos(fake_api, ALICE), timeout=20)[0]
        fake_api.wait_until(lambda: stored_file_id(url) is not None, timeout=20)
    assert texts(fake_api, ALICE) == [], "Alice got her photo and no error"
    assert stored_file_id(url) == photo["photo"][-1]["file_id"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_known_chat_is_answered_while_a_write_waits_and_the_record_lands_after(
    kind, tmp_path, fake_api, monkeypatch, request
):
    # A lock wait far longer than the test waits for Boris: had his /cosmic queued behind
    # Alice's write, he would get nothing in time.
    lock_waits(monkeypatch, 60_000)
    fake_api.add_group(CACHE_CHAT, "Cache")
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", NAMES))
    if kind == "postgresql":
        settings = dataclasses.replace(settings,
                                       database_url=request.getfixturevalue("postgres_url"))
    url = settings.database_url
    warm_now(settings, CACHE_CHAT)  # every /cosmic below is a send by file_id
    with BotThread(settings, fake_api):
        fake_api.push_text(BORIS, "/cosmic")
        fake_api.wait_until(lambda: seen_count(url, BORIS) == 1)  # Boris is a known chat
        with write_locker(url, "shuffle_bags") as lock:
            fake_api.push_text(ALICE, "/cosmic")  # a new chat: its record waits for the lock
            fake_api.wait_until(lambda: photos(fake_api, ALICE))
            fake_api.push_text(BORIS, "/cosmic")
            fake_api.wait_until(lambda: len(photos(fake_api, BORIS)) == 2, timeout=20)
            assert seen_count(url, ALICE) == 0, "Boris was answered while Alice's write waited"
            lock.release()
            fake_api.wait_until(lambda: seen_count(url, ALICE) == 1, timeout=30)
            fake_api.wait_until(lambda: seen_count(url, BORIS) == 2, timeout=30)
    assert texts(fake_api, ALICE) == texts(fake_api, BORIS) == []


def test_a_cache_write_failing_after_the_photo_is_retried_not_reported(
    tmp_path, fake_api, log_lines, monkeypatch
):
    monkeypatch.setattr("cosmobot.storage.writes.RETRY_FIRST_SECONDS", 0.2)
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))
    with BotThread(settings, fake_api):
        with SqliteLocker(settings.database_url):
            fake_api.push_text(ALICE, "/cosmic")
            fake_api.wait_until(lambda: photos(fake_api, ALICE))
            # Kept locked past the busy timeout: the first write fails and is retried.
            fake_api.wait_until(lambda: any("Could not store" in line for line in log_lines),
                                timeout=20)
        fake_api.wait_until(lambda: stored_file_id(settings.database_url), timeout=20)
        fake_api.push_text(ALICE, "/cosmic")
        fake_api.wait_until(lambda: len(photos(fake_api, ALICE)) == 2)
    assert texts(fake_api, ALICE) == []
    assert len(fake_api.uploads()) == 1 and len(fake_api.file_id_sends()) == 1


def test_postgresql_queries_have_a_bounded_wait(postgres_url, monkeypatch):
    monkeypatch.setitem(database.POSTGRES_OPTIONS, "options", "-c statement_timeout=300")
    db = open_database(postgres_url)
    try:
        ImageAsset.create_table()
        with PostgresLocker(postgres_url):
            with pytest.raises(peewee.OperationalError, match="statement timeout"):
                ImageAsset.lookup(1, "cosmic/orion.jpg")
    finally:
        db.close()


def test_postgresql_connections_use_keepalives_and_a_statement_timeout(postgres_url):
    db = open_database(postgres_url)
    try:
        parameters = db.connection().get_dsn_parameters()
        assert parameters["keepalives"] == "1" and int(parameters["keepalives_idle"]) <= 60
        assert db.execute_sql("SHOW statement_timeout").fetchone() == ("5s",)
    finally:
        db.close()
