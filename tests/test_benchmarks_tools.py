"""What the benchmark scenarios stand on: held polls, the rounds they reuse, their set-ups."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import pytest
from playhouse.db_url import connect
from telegram import Bot

from cosmobot import sender
from cosmobot.images import search
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage.database import close_database
from cosmobot.storage.models import ImageAsset
from tests.benchmarks import daily_round, databases, herd, send_latency
from tests.benchmarks.generated import generate_collection
from tests.benchmarks.pollers import answered_call, wait_for_held_poll
from tests.benchmarks.scenarios.cosmic_command import BareBotProcess
from tests.factories import OTHER_TOKEN, TOKEN, make_image
from tests.fakebotapi import FakeBotApi

LATENCY = 0.3


@pytest.fixture
def api():
    """A fake Bot API serving cosmobot's token and the bare bot's."""
    with FakeBotApi([TOKEN, OTHER_TOKEN]) as fake:
        yield fake


def _poll_in_background(api, token: str = TOKEN) -> threading.Thread:
    """A bot's long poll for updates, from a thread of its own."""
    async def poll() -> None:
        async with Bot(token, base_url=api.base_url) as bot:
            api.latency = LATENCY  # not for getMe: only the poll waits
            await bot.get_updates(timeout=5)
    thread = threading.Thread(target=asyncio.run, args=(poll(),), daemon=True)
    thread.start()
    return thread


def test_a_poll_counts_as_held_once_it_has_arrived_half_a_round_trip_later(fake_api):
    sent = time.monotonic()
    poller = _poll_in_background(fake_api)
    wait_for_held_poll(fake_api, TOKEN)
    poll = fake_api.calls("getUpdates")[-1]
    assert poll.status is None
    assert poll.timestamp - sent >= LATENCY / 2
    fake_api.push_text(1001, "/cosmic")
    poller.join(timeout=10)
    assert fake_api.calls("getUpdates")[-1].result[0]["message"]["text"] == "/cosmic"


def test_a_poll_is_held_for_its_own_bot_only_until_it_is_answered(api):
    poller = _poll_in_background(api)
    wait_for_held_poll(api, TOKEN)
    with pytest.raises(AssertionError, match="not met"):
        wait_for_held_poll(api, OTHER_TOKEN, timeout=0.3)  # that bot never polled
    api.push_text(1001, "/cosmic")
    poller.join(timeout=10)
    with pytest.raises(AssertionError, match="not met"):
        wait_for_held_poll(api, TOKEN, timeout=0.3)


@pytest.mark.asyncio
async def test_the_answered_call_is_the_first_to_that_chat_since_then(api):
    async with Bot(TOKEN, base_url=api.base_url) as bot, \
            Bot(OTHER_TOKEN, base_url=api.base_url) as other:
        await bot.send_message(7, "before")
        since = time.monotonic()
        await other.send_message(7, "another bot")
        await bot.send_message(8, "another chat")
        await bot.send_message(7, "this one")
        await bot.send_message(7, "a later one")
    call = await asyncio.to_thread(answered_call, api, TOKEN, "sendMessage", 7, since)
    assert (call.params["text"], call.status) == ("this one", 200)


@pytest.mark.asyncio
async def test_the_answered_call_is_waited_for_until_its_answer(fake_api):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        since = time.monotonic()
        fake_api.latency = LATENCY
        sending = asyncio.create_task(bot.send_message(7, "slow"))
        await fake_api.await_until(lambda: fake_api.calls("sendMessage"))
        call = await asyncio.to_thread(answered_call, fake_api, TOKEN, "sendMessage", 7, since)
        status_when_found = call.status
        await sending
    assert status_when_found == 200


@pytest.mark.asyncio
async def test_send_latency_makes_each_rounds_first_send_an_upload(fake_api, tmp_path):
    image = make_image(tmp_path / "orion.jpg")
    uploads, cached = await send_latency.measure_on(fake_api, 2, image, tmp_path)
    assert (len(uploads), len(cached)) == (2, 2)
    assert (len(fake_api.uploads()), len(fake_api.file_id_sends())) == (2, 2)


@pytest.mark.asyncio
async def test_a_herd_round_sends_the_image_given_once_to_every_user(fake_api, tmp_path):
    image = make_image(tmp_path / "big.jpg", size=(320, 200), colour=(200, 10, 10))
    async with herd.herd_bot(fake_api, 5) as bot:
        finished = await herd.one_round(bot, fake_api, 5, None, tmp_path, 0, image)
    close_database()
    assert len(finished) == 5 and finished == sorted(finished)
    (upload,) = fake_api.uploads()
    assert upload.file_bytes == image.read_bytes()
    assert len(fake_api.file_id_sends()) == 4
    answered = [call for call in fake_api.calls("sendPhoto") if call.status == 200]
    assert {call.params["chat_id"] for call in answered} == set(range(100, 105))


def test_a_generated_collection_is_titled_like_the_shipped_one_and_numbered(tmp_path):
    library = AssetLibrary(generate_collection(tmp_path / "assets", 90))
    assert library.scan() == 90
    first, last = library.metadata("cosmic/image-000000.jpg"), library.metadata(
        "cosmic/image-000089.jpg")
    assert first.title("en").endswith(" 0") and last.title("ru").endswith(" 89")
    assert first.title("ru") != first.title("en")
    second = library.metadata("cosmic/image-000001.jpg")
    assert second.title("en").removesuffix(" 1") != first.title("en").removesuffix(" 0")
    assert first.credit
    # Image 81 is titled like image 0: the shipped titles come round again.
    assert library.metadata("cosmic/image-000081.jpg").title("en") == (
        first.title("en").removesuffix(" 0") + " 81")
    assert len(search.find(library, first.title("ru").split()[0])) >= 2


def test_store_file_ids_caches_every_row_in_batches(db, monkeypatch, tmp_path):
    monkeypatch.setattr(databases, "BATCH_ROWS", 3)
    rows = [(f"cosmic/image-{n}.jpg", f"{n:064d}") for n in range(7)]
    databases.store_file_ids(rows, 42, "AgACfileid")
    stored = {(row.asset_key, row.fingerprint, row.bot_id, row.file_id)
              for row in ImageAsset.select()}
    assert stored == {(key, fingerprint, 42, "AgACfileid") for key, fingerprint in rows}


@pytest.mark.asyncio
async def test_a_stored_row_is_what_the_sender_finds_for_the_file(fake_api, tmp_path):
    root = generate_collection(tmp_path / "assets", 2)
    library = sender.setup(f"sqlite:///{tmp_path / 'bot.db'}", root)
    key = library.cosmic_keys[0]
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        databases.store_file_ids(databases.fingerprinted(library)[:1], bot.id, "AgAC")
        assert await sender.cached_file_id(bot, key) == "AgAC"
        assert await sender.cached_file_id(bot, library.cosmic_keys[1]) is None
    await sender.shutdown()


def test_emptied_postgres_drops_every_table(postgres_url):
    db = connect(postgres_url)
    db.execute_sql("CREATE TABLE leftover (id integer)")
    db.close()
    assert databases.emptied_postgres(postgres_url) == postgres_url
    db = connect(postgres_url)
    assert db.get_tables() == []
    db.close()


def test_the_bare_bot_answers_cosmic_with_its_photo_caption_and_button(api, tmp_path):
    photo = make_image(tmp_path / "orion.jpg").read_bytes()

    async def upload() -> str:
        async with Bot(OTHER_TOKEN, base_url=api.base_url) as bot:
            return (await bot.send_photo(500, photo)).photo[-1].file_id

    file_id = asyncio.run(upload())
    bare = BareBotProcess(api, file_id, "Orion\nby Ada", tmp_path).start()
    try:
        wait_for_held_poll(api, OTHER_TOKEN, timeout=30)
        since = time.monotonic()
        api.push_text(1001, "/cosmic", token=OTHER_TOKEN)
        call = answered_call(api, OTHER_TOKEN, "sendPhoto", 1001, since)
    finally:
        assert bare.stop() == 0, bare.output
    assert (call.status, call.params["photo"], call.params["caption"]) == (
        200, file_id, "Orion\nby Ada")
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "cosmic"


def test_a_cosmic_asked_while_an_image_is_on_its_way_waits_for_that_image():
    photos = [SimpleNamespace(status=200, params={"chat_id": 10}, timestamp=t)
              for t in (1.0, 2.1, 5.0)]
    api = SimpleNamespace(calls=lambda method: photos if method == "sendPhoto" else [])
    # Asked at 0.5 (answered at 1.0), at 0.9 (dropped: answered by the same photo), at 2.0
    # (2.1), at 4.0 (5.0), and at 6.0, never answered.
    asked = [(10, 0.5), (10, 0.9), (10, 2.0), (10, 4.0), (10, 6.0)]
    assert daily_round.reply_times(api, asked) == pytest.approx([0.5, 0.1, 0.1, 1.0])
    assert daily_round.reply_times(api, asked, (1.0, 4.5)) == pytest.approx([0.1, 1.0])
