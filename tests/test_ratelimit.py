"""The rate limiter against a fake Bot API that enforces Telegram's flood limits with 429s."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from cosmobot.bot import ratelimit
from cosmobot.bot.app import build_application
from cosmobot.bot.ratelimit import BULK, LaneRateLimiter, bulk_options
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


async def test_bulk_options_only_for_bots_with_a_rate_limiter(bot, fake_api):
    assert bulk_options(bot) == {"rate_limit_args": BULK}
    async with Bot(TOKEN, base_url=fake_api.base_url) as plain:
        assert bulk_options(plain) == {}


async def test_the_bot_is_built_with_this_limiter(tmp_path, fake_api):
    application = build_application(bot_settings(tmp_path, fake_api, tmp_path))
    assert isinstance(application.bot.rate_limiter, LaneRateLimiter)
