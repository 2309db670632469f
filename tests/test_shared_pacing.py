"""Pacing shared by several processes of one bot: limiters on connections of their own, one
database, and a fake Bot API that enforces Telegram's limits per bot with 429s."""

from __future__ import annotations

import asyncio
import time
from contextlib import AsyncExitStack, suppress

import pytest
import pytest_asyncio
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from cosmobot.botapi import ratelimit, sharedturns
from cosmobot.botapi.ratelimit import BULK, LaneRateLimiter, build_rate_limiter
from cosmobot.storage import pacing
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import PacingSlot
from cosmobot.storage.pacing import SharedPacing
from tests.dblocks import file_or_postgres_url, query_one
from tests.factories import TOKEN
from tests.fakebotapi import FloodLimits

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]
BOT_ID = int(TOKEN.split(":")[0])
WORKERS = 3


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path):
    url = file_or_postgres_url(request, tmp_path)
    open_database(url)
    apply_migrations()
    close_database()  # each limiter below talks to the database over its own connection
    return url


@pytest.fixture
def limits(fake_api):
    fake_api.flood_limits = FloodLimits()
    return fake_api.flood_limits


def worker_bot(fake_api, limiter) -> ExtBot:
    return ExtBot(TOKEN, base_url=fake_api.base_url, rate_limiter=limiter,
                  request=HTTPXRequest(connection_pool_size=64))


@pytest_asyncio.fixture
async def workers(url, fake_api):
    """The bots of three webhook workers, each pacing over a connection of its own."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(
            worker_bot(fake_api, build_rate_limiter(shared=True, database_url=url,
                                                    bot_id=BOT_ID)))
               for _ in range(WORKERS)]


def send(bot, chat_id, text="hi", **options):
    return bot.send_message(chat_id, text, **options)


def arrivals(fake_api, chat_id=None) -> list[float]:
    return [call.timestamp for call in fake_api.calls("sendMessage")
            if chat_id is None or call.params["chat_id"] == chat_id]


def gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in zip(times, times[1:])]


async def test_workers_answering_one_chat_keep_to_its_one_a_second(workers, fake_api, limits):
    await asyncio.gather(*(send(bot, 7, f"from {n}") for n, bot in enumerate(workers * 2)))
    assert limits.refused == 0
    assert len(fake_api.sent_to(7)) == 2 * WORKERS
    assert min(gaps(arrivals(fake_api, 7))) >= 0.9  # by when the fake received them


async def test_workers_pacing_alone_break_the_chats_limit(fake_api, limits):
    async with AsyncExitStack() as stack:
        alone = [await stack.enter_async_context(worker_bot(fake_api, build_rate_limiter()))
                 for _ in range(WORKERS)]
        await asyncio.gather(*(send(bot, 7) for bot in alone), return_exceptions=True)
    assert limits.refused > 0  # the test above would notice a backend that shares nothing


async def test_workers_together_keep_to_thirty_a_second(workers, fake_api, limits):
    chats = range(1, 121)  # four seconds' worth at 30 a second, from three workers at once
    for chat in chats:
        fake_api.add_chat(chat)
    await asyncio.gather(*(send(workers[chat % WORKERS], chat, rate_limit_args=BULK)
                           for chat in chats))
    assert limits.refused == 0
    assert all(fake_api.sent_to(chat) for chat in chats)
    times = sorted(arrivals(fake_api))
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 30


async def test_a_reply_from_one_worker_goes_ahead_of_anothers_bulk_sends(workers, fake_api,
                                                                         limits):
    chats = range(1, 121)
    for chat in chats:
        fake_api.add_chat(chat)
    round_ = asyncio.gather(*(send(workers[0], chat, rate_limit_args=BULK) for chat in chats))
    await fake_api.await_until(lambda: len(fake_api.calls("sendMessage")) >= 10)
    queued_before = len(fake_api.calls("sendMessage"))
    await send(workers[1], 999, "your reply")
    assert len(fake_api.calls("sendMessage")) < len(chats) // 2, "the round was not queued"
    await round_
    order = [call.params["chat_id"] for call in fake_api.calls("sendMessage")]
    # Bulk sends book the overall slot at most a moment ahead: only a few go in between.
    assert order.index(999) <= queued_before + 6
    assert limits.refused == 0


async def test_a_429_met_by_one_worker_holds_the_chat_for_all(workers, fake_api, limits):
    fake_api.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter):
        await send(workers[0], 1)
    await send(workers[1], 1, "again")
    times = arrivals(fake_api, 1)
    assert len(times) == 2 and times[1] - times[0] >= 2.9


async def test_a_cancelled_send_gives_the_chats_moment_back(workers, fake_api, monkeypatch):
    monkeypatch.setattr(ratelimit, "PRIVATE_CHAT_INTERVAL_SECONDS", 2.0)
    await send(workers[0], 7, "first")
    waiting = asyncio.create_task(send(workers[1], 7, "never sent"))
    await asyncio.sleep(0.3)  # it waits for its moment, two seconds after the first
    waiting.cancel()
    with suppress(asyncio.CancelledError):
        await waiting
    await send(workers[2], 7, "next")
    assert [call.params["text"] for call in fake_api.calls("sendMessage")] == ["first", "next"]
    assert 1.9 <= gaps(arrivals(fake_api, 7))[0] < 3.0  # its moment, not the one after (4 s)


async def test_without_the_database_a_worker_paces_alone(fake_api, limits, tmp_path):
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'bot.db'}"
    limiter = LaneRateLimiter(shared=SharedPacing(unreachable, BOT_ID))
    async with worker_bot(fake_api, limiter) as bot:
        await asyncio.gather(*(send(bot, 7, f"message {n}") for n in range(3)))
    assert limits.refused == 0 and len(fake_api.sent_to(7)) == 3
    assert min(gaps(arrivals(fake_api, 7))) >= 0.9


async def test_slots_free_for_an_hour_are_dropped(workers, url, fake_api, monkeypatch):
    await send(workers[0], 7)
    stale = pacing.wall_seconds() - pacing.STALE_SECONDS - 1
    open_database(url)
    try:
        PacingSlot.insert(bot_id=BOT_ID, key="chat:8", next_at=stale).execute()
    finally:
        close_database()
    monkeypatch.setattr(pacing, "PRUNE_EVERY_SECONDS", 0.0)
    await send(workers[1], 9)
    slots = {row[0] for row in [query_one(url, "SELECT key FROM pacing_slots WHERE key = %s",
                                          (key,)) for key in ("chat:7", "chat:8")] if row}
    assert slots == {"chat:7"}


async def test_shared_pacing_needs_the_database_and_the_bots_id():
    with pytest.raises(ValueError):
        build_rate_limiter(shared=True)
    in_memory = build_rate_limiter(shared=True, database_url="sqlite:///:memory:", bot_id=1)
    assert in_memory._shared is None  # no other process can share an in-memory database


async def test_a_message_woken_late_books_again_rather_than_crowd_the_next(url, fake_api,
                                                                           monkeypatch):
    interval = 0.1  # the overall pace, slowed down so that the gaps show
    sleep_until, sleeps = sharedturns._sleep_until, []

    async def stalling_once(moment: float) -> None:
        await sleep_until(moment)
        sleeps.append(moment)
        if len(sleeps) == 8:
            time.sleep(0.35)  # the event loop is held up: moments booked meanwhile pass

    monkeypatch.setattr(sharedturns, "_sleep_until", stalling_once)
    async with AsyncExitStack() as stack:
        bots = [await stack.enter_async_context(worker_bot(fake_api, LaneRateLimiter(
            interval, shared=SharedPacing(url, BOT_ID)))) for _ in range(2)]
        await asyncio.gather(*(send(bots[chat % 2], chat) for chat in range(1, 13)))
    assert len(sleeps) >= 8
    times = sorted(arrivals(fake_api))
    # Late messages book again, behind the others, instead of going out all at once.
    assert min(gaps(times)) >= interval / 2, gaps(times)
