"""The file_id cache: a forget never drops a newer file_id, and misses cost one read at most."""

from __future__ import annotations

import asyncio
import time

import pytest

from cosmobot.storage import database, filecache, writes
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import ImageAsset
from tests.botrunner import BotThread, bot_settings
from tests.dblocks import SqliteLocker, lock_waits, stored_file_id
from tests.factories import make_assets

KEY = "cosmic/orion.jpg"
BOT, OTHER_BOT, FINGERPRINT = 123456789, 987654321, "f" * 64


def remember(file_id: str, bot_id: int = BOT) -> None:
    filecache.remember(KEY, file_id, f"unique-{file_id}", bot_id, FINGERPRINT)


async def cached_file_id(bot_id: int = BOT) -> str | None:
    row = await filecache.lookup(KEY, bot_id, FINGERPRINT)
    return row.file_id if row else None


@pytest.fixture
def fresh_cache():
    filecache.reset()
    yield
    filecache.reset()


def record_cache_reads(db) -> list[str]:
    """Start recording the reads of image_assets db runs, on any of the bot's threads."""
    statements: list[str] = []
    real_execute = db.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        if sql.lstrip().upper().startswith("SELECT") and "image_assets" in sql:
            statements.append(sql)
        return real_execute(sql, params, *args, **kwargs)

    db.execute_sql = recording
    return statements


@pytest.fixture
def reads(db):
    """The reads of image_assets from now on."""
    yield record_cache_reads(db)
    del db.execute_sql


@pytest.mark.asyncio
async def test_forgetting_an_old_file_id_keeps_a_newer_one_in_memory(db, fresh_cache):
    remember("AgAC-old")
    remember("AgAC-new")  # cached meanwhile, by another request
    filecache.forget(BOT, KEY, "AgAC-old")  # Telegram refused the old one to a request on it
    assert await cached_file_id() == "AgAC-new"


@pytest.mark.asyncio
async def test_forgetting_an_old_file_id_keeps_a_newer_one_in_the_database(db, fresh_cache):
    remember("AgAC-old")
    await filecache.settle()
    remember("AgAC-new")
    filecache.forget(BOT, KEY, "AgAC-old")
    await filecache.settle()
    assert ImageAsset.lookup(BOT, KEY).file_id == "AgAC-new"
    filecache.reset()  # a restart: only the database is left
    assert await cached_file_id() == "AgAC-new"


@pytest.mark.asyncio
async def test_forgetting_the_current_file_id_drops_it_everywhere(db, fresh_cache):
    remember("AgAC-old")
    filecache.forget(BOT, KEY, "AgAC-old")
    assert await cached_file_id() is None
    await filecache.settle()
    assert ImageAsset.lookup(BOT, KEY) is None


@pytest.mark.asyncio
async def test_two_bots_keep_a_file_id_each_in_memory_and_in_the_database(db, fresh_cache):
    remember("AgAC-mine")
    remember("AgAC-others", OTHER_BOT)
    filecache.forget(OTHER_BOT, KEY, "AgAC-others")  # refused to the other bot
    assert (await cached_file_id(), await cached_file_id(OTHER_BOT)) == ("AgAC-mine", None)
    remember("AgAC-others-new", OTHER_BOT)
    await filecache.settle()
    filecache.reset()  # a restart: only the database is left
    assert (await cached_file_id(), await cached_file_id(OTHER_BOT)) == (
        "AgAC-mine", "AgAC-others-new")


@pytest.mark.asyncio
async def test_the_keys_in_memory_follow_each_bots_rows(db, fresh_cache):
    remember("AgAC-mine")
    remember("AgAC-others", OTHER_BOT)
    filecache.forget(OTHER_BOT, KEY, "AgAC-others")
    assert (filecache.keys_in_memory(BOT), filecache.keys_in_memory(OTHER_BOT)) == ({KEY}, set())
    await filecache.settle()
    filecache.reset()  # a restart: the keys come back as their rows are read
    assert filecache.keys_in_memory(BOT) == set()
    await filecache.preload(BOT, [KEY, "cosmic/never-sent.jpg"])
    assert filecache.keys_in_memory(BOT) == {KEY}
    # A row another process cached, found past this memory (sender's wait for a claim).
    ImageAsset.store("cosmic/theirs.jpg", "AgAC-theirs", "unique2", BOT, FINGERPRINT).execute()
    filecache.adopt(ImageAsset.lookup(BOT, "cosmic/theirs.jpg"))
    assert filecache.keys_in_memory(BOT) == {KEY, "cosmic/theirs.jpg"}


@pytest.mark.asyncio
async def test_one_bots_miss_does_not_hide_another_bots_row(db, fresh_cache, reads):
    ImageAsset.store(KEY, "AgAC-others", "unique", OTHER_BOT, FINGERPRINT).execute()
    await filecache.preload(BOT, [KEY])
    assert await cached_file_id() is None  # remembered as a miss for this bot
    assert await cached_file_id(OTHER_BOT) == "AgAC-others"
    assert len(reads) == 2


@pytest.mark.asyncio
async def test_a_miss_is_read_once_then_remembered_for_a_while(db, fresh_cache, reads,
                                                               monkeypatch):
    assert await cached_file_id() is None
    assert await cached_file_id() is None
    assert len(reads) == 1
    monkeypatch.setattr(filecache, "MISS_SECONDS", 0.05)
    time.sleep(0.1)
    # Another process may have cached it meanwhile: after a while the database is asked again.
    ImageAsset.store(KEY, "AgAC-warmed", "unique", BOT, FINGERPRINT).execute()
    assert await cached_file_id() == "AgAC-warmed"
    assert len(reads) == 2


@pytest.mark.asyncio
async def test_a_preload_reads_once_for_any_number_of_uncached_images(db, fresh_cache, reads):
    keys = [f"cosmic/star-{n}.jpg" for n in range(81)]
    await filecache.preload(BOT, keys)
    for key in keys:
        assert await filecache.lookup(key, BOT, FINGERPRINT) is None
    await filecache.preload(BOT, keys)
    assert len(reads) == 1


@pytest.mark.asyncio
async def test_a_refused_file_id_is_not_read_back_while_its_delete_waits(
    tmp_path, fresh_cache, monkeypatch
):
    lock_waits(monkeypatch, 60_000)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    open_database(url)
    try:
        apply_migrations()
        ImageAsset.store(KEY, "AgAC-refused", "unique", BOT, FINGERPRINT).execute()
        assert await cached_file_id() == "AgAC-refused"
        with SqliteLocker(url):
            filecache.forget(BOT, KEY, "AgAC-refused")  # the delete waits for the lock
            assert await cached_file_id() is None
            assert stored_file_id(url) == "AgAC-refused"
        await filecache.settle()
        assert stored_file_id(url) is None
    finally:
        close_database()


def test_an_inline_query_reads_the_database_once_at_most(tmp_path, fake_api):
    names = tuple(f"star-{n}.jpg" for n in range(12))
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", names))
    with BotThread(settings, fake_api):
        statements = record_cache_reads(database.database.obj)
        counts = []
        for query in ("", "", "star"):
            before = len(statements)
            query_id = fake_api.push_inline_query(4242, query)["inline_query"]["id"]
            answer = fake_api.wait_until(lambda: fake_api.inline_answer(query_id))
            counts.append(len(statements) - before)
            assert answer["results"] == [] and "button" in answer  # nothing cached, no cache chat
    assert counts == [1, 0, 0]


@pytest.mark.asyncio
async def test_forgetting_a_refused_file_id_never_drops_a_newer_ones_waiting_write(
    tmp_path, fresh_cache, monkeypatch
):
    lock_waits(monkeypatch, 50)
    monkeypatch.setattr(writes, "RETRY_MAX_SECONDS", 0.05)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    open_database(url)
    try:
        apply_migrations()
        ImageAsset.store(KEY, "AgAC-old", "unique", BOT, FINGERPRINT).execute()
        with SqliteLocker(url):
            remember("AgAC-new")  # its write waits for the lock
            await asyncio.sleep(0.1)
            # A request still on the old file_id had it refused: the new one replaces it anyway.
            filecache.forget(KEY, "AgAC-old", BOT)
        await filecache.settle()
        assert stored_file_id(url) == "AgAC-new"
    finally:
        close_database()
