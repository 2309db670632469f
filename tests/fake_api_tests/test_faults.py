"""Failures the fake Bot API injects on request reach the bot as Telegram's would."""

import asyncio
import contextlib
import time

import pytest
from telegram.error import Conflict, NetworkError, RetryAfter

from tests.fake_api_tests.client import error_body, make_bot, png, raw

pytestmark = pytest.mark.timeout(30)


# ---- failure injection --------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_is_429_with_retry_after(fake_api):
    fake_api.fail_next("sendMessage", status=429, retry_after=7)
    response = await raw(fake_api, "sendMessage", data={"chat_id": "1", "text": "hi"})
    assert response.status_code == 429
    assert response.json() == {**error_body(429, "Too Many Requests: retry after 7"),
                               "parameters": {"retry_after": 7}}
    fake_api.fail_next("sendMessage", status=429, retry_after=7)
    async with make_bot(fake_api) as bot:
        with pytest.raises(RetryAfter, match="7"):
            await bot.send_message(1, "hi")
        assert (await bot.send_message(1, "hi")).text == "hi"


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "description"), [
    (500, "Internal Server Error"), (502, "Bad Gateway"),
])
async def test_server_errors_become_network_errors(fake_api, status, description):
    fake_api.fail_next("sendPhoto", status=status, description=description, times=2)
    response = await raw(fake_api, "sendPhoto", data={"chat_id": "1", "photo": "x"})
    assert response.status_code == status
    assert response.json() == error_body(status, description)
    async with make_bot(fake_api) as bot:
        with pytest.raises(NetworkError) as caught:
            await bot.send_photo(1, png(20, 20))
        assert type(caught.value) is NetworkError and description in str(caught.value)
        assert (await bot.send_photo(1, png(20, 20))).photo
    assert [c.status for c in fake_api.calls("sendPhoto")] == [status, status, 200]


@pytest.mark.asyncio
async def test_dropped_connection_is_a_network_error(fake_api):
    fake_api.drop_next("sendMessage")
    async with make_bot(fake_api) as bot:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(1, "lost")
        assert type(caught.value) is NetworkError
        assert (await bot.send_message(1, "kept")).text == "kept"
    assert [c.status for c in fake_api.calls("sendMessage")] == [None, 200]
    assert [m["text"] for m in fake_api.sent_to(1)] == ["kept"]


@pytest.mark.asyncio
async def test_conflict_flag_makes_get_updates_409(fake_api):
    fake_api.conflict = True
    response = await raw(fake_api, "getUpdates")
    assert response.status_code == 409
    assert response.json() == error_body(409, (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"))
    async with make_bot(fake_api) as bot:
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        fake_api.conflict = False
        assert await bot.get_updates(timeout=0) == ()


@pytest.mark.asyncio
async def test_upload_bandwidth_and_latency_delay_responses(fake_api):
    data = png(300, 300, noise=True)
    fake_api.upload_bandwidth = len(data) / 0.4
    async with make_bot(fake_api) as bot:
        started = time.monotonic()
        file_id = (await bot.send_photo(1, data)).photo[-1].file_id
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        await bot.send_photo(1, file_id)
        assert time.monotonic() - started < 0.3
        fake_api.latency = 0.3
        started = time.monotonic()
        await bot.send_message(1, "slow")
        assert time.monotonic() - started >= 0.3


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_the_round_trip_is_half_on_the_way_there_and_half_on_the_way_back(fake_api):
    fake_api.latency = 0.4
    fake_api.fail_next("sendMessage", status=429, retry_after=3)
    async with make_bot(fake_api) as bot:
        for text in ("refused", "sent"):
            sent = time.monotonic()
            with contextlib.suppress(RetryAfter):
                await bot.send_message(1, text)
            answered = time.monotonic()
            call = fake_api.calls("sendMessage")[-1]
            assert call.timestamp - sent >= 0.2  # recorded as it arrives
            assert answered - call.timestamp >= 0.2 and answered - sent >= 0.4
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        await fake_api.await_until(lambda: fake_api.calls("getUpdates"))  # held as it arrives
        pushed = time.monotonic()
        fake_api.push_text(1, "onto the held poll")
        (update,) = await poll
        assert time.monotonic() - pushed >= 0.2  # the answer still travels to the bot
    assert update.message.text == "onto the held poll"
    assert [call.status for call in fake_api.calls("sendMessage")] == [429, 200]


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_chat_rate_limit_answers_429_per_chat(fake_api):
    fake_api.chat_rate_limit = 0.5  # one message every 2 s
    async with make_bot(fake_api) as bot:
        await bot.send_message(1, "first")
        await bot.send_message(2, "another chat is not limited")
        await bot.send_chat_action(1, "typing")  # not a message: not limited
        with pytest.raises(RetryAfter, match="Retry in 2 seconds"):
            await bot.send_photo(1, png(20, 20))
    response = await raw(fake_api, "sendMessage", data={"chat_id": "1", "text": "hi"})
    assert response.status_code == 429
    assert response.json() == {**error_body(429, "Too Many Requests: retry after 2"),
                               "parameters": {"retry_after": 2}}
    assert [m["text"] for m in fake_api.sent_to(1)] == ["first"]
    fake_api.chat_rate_limit = None
    response = await raw(fake_api, "sendMessage", data={"chat_id": "1", "text": "hi"})
    assert response.status_code == 200
