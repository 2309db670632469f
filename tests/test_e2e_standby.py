"""End to end on PostgreSQL: a bot that loses its leader lock stands by, then leads again."""

from __future__ import annotations

import dataclasses
import time

import psycopg2
import pytest

from cosmobot.schedule import jobs
from cosmobot.storage.leadersession import LEADER_CLASS
from tests.botrunner import BotThread, bot_settings, texts
from tests.factories import TOKEN, make_assets
from tests.pgcluster import LEADER_LOCK_HOLDERS

pytestmark = pytest.mark.timeout(90)

ALICE = 1001
BOT_ID = int(TOKEN.split(":")[0])
LOCK = (LEADER_CLASS, BOT_ID)
LEADER_PID = LEADER_LOCK_HOLDERS


def take_the_lock_from_the_bot(url: str):
    """End the bot's lock session and hold the lock on a connection of the test's own."""
    holder = psycopg2.connect(url)
    holder.autocommit = True
    with holder.cursor() as cursor:
        cursor.execute(LEADER_PID, LOCK)
        [(pid,)] = cursor.fetchall()
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the lock is free once that backend has ended
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK)
            if cursor.fetchone()[0]:
                return holder
            time.sleep(0.01)
    raise AssertionError("the bot's lock was never free")


def test_a_leader_that_loses_its_session_stops_polling_stands_by_and_leads_again(
        tmp_path, fake_api, postgres_url, log_lines):
    settings = dataclasses.replace(
        bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets")),
        database_url=postgres_url)
    with BotThread(settings, fake_api) as bot:
        holder = take_the_lock_from_the_bot(postgres_url)
        try:
            fake_api.wait_until(lambda: any("Standing by" in line for line in log_lines))
            polls = len(fake_api.calls("getUpdates"))
            fake_api.push_text(ALICE, "/help")
            time.sleep(2)  # nobody polls meanwhile: the update waits at Telegram
            assert not texts(fake_api, ALICE)
            assert len(fake_api.calls("getUpdates")) == polls
            assert not bot.application.job_queue.get_jobs_by_name(jobs.DAILY_JOB)
            assert bot.application.running  # the process stays up
        finally:
            holder.close()  # ends that session: the lock is free
        fake_api.wait_until(lambda: texts(fake_api, ALICE), timeout=10)
        assert bot.application.job_queue.get_jobs_by_name(jobs.DAILY_JOB)
    assert events(log_lines) == [
        "leads bot", "Polling Telegram",
        "no longer leads", "Stopped polling", "Gave up", "Standing by",
        "Taking over", "Polling Telegram",
        "Stopped polling",  # the test ends
    ]


# What a process says of its leadership, in the order of the first one a line holds.
EVENTS = ("Standing by", "Taking over", "no longer leads", "Gave up", "Polling Telegram",
          "Stopped polling", "leads bot")


def events(log_lines: list[str]) -> list[str]:
    """The leadership events in the log, in order."""
    return [next(event for event in EVENTS if event in line) for line in log_lines
            if any(event in line for event in EVENTS)]
