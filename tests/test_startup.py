"""Startup: the command menu is published in the background and never stops the bot."""

from __future__ import annotations

import asyncio
import time

import pytest

from cosmobot.schedule import jobs
from tests.botrunner import BotThread, bot_settings, texts
from tests.factories import make_assets

ALICE = 1001


@pytest.fixture
def settings(tmp_path, fake_api):
    return bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))


def answers_help(fake_api) -> None:
    fake_api.push_text(ALICE, "/help")
    fake_api.wait_until(lambda: texts(fake_api, ALICE))


def test_a_menu_that_fails_with_502s_is_published_later(
    settings, fake_api, monkeypatch, log_lines
):
    monkeypatch.setattr(jobs, "MENU_RETRY_SECONDS", 0.2)
    fake_api.fail_next("setMyCommands", status=502, times=4)
    with BotThread(settings, fake_api):
        answers_help(fake_api)
        fake_api.wait_until(lambda: fake_api.commands(language_code="ru"))
    assert [c.status for c in fake_api.calls("setMyCommands")] == [502] * 4 + [200, 200]
    assert sum("Could not publish the command menu" in line for line in log_lines) == 4


def test_a_menu_refused_for_61_s_waits_and_the_bot_answers_meanwhile(
    settings, fake_api, log_lines
):
    fake_api.fail_next("setMyCommands", status=429, retry_after=61)
    with BotThread(settings, fake_api) as bot:
        answers_help(fake_api)
        job = fake_api.wait_until(
            lambda: [j for j in bot.application.job_queue.get_jobs_by_name(jobs.MENU_JOB)
                     if j.next_t is not None])[0]
        # Telegram's 61 s are respected: the next try is scheduled that far off ...
        assert job.next_t.timestamp() - time.time() > 55
        assert not fake_api.commands()
        # ... and, run now instead of a minute later, it publishes the menu.
        asyncio.run_coroutine_threadsafe(job.run(bot.application), bot.loop).result(10)
        assert fake_api.commands() and fake_api.commands(language_code="ru")
    assert any("WARNING" in line and "trying again in 61s" in line for line in log_lines)
