"""Many users asking for the same new image at once: one upload, then everyone at their pace."""

from __future__ import annotations

import asyncio
import gc
import time
import traceback
import types

import pytest
import pytest_asyncio
from telegram import Bot, Message
from telegram.error import Forbidden
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest

from cosmobot import filehash, sender
from cosmobot.botapi import photosend
from cosmobot.botapi.retry import MAX_ATTEMPTS
from cosmobot.images import files
from cosmobot.storage import filecache
from cosmobot.storage.models import ImageAsset
from tests.factories import TOKEN

pytestmark = pytest.mark.asyncio
KEY = "cosmic/orion.jpg"
CHATS = range(5001, 5011)


class CountingRequest(HTTPXRequest):
    """Counts the sendPhoto requests in flight at once, as they leave the bot."""

    def __init__(self, connections: int = 32) -> None:
        super().__init__(connection_pool_size=connections)
        self.in_flight = self.most_in_flight = 0

    async def do_request(self, url, method, *args, **kwargs):
        counted = url.endswith("/sendPhoto")
        self.in_flight += counted
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await super().do_request(url, method, *args, **kwargs)
        finally:
            self.in_flight -= counted


@pytest.fixture
def request_counter():
    return CountingRequest()


@pytest_asyncio.fixture
async def bot(fake_api, request_counter):
    async with Bot(TOKEN, base_url=fake_api.base_url, request=request_counter) as bot:
        yield bot


async def herd(bot, chats=CHATS):
    return await asyncio.gather(
        *(sender.send_image(bot, chat, KEY) for chat in chats), return_exceptions=True
    )


async def test_waiters_send_by_file_id_at_the_same_time(memory_db, library, bot, fake_api,
                                                        request_counter):
    fake_api.latency = 0.3
    messages = await herd(bot)
    assert all(message is not None and not isinstance(message, Exception)
               for message in messages)
    assert (len(fake_api.uploads()), len(fake_api.file_id_sends())) == (1, len(CHATS) - 1)
    # Sent one by one under the image's lock, there would never be two in flight.
    assert request_counter.most_in_flight >= len(CHATS) // 2


async def test_a_flood_limited_waiter_holds_up_nobody_else(memory_db, library, bot, fake_api):
    fake_api.latency = 0.3
    upload = asyncio.create_task(sender.send_image(bot, CHATS[0], KEY))
    await fake_api.await_until(fake_api.uploads)
    waiters = asyncio.create_task(herd(bot, CHATS[1:]))  # they queue behind the upload
    await fake_api.await_until(lambda: fake_api.uploads()[0].status)
    # The first send by file_id reaches the fake 0.3 s later; that chat is over its limit.
    fake_api.fail_next("sendPhoto", status=429, retry_after=2)
    assert all(message is not None for message in await waiters)
    await upload
    sends = fake_api.file_id_sends()
    flooded = next(call.params["chat_id"] for call in sends if call.status == 429)
    delivered = [call.params["chat_id"] for call in sends if call.status == 200]
    assert delivered[-1] == flooded, "the others went out while the flooded chat waited"


async def test_a_flood_limited_uploader_lets_another_upload_meanwhile(
    memory_db, library, bot, fake_api
):
    fake_api.fail_next("sendPhoto", status=429, retry_after=2)
    messages = await herd(bot)
    assert all(message is not None and not isinstance(message, Exception)
               for message in messages)
    flooded, uploaded = fake_api.uploads()
    assert (flooded.status, uploaded.status) == (429, 200)
    assert uploaded.params["chat_id"] != flooded.params["chat_id"], "the next in line uploads"
    # The flooded user comes last, by the file_id the next in line got.
    last = fake_api.calls("sendPhoto")[-1]
    assert last.params["chat_id"] == flooded.params["chat_id"]
    assert last.params["photo"] == messages[0].photo[-1].file_id


async def test_a_blocked_uploader_still_leaves_the_image_to_the_others(
    memory_db, library, bot, fake_api
):
    fake_api.block(CHATS[0])
    fake_api.latency = 0.3  # the blocked user's upload is the first in line
    first = asyncio.create_task(sender.send_image(bot, CHATS[0], KEY))
    await fake_api.await_until(fake_api.uploads)
    others = await herd(bot, CHATS[1:])
    with pytest.raises(Forbidden):
        await first
    assert all(message is not None and not isinstance(message, Exception) for message in others)
    successful = [call for call in fake_api.uploads() if call.status == 200]
    assert fake_api.uploads()[0].params["chat_id"] == CHATS[0]
    assert len(successful) == 1
    assert len(fake_api.file_id_sends()) == len(CHATS) - 2


async def test_a_failed_shared_upload_is_one_short_error_per_waiter(memory_db, library, bot,
                                                                    fake_api):
    fake_api.fail_next("sendPhoto", status=502, times=MAX_ATTEMPTS)
    results = await herd(bot, range(6001, 6101))
    uploader_errors = [r for r in results if not isinstance(r, sender.SharedUploadFailed)]
    waiter_errors = [r for r in results if isinstance(r, sender.SharedUploadFailed)]
    assert len(uploader_errors) == 1 and len(waiter_errors) == 99
    # Each waiter gets an exception of its own: a shared one would grow a traceback frame
    # per waiter that re-raised it.
    assert len({id(error) for error in waiter_errors}) == 99
    assert all(len(traceback.extract_tb(e.__traceback__)) < 10 for e in waiter_errors)
    assert "Bad Gateway" in str(waiter_errors[0])


async def test_a_remembered_upload_failure_keeps_no_frames_alive(memory_db, library, bot,
                                                                 fake_api):
    fake_api.fail_next("sendPhoto", status=502, times=MAX_ATTEMPTS)
    await herd(bot, range(2))
    gc.collect()
    kept = gc.get_referents(*sender._upload_failures.values())
    assert sender._upload_failures, "the failure is remembered for those waiting"
    assert not any(isinstance(item, (BaseException, types.TracebackType, types.FrameType))
                   for item in kept)


async def test_the_file_id_reaches_the_database_after_the_herd(memory_db, library, bot,
                                                               fake_api):
    messages = await herd(bot)
    await filecache.settle()
    assert ImageAsset.lookup(bot.id, KEY).file_id == messages[0].photo[-1].file_id


class Unpaced(BaseRateLimiter):
    """A rate limiter that lets every request through at once."""

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        return await callback(*args, **kwargs)


async def test_only_the_uploader_shows_sending_a_photo(memory_db, library, bot, fake_api,
                                                       monkeypatch):
    monkeypatch.setattr(sender, "WAITER_ACTION_DELAY_SECONDS", 3.0)  # far beyond this herd
    fake_api.latency = 0.05
    await herd(bot)
    await asyncio.sleep(0.3)  # a waiter's chat action would have arrived by now
    actions = fake_api.calls("sendChatAction")
    uploader = fake_api.uploads()[0].params["chat_id"]
    assert [call.params["chat_id"] for call in actions] == [uploader]


async def test_a_waiter_shows_the_action_only_after_a_moment(memory_db, library, bot, fake_api):
    fake_api.latency = 0.3
    started = time.monotonic()
    await herd(bot)
    uploader = fake_api.uploads()[0].params["chat_id"]
    waiters = [call for call in fake_api.calls("sendChatAction")
               if call.params["chat_id"] != uploader]
    # The moment is a second. A busy host may keep a waiter waiting past it; never is the
    # action shown to one before it.
    assert all(call.timestamp - started >= 1.0 for call in waiters)


async def test_a_user_still_waiting_after_a_moment_sees_sending_a_photo(
    memory_db, library, bot, fake_api, monkeypatch
):
    monkeypatch.setattr(sender, "WAITER_ACTION_DELAY_SECONDS", 0.1)
    fake_api.latency = 0.5  # the upload keeps everyone else waiting for longer than that
    await herd(bot)
    actions = await fake_api.await_until(
        lambda: len(fake_api.calls("sendChatAction")) >= len(CHATS)
        and fake_api.calls("sendChatAction"))
    assert sorted(call.params["chat_id"] for call in actions) == list(CHATS)  # one each


async def test_no_user_sees_sending_a_photo_after_the_photo(memory_db, library, bot, fake_api,
                                                            monkeypatch):
    monkeypatch.setattr(sender, "WAITER_ACTION_DELAY_SECONDS", 0.2)
    fake_api.latency = 0.05
    await herd(bot)
    await asyncio.sleep(0.4)  # past the moment: a waiter's forgotten chat action goes now
    delivered = {call.params["chat_id"]: call.timestamp for call in fake_api.calls("sendPhoto")}
    assert all(action.timestamp < delivered[action.params["chat_id"]]
               for action in fake_api.calls("sendChatAction"))


async def test_a_waiter_that_uploads_after_all_shows_the_action_once(memory_db, library, bot,
                                                                     fake_api, monkeypatch):
    monkeypatch.setattr(sender, "WAITER_ACTION_DELAY_SECONDS", 0.05)
    fake_api.latency = 0.2
    fake_api.fail_next("sendPhoto", status=429, retry_after=1)  # the first upload
    await herd(bot, CHATS[:3])
    flooded, uploaded = fake_api.uploads()
    assert flooded.params["chat_id"] != uploaded.params["chat_id"]  # a waiter uploaded
    await asyncio.sleep(0.3)
    chats = [call.params["chat_id"] for call in fake_api.calls("sendChatAction")]
    assert uploaded.params["chat_id"] in chats and len(chats) == len(set(chats))


async def test_a_send_given_up_on_leaves_the_hash_to_the_others(library, monkeypatch):
    real_sha256 = files.sha256
    monkeypatch.setattr(files, "sha256", lambda path: time.sleep(0.3) or real_sha256(path))
    path = library.resolve(KEY)
    first = asyncio.create_task(filehash.fingerprint(library, path))
    second = asyncio.create_task(filehash.fingerprint(library, path))
    await asyncio.sleep(0.1)  # both wait for the one hash
    first.cancel()
    assert await second == real_sha256(path)


async def test_the_herd_hashes_the_file_and_reads_its_row_once(memory_db, library, bot, fake_api,
                                                               monkeypatch):
    hashed, read = [], []
    real_sha256, real_read = files.sha256, filecache.read_in_db_thread
    # As slow as a large file: the herd asks while the hash is being read.
    monkeypatch.setattr(files, "sha256",
                        lambda path: hashed.append(path) or time.sleep(0.2) or real_sha256(path))
    monkeypatch.setattr(filecache, "read_in_db_thread",
                        lambda *call: read.append(call) or real_read(*call))
    messages = await herd(bot, range(7001, 7051))
    assert all(isinstance(message, Message) for message in messages)
    assert len(hashed) == 1 and len(read) == 1


async def test_a_bot_without_pacing_has_a_few_sends_in_flight_at_once(memory_db, library, bot,
                                                                      fake_api, request_counter):
    await sender.send_image(bot, 7000, KEY)
    fake_api.latency = 0.2
    messages = await herd(bot, range(7001, 7051))
    assert all(isinstance(message, Message) for message in messages)
    assert request_counter.most_in_flight == photosend.SENDS_IN_FLIGHT


async def test_a_bot_with_a_rate_limiter_is_left_to_it(memory_db, library, fake_api):
    request = CountingRequest(connections=64)
    async with ExtBot(TOKEN, base_url=fake_api.base_url, request=request,
                      rate_limiter=Unpaced()) as paced:
        await sender.send_image(paced, 7000, KEY)
        fake_api.latency = 0.2
        messages = await herd(paced, range(7001, 7041))
    assert all(isinstance(message, Message) for message in messages)
    assert request.most_in_flight > photosend.SENDS_IN_FLIGHT


async def test_a_waiter_whose_chat_blocked_the_bot_fails_alone(memory_db, library, bot,
                                                               fake_api):
    fake_api.latency = 0.05
    fake_api.block(CHATS[4])
    results = await herd(bot)
    assert isinstance(results[4], Forbidden)
    assert all(isinstance(result, Message)
               for index, result in enumerate(results) if index != 4)
