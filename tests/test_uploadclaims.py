"""Upload claims: the rules of the upsert, and the sender meeting another process's claim.

Another process is played here by rows it would write; real processes race in
test_flight_processes.py.
"""

from __future__ import annotations

import asyncio
import time

import peewee
import pytest
import pytest_asyncio
from telegram import Bot

from cosmobot import sender
from cosmobot.clock import wall_seconds
from cosmobot.storage import filecache, uploadclaims, writes
from cosmobot.storage.database import (
    apply_migrations,
    close_database,
    in_db_thread,
    open_database,
    read_in_db_thread,
)
from cosmobot.storage.models import ImageAsset, UploadClaim
from tests.dblocks import SqliteLocker, lock_waits, query_one, stored_file_id, write_locker
from tests.factories import TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]
BOT_ID = int(TOKEN.split(":")[0])
KEY = "cosmic/orion.jpg"
CHAT = 4242
OTHER = "4242-0123456789ab/1"


@pytest_asyncio.fixture
async def bot(fake_api):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        yield bot


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch):
    monkeypatch.setattr(uploadclaims, "POLL_SECONDS", 0.05)


def claimed_by_another(expires_in: float) -> None:
    UploadClaim.create(bot_id=BOT_ID, asset_key=KEY, owner=OTHER,
                       expires_at=wall_seconds() + expires_in)


async def uploaded_elsewhere(bot, fake_api, library) -> str:
    """The file_id of an upload another process made (to a chat of its own)."""
    message = await bot.send_photo(CHAT + 1, library.resolve(KEY).read_bytes())
    fake_api.reset_calls()
    return message.photo[-1].file_id


def cached_by_another(library, file_id: str) -> None:
    """What another process's upload leaves: the row, and its claim gone."""
    fingerprint = library.fingerprint(library.resolve(KEY))
    ImageAsset.store(KEY, file_id, "unique", BOT_ID, fingerprint).execute()
    UploadClaim.release(BOT_ID, KEY, OTHER).execute()


async def test_a_claim_is_taken_when_free_or_expired_and_refused_while_live(db):
    now = wall_seconds()
    assert UploadClaim.take(BOT_ID, KEY, "first", now, now + 20).execute() == 1
    assert UploadClaim.take(BOT_ID, KEY, "second", now, now + 20).execute() == 0
    assert UploadClaim.holder(BOT_ID, KEY).owner == "first"
    later = now + 21  # the first owner stopped renewing: it died
    assert UploadClaim.take(BOT_ID, KEY, "second", later, later + 20).execute() == 1
    assert UploadClaim.holder(BOT_ID, KEY).owner == "second"


async def test_renewing_and_letting_go_touch_only_the_owners_claim(db):
    now = wall_seconds()
    UploadClaim.take(BOT_ID, KEY, "owner", now, now + 20).execute()
    assert UploadClaim.renew(BOT_ID, KEY, "intruder", now + 99).execute() == 0
    assert UploadClaim.release(BOT_ID, KEY, "intruder").execute() == 0
    assert UploadClaim.renew(BOT_ID, KEY, "owner", now + 40).execute() == 1
    assert UploadClaim.holder(BOT_ID, KEY).expires_at == now + 40
    assert UploadClaim.release(BOT_ID, KEY, "owner").execute() == 1
    assert UploadClaim.holder(BOT_ID, KEY) is None


async def test_a_send_waits_for_anothers_upload_and_sends_by_its_file_id(
        db, library, bot, fake_api):
    theirs = await uploaded_elsewhere(bot, fake_api, library)
    claimed_by_another(expires_in=20)
    send = asyncio.create_task(sender.send_image(bot, CHAT, KEY))
    await asyncio.sleep(0.5)
    assert not send.done() and fake_api.uploads() == []  # it waits for the other's upload
    cached_by_another(library, theirs)
    message = await asyncio.wait_for(send, 10)
    assert message is not None and fake_api.uploads() == []
    assert [call.params["photo"] for call in fake_api.file_id_sends()] == [theirs]


async def test_a_claim_left_by_a_dead_process_is_taken_once_it_expires(db, library, bot,
                                                                       fake_api):
    claimed_by_another(expires_in=1.0)
    started = time.monotonic()
    assert await sender.send_image(bot, CHAT, KEY) is not None
    assert len(fake_api.uploads()) == 1
    assert fake_api.uploads()[0].timestamp - started >= 0.9  # not before the claim expired
    await filecache.settle()
    assert UploadClaim.select().count() == 0  # let go of with the file_id


async def test_a_file_id_another_process_cached_since_a_miss_is_found(
        db, library, bot, fake_api):
    theirs = await uploaded_elsewhere(bot, fake_api, library)
    assert await filecache.lookup(KEY, BOT_ID, "any") is None  # a miss, remembered a while
    cached_by_another(library, theirs)
    assert await sender.send_image(bot, CHAT, KEY) is not None
    assert fake_api.uploads() == []
    assert [call.params["photo"] for call in fake_api.file_id_sends()] == [theirs]


async def test_the_claim_is_held_until_the_file_id_is_stored(db, library, bot, fake_api,
                                                             monkeypatch):
    claims_seen = []
    store = filecache._store

    def watched_store(*args):
        claims_seen.append(UploadClaim.holder(BOT_ID, KEY))
        store(*args)
        claims_seen.append(UploadClaim.holder(BOT_ID, KEY))

    monkeypatch.setattr(filecache, "_store", watched_store)
    assert await sender.send_image(bot, CHAT, KEY) is not None
    await filecache.settle()
    # Claimed until the write, let go of in it: no moment without either.
    assert claims_seen[0] is not None and claims_seen[1] is None
    assert UploadClaim.select().count() == 0
    assert ImageAsset.lookup(BOT_ID, KEY) is not None


async def test_a_failed_upload_lets_go_of_the_claim_at_once(db, library, bot, fake_api):
    fake_api.block(CHAT)
    with pytest.raises(Exception):
        await sender.send_image(bot, CHAT, KEY)
    assert UploadClaim.select().count() == 0  # another process may upload it now


async def test_without_the_database_the_upload_goes_on_without_a_claim(
        db, library, bot, fake_api, monkeypatch, log_lines):
    def unreachable(*args):
        raise peewee.OperationalError("connection to server failed: Connection refused")

    monkeypatch.setattr(UploadClaim, "holder", unreachable)
    assert await sender.send_image(bot, CHAT, KEY) is not None
    assert len(fake_api.uploads()) == 1
    warnings = [line for line in log_lines if line.startswith(("WARNING", "ERROR"))]
    assert len(warnings) == 1 and "Database unreachable" in warnings[0]  # the outage, once


async def test_a_file_id_stored_between_the_look_and_the_claim_is_used(db, library, bot,
                                                                       fake_api, monkeypatch):
    theirs = await uploaded_elsewhere(bot, fake_api, library)
    look = uploadclaims._Claim._row_and_claim

    def looked_just_before_their_write(claim):
        seen = look(claim)
        cached_by_another(library, theirs)  # their row lands, their claim goes
        return seen

    claimed_by_another(expires_in=-1)  # expired: it is taken at once
    monkeypatch.setattr(uploadclaims._Claim, "_row_and_claim", looked_just_before_their_write)
    assert await sender.send_image(bot, CHAT, KEY) is not None
    assert fake_api.uploads() == []
    assert UploadClaim.select().count() == 0


async def test_the_claim_is_renewed_while_the_upload_runs(db, library, bot, fake_api,
                                                          monkeypatch):
    monkeypatch.setattr(uploadclaims, "CLAIM_SECONDS", 0.6)
    monkeypatch.setattr(uploadclaims, "RENEW_SECONDS", 0.2)
    fake_api.latency = 2.0  # an upload that outlasts three times the claim's first lease
    send = asyncio.create_task(sender.send_image(bot, CHAT, KEY))
    await fake_api.await_until(fake_api.uploads)
    await asyncio.sleep(1.2)
    now = wall_seconds()
    assert await in_db_thread(
        UploadClaim.take(BOT_ID, KEY, OTHER, now, now + 20).execute) == 0  # still held
    assert await send is not None


async def test_a_claim_outlives_its_upload_until_the_file_id_is_written(
        postgres_url, library, bot, fake_api, monkeypatch):
    # PostgreSQL locks one table: the file_id waits while the claims table stays free.
    lock_waits(monkeypatch, 100)
    monkeypatch.setattr(writes, "RETRY_MAX_SECONDS", 0.1)
    monkeypatch.setattr(uploadclaims, "RENEW_SECONDS", 0.1)
    open_database(postgres_url)
    try:
        apply_migrations()
        with write_locker(postgres_url, "image_assets"):
            assert await sender.send_image(bot, CHAT, KEY) is not None  # the user has it
            await asyncio.sleep(1.0)  # its file_id's write meanwhile waits for the lock
            now = wall_seconds()
            taken = await in_db_thread(UploadClaim.take(BOT_ID, KEY, OTHER, now, now + 20).execute)
            assert taken == 0, "another process would upload it again"
        await filecache.settle()
        assert stored_file_id(postgres_url) is not None
        assert await read_in_db_thread(UploadClaim.select().count) == 0
    finally:
        close_database()


async def test_a_write_lock_held_elsewhere_delays_an_upload_a_second_at_most(
        tmp_path, library, bot, fake_api, monkeypatch, log_lines):
    lock_waits(monkeypatch, 10_000)  # a write would wait ten seconds for the lock
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    open_database(url)
    try:
        apply_migrations()
        with SqliteLocker(url):
            started = time.monotonic()
            assert await sender.send_image(bot, CHAT, KEY) is not None
            assert time.monotonic() - started < uploadclaims.TAKE_WAIT_SECONDS + 2.0
        await filecache.settle()
        # The claim the database took late, after the upload went on, was let go of.
        await fake_api.await_until(lambda: query_one(url, "SELECT COUNT(*) FROM upload_claims")
                                   == (0,))
        assert stored_file_id(url) is not None
        assert any("without a claim" in line for line in log_lines)
    finally:
        close_database()
