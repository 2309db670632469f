"""The bot's background warm-up: its lane, passes while images come, and how it stops."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from cosmobot.bot.app import build_application
from cosmobot.bot.lifecycle import Life
from cosmobot.botapi.ratelimit import BULK, LaneRateLimiter
from cosmobot.schedule import jobs
from cosmobot.schedule.warm import BackgroundWarmer
from tests.botrunner import bot_settings, photos
from tests.factories import TOKEN, make_image

CACHE_CHAT = 4242  # a private chat: paced one a second, not one every three


class LaneRecorder(LaneRateLimiter):
    """The bot's limiter, noting the lane each message asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes: list[tuple[str, dict | None]] = []

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        self.lanes.append((endpoint, rate_limit_args))
        return await super().process_request(callback, args, kwargs, endpoint, data,
                                             rate_limit_args)


@pytest_asyncio.fixture
async def bot(fake_api):
    fake_api.add_chat(CACHE_CHAT)
    async with ExtBot(TOKEN, base_url=fake_api.base_url, rate_limiter=LaneRecorder(),
                      request=HTTPXRequest(connection_pool_size=8)) as bot:
        yield bot


@pytest.mark.asyncio
async def test_the_warm_up_sends_in_the_bulk_lane(memory_db, library, bot, fake_api):
    warmer = BackgroundWarmer(CACHE_CHAT)
    warmer.start(bot)
    await fake_api.await_until(lambda: len(photos(fake_api, CACHE_CHAT)) == 2)
    await warmer.stop()
    lanes = [lane for endpoint, lane in bot.rate_limiter.lanes if endpoint == "sendPhoto"]
    assert lanes == [BULK, BULK]


@pytest.mark.asyncio
async def test_images_added_during_a_pass_are_warmed_too(memory_db, library, bot, fake_api):
    fake_api.upload_bandwidth = 1_000  # bytes/s: the pass is still on its first image
    warmer = BackgroundWarmer(CACHE_CHAT)
    warmer.start(bot)
    await fake_api.await_until(lambda: fake_api.uploads())
    make_image(library.cosmic_dir / "m42.jpg")
    assert library.rescan_if_changed()
    warmer.start(bot)  # what the rescan job does; this pass listed the images before m42
    await fake_api.await_until(lambda: len(photos(fake_api, CACHE_CHAT)) == 3, timeout=30)
    await warmer.stop()
    uploaded = sorted(call.filename for call in fake_api.uploads())
    assert uploaded == ["andromeda.png", "m42.jpg", "orion.jpg"]


@pytest.mark.asyncio
async def test_a_stopped_warmer_starts_no_new_pass(memory_db, library, bot, fake_api, log_lines):
    warmer = BackgroundWarmer(CACHE_CHAT)
    await warmer.stop()
    warmer.start(bot)  # a rescan job that finished after the bot began to stop
    await asyncio.sleep(0.5)
    assert not fake_api.calls("sendPhoto")
    assert not [line for line in log_lines if "warm-up" in line]


def test_a_run_ended_by_a_revoked_token_stops_the_warm_up_before_closing(
    tmp_path, fake_api, memory_db
):
    application = build_application(bot_settings(tmp_path, fake_api, tmp_path))
    could_reach_telegram = []

    class Warmer:
        async def stop(self, timeout: float = 0) -> None:
            try:
                could_reach_telegram.append(bool(await application.bot.get_me()))
            except Exception:  # the bot's connections are closed
                could_reach_telegram.append(False)

    application.bot_data[jobs.WARMER] = Warmer()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(application.initialize())
        loop.run_until_complete(application.start())
        loop.run_until_complete(Life(application).stop())  # what ends every run
    finally:
        loop.close()
    assert could_reach_telegram[0] is True
