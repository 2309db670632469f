"""The sender against the fake Bot API through a real telegram.Bot: the file_id cache rules."""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import HTTPXRequest

from cosmobot import sender
from cosmobot.botapi.retry import MAX_ATTEMPTS
from cosmobot.schedule import jobs
from cosmobot.storage import filecache
from cosmobot.storage.models import ImageAsset
from tests.factories import BOT_ID, OTHER_BOT_ID, OTHER_TOKEN, TOKEN, make_image
from tests.fakebotapi import FakeBotApi

pytestmark = pytest.mark.asyncio
CHAT = 4242
KEY = "cosmic/orion.jpg"


@pytest.fixture
def two_bots_api():
    with FakeBotApi([TOKEN, OTHER_TOKEN]) as api:
        yield api


@pytest_asyncio.fixture
async def bot(two_bots_api):
    async with Bot(TOKEN, base_url=two_bots_api.base_url) as bot:
        yield bot


@pytest.fixture
def api(two_bots_api):
    return two_bots_api


async def stored(key, bot_id=BOT_ID):
    """The row the database holds for bot_id and key, once the background writes are done."""
    await filecache.settle()
    return ImageAsset.lookup(bot_id, key)


async def stored_count():
    await filecache.settle()
    return ImageAsset.select().count()


def counts(api):
    return len(api.uploads()), len(api.file_id_sends())


async def test_miss_uploads_and_stores_the_largest_size(db, library, bot, api):
    message = await sender.send_image(bot, CHAT, KEY, caption="Orion")
    assert counts(api) == (1, 0)
    row = await stored(KEY)
    assert row.file_id == message.photo[-1].file_id
    assert row.file_unique_id == message.photo[-1].file_unique_id
    assert row.bot_id == bot.id
    assert row.fingerprint == library.fingerprint(library.resolve(KEY))
    assert api.uploads()[0].params["caption"] == "Orion"
    actions = await api.await_until(lambda: api.calls("sendChatAction"))
    assert [call.params["action"] for call in actions] == ["upload_photo"]


async def test_hit_sends_by_file_id(db, library, bot, api):
    await sender.send_image(bot, CHAT, KEY)
    message = await sender.send_image(bot, CHAT, KEY)
    assert counts(api) == (1, 1)
    await asyncio.sleep(0.2)  # a stray chat action would have arrived by now
    assert len(api.calls("sendChatAction")) == 1  # no "sending a photo" for an instant send
    assert api.file_id_sends()[0].params["photo"] == (await stored(KEY)).file_id
    assert message.photo[-1].file_id == (await stored(KEY)).file_id


async def test_a_file_id_of_another_bot_is_not_used(db, library, bot, api):
    async with Bot(OTHER_TOKEN, base_url=api.base_url) as other:
        await sender.send_image(other, CHAT, KEY)
    await sender.send_image(bot, CHAT, KEY)
    assert counts(api) == (2, 0)  # never offered the other bot's id to Telegram
    assert (await stored(KEY)).bot_id == bot.id


async def test_two_bots_keep_a_file_id_each_and_send_by_their_own(db, library, bot, api):
    async with Bot(OTHER_TOKEN, base_url=api.base_url) as other:
        for sending in (other, bot, other, bot):
            await sender.send_image(sending, CHAT, KEY)
        assert counts(api) == (2, 2)  # one upload each, then each by its own file_id
        await filecache.settle()
        filecache.reset()  # a restart: only the database is left
        await sender.send_image(other, CHAT, KEY)
        await sender.send_image(bot, CHAT, KEY)
    assert counts(api) == (2, 4)
    mine, others = await stored(KEY), await stored(KEY, OTHER_BOT_ID)
    assert (mine.bot_id, others.bot_id) == (BOT_ID, OTHER_BOT_ID)
    by_token = {call.token: call.params["photo"] for call in api.file_id_sends()}
    assert by_token == {TOKEN: mine.file_id, OTHER_TOKEN: others.file_id}
    assert (await stored_count()) == 2


async def test_two_bots_upload_a_new_image_side_by_side(db, library, bot, api):
    api.latency = 2.0  # the first upload is still on its way when the second bot asks
    async with Bot(OTHER_TOKEN, base_url=api.base_url) as other:
        mine = asyncio.create_task(sender.send_image(bot, CHAT, KEY))
        await api.await_until(api.uploads)
        theirs = asyncio.create_task(sender.send_image(other, CHAT + 1, KEY))
        await api.await_until(lambda: len(api.uploads()) == 2)
        assert api.uploads()[0].status is None, "the other bot waited for this one's upload"
        assert all(await asyncio.gather(mine, theirs))


async def test_changed_file_content_is_uploaded_again(db, library, bot, api):
    await sender.send_image(bot, CHAT, KEY)
    path = library.resolve(KEY)
    make_image(path, colour=(200, 100, 0))
    os.utime(path, ns=(10**18, 10**18))
    await sender.send_image(bot, CHAT, KEY)
    assert counts(api) == (2, 0)
    assert (await stored(KEY)).fingerprint == library.fingerprint(path)


async def test_stale_file_id_is_replaced_in_the_same_call(db, library, bot, api):
    first = await sender.send_image(bot, CHAT, KEY)
    api.revoke(first.photo[-1].file_id)
    message = await sender.send_image(bot, CHAT, KEY)
    assert message is not None and message.photo[-1].file_id != first.photo[-1].file_id
    assert counts(api) == (2, 1)
    assert (await stored(KEY)).file_id == message.photo[-1].file_id


async def test_other_bad_requests_keep_the_cached_row(db, library, bot, api):
    await sender.send_image(bot, CHAT, KEY)
    with pytest.raises(BadRequest, match="caption is too long"):
        await sender.send_image(bot, CHAT, KEY, caption="x" * 2000)
    assert await stored(KEY) is not None
    assert counts(api) == (1, 1)


async def test_concurrent_first_sends_make_one_upload(db, library, bot, api):
    api.upload_bandwidth = 100_000
    messages = await asyncio.gather(*(sender.send_image(bot, CHAT + n, KEY) for n in range(20)))
    assert all(messages)
    assert counts(api) == (1, 19)
    assert len({m.photo[-1].file_id for m in messages}) == 1


@pytest.mark.parametrize("key", ["../outside.jpg", "/etc/hostname", "cosmic/missing.jpg"])
async def test_keys_outside_the_root_or_missing_send_nothing(db, library, bot, api, key):
    make_image(library.root.parent / "outside.jpg")
    assert await sender.send_image(bot, CHAT, key) is None
    assert api.calls("sendPhoto") == []


async def test_oversized_image_is_fitted_and_cached_under_the_original_key(db, library, bot, api):
    make_image(library.root / "cosmic" / "huge.jpg", size=(9000, 2500))
    library.scan()
    message = await sender.send_image(bot, CHAT, "cosmic/huge.jpg")
    assert message is not None and api.uploads()[0].status == 200
    assert message.photo[-1].width + message.photo[-1].height <= 10_000
    assert await stored("cosmic/huge.jpg") is not None


async def test_send_random_cosmic_and_empty_library(db, library, bot, api, tmp_path):
    message = await sender.send_random_cosmic(bot, CHAT, caption="hi")
    assert message is not None and message.caption == "hi"
    empty = type(library)(tmp_path / "empty")
    empty.scan()
    sender.configure(empty)
    assert sender.random_cosmic_key() is None
    assert await sender.send_random_cosmic(bot, CHAT) is None


async def test_rescan_job_picks_up_new_images(library):
    assert sender.random_cosmic_key(exclude=None) in library.cosmic_keys
    make_image(library.root / "cosmic" / "new.jpg")
    await jobs.rescan_assets(context=SimpleNamespace(bot_data={}))
    assert "cosmic/new.jpg" in sender.library().cosmic_keys


async def test_hits_and_misses_are_logged(db, library, bot, api, log_lines):
    await sender.send_image(bot, CHAT, KEY)
    await sender.send_image(bot, CHAT, KEY)
    assert any(line.startswith("INFO Cache miss: uploading cosmic/orion.jpg") for line in log_lines)
    assert any(line.startswith("INFO Cache hit: cosmic/orion.jpg") for line in log_lines)


async def test_a_timed_out_upload_is_not_sent_again(db, library, api):
    # The upload may well have reached the chat: repeating it would deliver the photo twice.
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(TOKEN, base_url=api.base_url, request=request) as impatient:
        api.latency = 1.0
        with pytest.raises(TimedOut):
            await sender.send_image(impatient, CHAT, KEY)
    assert len(api.calls("sendPhoto")) == 1


async def test_a_corrupt_file_is_dropped_before_upload(db, library, bot, api, log_lines):
    path = library.resolve(KEY)
    data = path.read_bytes()
    path.write_bytes(data[:200] + b"\x00" * (len(data) - 202) + data[-2:])  # ends intact
    assert await sender.send_image(bot, CHAT, KEY) is None
    assert api.calls("sendPhoto") == []
    assert KEY not in library.cosmic_keys
    assert sum("Skipping" in line and "orion.jpg" in line for line in log_lines) == 1


async def test_an_image_telegram_refuses_is_dropped(db, library, bot, api):
    api.fail_next("sendPhoto", status=400, description="Bad Request: IMAGE_PROCESS_FAILED")
    assert await sender.send_image(bot, CHAT, KEY) is None
    assert KEY not in library.cosmic_keys
    assert await stored(KEY) is None


async def test_a_vanished_file_is_dropped(db, library, bot, api):
    library.resolve(KEY).unlink()
    assert await sender.send_image(bot, CHAT, KEY) is None
    assert KEY not in library.cosmic_keys


async def test_a_file_replaced_by_a_symlink_out_after_the_scan_is_never_sent(
    db, library, bot, api, tmp_path
):
    # The scan keeps each key's real file; a send still sees that it became a symlink.
    secret = make_image(tmp_path / "private" / "secret.jpg")
    library.resolve(KEY).unlink()
    (library.cosmic_dir / "orion.jpg").symlink_to(secret)
    assert await sender.cached_file_id(bot, KEY) is None
    assert await sender.send_image(bot, CHAT, KEY) is None
    assert api.calls("sendPhoto") == []


async def test_a_symlink_out_asked_for_by_key_is_never_sent(db, library, bot, api, tmp_path):
    (library.cosmic_dir / "escape.jpg").symlink_to(make_image(tmp_path / "private.jpg"))
    assert await sender.send_image(bot, CHAT, "cosmic/escape.jpg") is None
    assert api.calls("sendPhoto") == []


async def test_an_upload_failing_for_all_fails_fast_for_those_waiting(db, library, bot, api):
    api.fail_next("sendPhoto", status=502, times=100)
    results = await asyncio.gather(
        *(sender.send_image(bot, CHAT + n, KEY) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(result, NetworkError) for result in results)
    # One upload's bounded retries, not five users' worth one after another.
    assert len(api.calls("sendPhoto")) == MAX_ATTEMPTS


async def test_after_a_failed_upload_the_next_request_tries_again(db, library, bot, api):
    api.fail_next("sendPhoto", status=502, times=MAX_ATTEMPTS)
    with pytest.raises(NetworkError):
        await sender.send_image(bot, CHAT, KEY)
    assert await sender.send_image(bot, CHAT, KEY) is not None


async def test_a_rejected_file_id_is_forgotten_even_if_no_upload_follows(
    db, library, bot, api, monkeypatch
):
    first = await sender.send_image(bot, CHAT, KEY)
    api.revoke(first.photo[-1].file_id)

    def unreadable(path):
        raise OSError("read error")

    monkeypatch.setattr(sender.photo, "prepare_upload", unreadable)
    assert await sender.send_image(bot, CHAT, KEY) is None
    assert await stored(KEY) is None
