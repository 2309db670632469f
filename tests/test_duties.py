"""The leader's duties, taken and given back by a running Application against the fake API."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import pytest_asyncio

from cosmobot.bot import app, duties
from cosmobot.schedule import daily, jobs
from cosmobot.schedule.subscriptions import subscribe
from cosmobot.storage.models import Subscription
from tests.botrunner import bot_settings
from tests.factories import BOT_ID, make_assets

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

CACHE_CHAT = 4242
SUBSCRIBERS = 60
EVERY_PROCESS_JOBS = {jobs.RESCAN_JOB, jobs.COUNTS_JOB}
# The leader's jobs that repeat (the menu and the warm-up run once, at once).
LEADER_REPEATING = {jobs.DAILY_JOB, jobs.PRUNE_JOB}


@pytest_asyncio.fixture
async def application(tmp_path, fake_api, memory_db, monkeypatch):
    """The bot's Application, started as on any process, leading nothing yet."""
    monkeypatch.setattr(jobs, "DAILY_FIRST_SECONDS", 0.1)
    fake_api.add_chat(CACHE_CHAT)
    settings = dataclasses.replace(
        bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets")),
        database_url="sqlite:///:memory:", cache_chat_id=CACHE_CHAT)
    application = app.build_application(settings)
    await application.initialize()
    await app.post_init(application)
    await application.start()
    yield application
    if application.bot_data.get(jobs.LEADING):
        await duties.give_up_duties(application)
    await application.stop()
    await application.shutdown()


def job_names(application) -> set[str]:
    return {job.name for job in application.job_queue.jobs() if not job.removed}


async def test_a_standby_runs_only_what_every_process_runs(application):
    assert job_names(application) == EVERY_PROCESS_JOBS
    assert not application.updater.running and jobs.WARMER not in application.bot_data


async def test_duties_are_taken_and_given_back_polling_first(application, fake_api, monkeypatch):
    await duties.take_duties(application)
    assert application.updater.running and application.bot_data[jobs.LEADING]
    assert job_names(application) >= EVERY_PROCESS_JOBS | LEADER_REPEATING
    await fake_api.await_until(lambda: fake_api.calls("getUpdates") and fake_api.commands())
    order = []
    monkeypatch.setattr(daily, "wait_for_round", spy(order, "round", daily.wait_for_round))
    warmer = application.bot_data[jobs.WARMER]
    monkeypatch.setattr(warmer, "stop", spy(order, "warm-up", warmer.stop))
    updater = application.updater
    monkeypatch.setattr(updater, "stop", spy(order, "polling", updater.stop))
    await duties.give_up_duties(application)
    assert order == ["polling", "round", "warm-up"]
    assert not application.updater.running and not application.bot_data[jobs.LEADING]
    assert job_names(application) == EVERY_PROCESS_JOBS
    assert jobs.WARMER not in application.bot_data
    polls = len(fake_api.calls("getUpdates"))
    await duties.take_duties(application)  # and taken again, as after standing by
    await fake_api.await_until(lambda: len(fake_api.calls("getUpdates")) > polls)
    assert job_names(application) >= EVERY_PROCESS_JOBS | LEADER_REPEATING


def spy(order: list[str], name: str, call):
    async def noted(*args, **kwargs):
        order.append(name)
        return await call(*args, **kwargs)
    return noted


async def test_giving_the_duties_back_mid_round_records_the_sends_in_flight(
        application, fake_api):
    application.bot_data["settings"] = dataclasses.replace(
        application.bot_data["settings"], cache_chat_id=None)
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    for chat_id in range(1, SUBSCRIBERS + 1):
        subscribe(BOT_ID, chat_id, "private", "en", start.time(), "UTC",
                  start - dt.timedelta(days=1))
    fake_api.latency = 0.3  # sends stay in flight a while
    await duties.take_duties(application)
    await fake_api.await_until(lambda: len(fake_api.calls("sendPhoto")) >= 10)
    await duties.give_up_duties(application)
    sends = fake_api.calls("sendPhoto")
    assert all(call.status == 200 for call in sends)  # none was cut off
    assert len(sends) < SUBSCRIBERS  # the round took no new chat once it had to stop
    assert not Subscription.in_flight(BOT_ID).exists()  # and recorded every one in flight
    delivered = Subscription.select().where(Subscription.delivered_on.is_null(False)).count()
    assert delivered == len(sends)
