"""The rate limiter against a fake Bot API that enforces Telegram's flood limits with 429s."""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import suppress

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from cosmobot.bot.app import build_application
from cosmobot.botapi import ratelimit
from cosmobot.botapi.ratelimit import BULK, LaneRateLimiter, bulk_options
from tests.botrunner import bot_settings
from tests.factories import TOKEN
from tests.fakebotapi import FloodLimits, Limit

pytestmark = pytest.mark.asyncio
GROUP = -100123


@pytest.fixture
def limits(fake_api):
    fake_api.flood_limits = FloodLimits()
    return fake_api.flood_limits


@pytest_asyncio.fixture
async def bot(fake_api):
    async with ExtBot(TOKEN, base_url=fake_api.base_url, rate_limiter=LaneRateLimiter(),
                      request=HTTPXRequest(connection_pool_size=64)) as bot:
        yield bot


def send(bot, chat_id, text="hi", **options):
    return bot.send_message(chat_id, text, **options)


async def test_a_burst_to_many_chats_stays_under_the_overall_limit(bot, fake_api, limits):
    chats = range(1, 91)  # three seconds' worth at 30 a second
    for chat in chats:
        fake_api.add_chat(chat)
    await asyncio.gather(*(send(bot, chat, rate_limit_args=BULK) for chat in chats))
    assert limits.refused == 0
    assert all(fake_api.sent_to(chat) for chat in chats)


async def test_without_pacing_the_fake_refuses_such_a_burst(fake_api, limits):
    async with Bot(TOKEN, base_url=fake_api.base_url,
                   request=HTTPXRequest(connection_pool_size=64)) as plain:
        await asyncio.gather(*(send(plain, chat) for chat in range(1, 91)),
                             return_exceptions=True)
    assert limits.refused > 0  # the check above would notice a limiter that does nothing


async def test_messages_to_one_private_chat_are_a_second_apart(bot, fake_api, limits):
    await asyncio.gather(*(send(bot, 7, f"message {n}") for n in range(4)))
    assert limits.refused == 0
    assert len(fake_api.sent_to(7)) == 4


async def test_messages_to_a_group_keep_to_its_own_limit(bot, fake_api, limits, monkeypatch):
    # Telegram's 20 a minute, scaled down so the test takes a second, not a minute.
    monkeypatch.setattr(ratelimit, "GROUP_CHAT_INTERVAL_SECONDS", 0.11)
    limits.group_chat = Limit(10, 1.0)
    fake_api.add_chat(GROUP)
    await asyncio.gather(*(send(bot, GROUP, f"message {n}") for n in range(14)))
    assert limits.refused == 0
    assert len(fake_api.sent_to(GROUP)) == 14


async def test_a_reply_goes_ahead_of_a_queued_bulk_round(bot, fake_api, limits):
    chats = range(1, 121)
    for chat in chats:
        fake_api.add_chat(chat)
    fake_api.add_chat(999)
    round_ = asyncio.gather(*(send(bot, chat, rate_limit_args=BULK) for chat in chats))
    await fake_api.await_until(lambda: len(fake_api.calls("sendMessage")) >= 10)
    queued_before = len(fake_api.calls("sendMessage"))
    await send(bot, 999, "your reply")
    await round_
    order = [call.params["chat_id"] for call in fake_api.calls("sendMessage")]
    # Only the bulk sends already given their slot may arrive between asking and the reply.
    assert order.index(999) <= queued_before + 3
    assert limits.refused == 0


async def test_a_429_makes_that_chat_wait_but_nobody_else(bot, fake_api, limits):
    fake_api.add_chat(2)
    fake_api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter):
        await send(bot, 1)
    assert len(fake_api.calls("sendMessage")) == 1, "the limiter itself never retries"
    later_to_the_same_chat = asyncio.create_task(send(bot, 1, "again"))
    await asyncio.sleep(1.5)  # past the chat's own one-second pace, well before its 3 s
    await send(bot, 2, "other chat")
    await later_to_the_same_chat
    order = [call.params["chat_id"] for call in fake_api.calls("sendMessage")]
    assert order == [1, 2, 1]


async def test_calls_that_are_no_messages_are_not_paced(bot, fake_api, limits):
    fake_api.add_chat(3)
    await asyncio.gather(*(bot.send_chat_action(3, "typing") for _ in range(5)))
    assert len(fake_api.calls("sendChatAction")) == 5 and limits.refused == 0


async def test_a_chat_action_takes_no_turn_from_the_message_after_it(bot, fake_api, monkeypatch):
    # "sending a photo..." goes out just before the upload: the photo must not wait for a turn
    # the action took. A long interval makes such a wait plain, whatever the machine's load.
    monkeypatch.setattr(ratelimit, "PRIVATE_CHAT_INTERVAL_SECONDS", 30.0)
    fake_api.add_chat(3)
    await bot.send_chat_action(3, "upload_photo")
    await asyncio.wait_for(send(bot, 3, "the photo"), timeout=10)
    assert [call.method for call in fake_api.calls()][-2:] == ["sendChatAction", "sendMessage"]


async def test_bulk_options_only_for_bots_with_a_rate_limiter(bot, fake_api):
    assert bulk_options(bot) == {"rate_limit_args": BULK}
    async with Bot(TOKEN, base_url=fake_api.base_url) as plain:
        assert bulk_options(plain) == {}


async def test_the_bot_is_built_with_this_limiter(tmp_path, fake_api):
    application = build_application(bot_settings(tmp_path, fake_api, tmp_path))
    assert isinstance(application.bot.rate_limiter, LaneRateLimiter)


def arrival_gaps(fake_api, chat_id):
    """Seconds between the messages to chat_id, by when the fake received them."""
    times = [call.timestamp for call in fake_api.calls("sendMessage")
             if str(call.params["chat_id"]) == str(chat_id)]
    return [later - earlier for earlier, later in zip(times, times[1:])]


async def cancel(task):
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


async def test_private_chats_get_one_a_second_and_groups_one_every_three(bot, fake_api, limits):
    fake_api.add_chat(GROUP)
    await asyncio.gather(*(send(bot, chat, f"message {n}")
                           for n in range(3) for chat in (7, GROUP)))
    private, group = arrival_gaps(fake_api, 7), arrival_gaps(fake_api, GROUP)
    assert len(private) == len(group) == 2
    # Telegram's own limits, whatever the limiter's constants say; arrivals may come a
    # little closer than departures, hence the margin below the limit.
    assert min(private) >= 0.9, private
    assert min(group) >= 2.9, group
    assert limits.refused == 0


async def test_pacing_holds_for_a_chat_past_the_remembered_chats(bot, fake_api, monkeypatch):
    monkeypatch.setattr(ratelimit, "REMEMBERED_CHATS", 3)
    await send(bot, 7, "first")
    await asyncio.gather(*(send(bot, chat) for chat in range(1, 6)))  # the memory overflows
    await send(bot, 7, "again")
    assert arrival_gaps(fake_api, 7)[0] >= 0.9


async def test_a_send_cancelled_while_waiting_gives_its_chats_turn_back(bot, fake_api,
                                                                        monkeypatch):
    monkeypatch.setattr(ratelimit, "PRIVATE_CHAT_INTERVAL_SECONDS", 2.0)
    await send(bot, 7, "first")
    waiting = asyncio.create_task(send(bot, 7, "never sent"))
    await asyncio.sleep(0.3)  # it waits for its turn, two seconds after the first
    await cancel(waiting)
    await send(bot, 7, "next")
    assert [call.params["text"] for call in fake_api.calls("sendMessage")] == ["first", "next"]
    # The next message took the cancelled one's turn, not the one after it (4 s).
    assert 1.9 <= arrival_gaps(fake_api, 7)[0] < 3.0


async def test_a_cancelled_turn_stays_spent_when_a_later_one_is_booked(bot, fake_api):
    await send(bot, 7, "first")
    cancelled = asyncio.create_task(send(bot, 7, "never sent"))
    await asyncio.sleep(0.1)  # booked its turn, a second after the first
    booked_after_it = asyncio.create_task(send(bot, 7, "third"))
    await asyncio.sleep(0.3)
    await cancel(cancelled)
    await send(bot, 7, "fourth")
    await booked_after_it
    texts = [call.params["text"] for call in fake_api.calls("sendMessage")]
    assert texts == ["first", "third", "fourth"]
    assert min(arrival_gaps(fake_api, 7)) >= 0.9


async def test_a_turn_given_back_still_waits_out_a_429_met_meanwhile():
    limiter, started = LaneRateLimiter(), time.monotonic()
    answer_a_with_429 = asyncio.Event()
    sent_at = []

    async def flooded():
        await answer_a_with_429.wait()
        raise RetryAfter(2)

    async def record():
        sent_at.append(time.monotonic() - started)
        return True

    def message(callback):
        return asyncio.create_task(
            limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": 7}, None))

    in_flight = message(flooded)  # on its way to Telegram, its answer not in yet
    message(record)  # booked a second later
    await asyncio.sleep(0)
    cancelled = message(record)  # booked two seconds later, past the 429's end (2.5 s)
    await asyncio.sleep(0.5)
    answer_a_with_429.set()
    with pytest.raises(RetryAfter):
        await in_flight
    await cancel(cancelled)
    await message(record)
    assert len(sent_at) == 2
    assert sent_at[-1] >= 2.4  # Telegram's wait, not the cancelled turn's start (2.05 s)


async def test_sends_cancelled_while_waiting_for_a_slot_leave_the_others_going():
    # Cancelled at many moments, some of them while slots are taken and waiters woken:
    # every cancelled send ends at once, and the limiter goes on pacing the next one.
    rounds = random.Random(4)
    for _ in range(12):
        limiter, sent = LaneRateLimiter(), []

        async def record(chat=None):
            sent.append(chat)
            return True

        def message(chat, lane=None):
            return asyncio.create_task(limiter.process_request(
                record, (), {"chat": chat}, "sendMessage", {"chat_id": chat}, lane))

        waiting = [message(chat, None if chat % 3 else BULK) for chat in range(1, 91)]
        await asyncio.sleep(rounds.uniform(0.02, 0.4))
        for task in waiting:
            task.cancel()
        done, pending = await asyncio.wait(waiting, timeout=2)
        assert not pending, f"{len(pending)} cancelled sends never ended"
        assert not [task.exception() for task in done
                    if not task.cancelled() and task.exception()]
        await asyncio.wait_for(message(1_000), timeout=2)
        assert sent[-1] == 1_000
