"""End to end: /stats for the admins, and for anyone else the help text with no hint of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from cosmobot import clock
from cosmobot.clock import utcnow
from cosmobot.schedule import jobs
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import Subscription
from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import BOT_ID, make_assets

ADMIN, ALICE = 501, 1001


@pytest.fixture
def settings(tmp_path, fake_api):
    assets = make_assets(tmp_path / "assets", ("a.jpg", "b.jpg"))
    settings = bot_settings(tmp_path, fake_api, assets)
    return dataclasses.replace(settings, admin_ids=frozenset({ADMIN}))


def ask(fake_api, chat_id, command, language_code="en"):
    before = len(texts(fake_api, chat_id))
    fake_api.push_text(chat_id, command, language_code=language_code)
    return fake_api.wait_until(lambda: texts(fake_api, chat_id)[before:])[0]


def sections(reply):
    return [block.splitlines() for block in reply.split("\n\n")]


def test_stats_counts_since_start_and_in_total(settings, fake_api):
    with BotThread(settings, fake_api):
        for n in (1, 2, 3):  # two uploads, then one send by file_id
            fake_api.push_text(ADMIN, "/cosmic")
            fake_api.wait_until(lambda n=n: len(photos(fake_api, ADMIN)) == n)
        first = ask(fake_api, ADMIN, "/stats")
    with BotThread(settings, fake_api):  # a restart: "since start" begins again
        second = ask(fake_api, ADMIN, "/stats")
    assert sections(first)[:3] == [
        ["Cosmobot statistics"],
        ["Images", "• installed: 2", "• with a valid cached file_id: 2 of 2"],
        ["Photos sent", "• by file_id: 1 since start, 1 in total",
         "• uploaded: 2 since start, 2 in total"],
    ]
    assert sections(second)[2] == [
        "Photos sent", "• by file_id: 0 since start, 1 in total",
        "• uploaded: 0 since start, 2 in total",
    ]


def test_stats_speak_russian_to_a_russian_admin(settings, fake_api):
    with BotThread(settings, fake_api):
        reply = ask(fake_api, ADMIN, "/stats", language_code="ru")
    assert reply.startswith("Статистика cosmobot\n\nИзображения\n• установлено: 2")


def test_anyone_else_gets_the_help_text_and_no_hint(settings, fake_api):
    with BotThread(settings, fake_api):
        help_text = ask(fake_api, ALICE, "/help")
        assert ask(fake_api, ALICE, "/stats") == help_text
        assert ask(fake_api, ALICE, "/stats images") == help_text
        fake_api.wait_until(lambda: fake_api.commands(language_code="ru"))
    assert "stats" not in help_text
    menus = fake_api.commands() + fake_api.commands(language_code="ru")
    assert "stats" not in [command["command"] for command in menus]


def test_stats_count_the_subscribers_and_the_next_round(settings, fake_api):
    with BotThread(settings, fake_api):
        ask(fake_api, ALICE, "/daily 23:59")
        ask(fake_api, 1002, "/daily 23:59")
        ask(fake_api, 1002, "/stop")
        daily = sections(ask(fake_api, ADMIN, "/stats"))[3]
    assert daily[:3] == ["Daily image", "• subscribers: 1 active, 1 inactive",
                         "• set aside (time or time zone unreadable): 0"]
    assert daily[3].startswith("• today: 0 delivered, ")
    assert re.fullmatch(r"• next round: \d\d:\d\d:\d\d UTC", daily[4])


def test_stats_put_each_count_in_its_place(settings, fake_api, monkeypatch):
    monkeypatch.setattr(jobs, "DAILY_FIRST_SECONDS", 3600.0)  # no round: the rows stay as made
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    clock.set_offset(noon - utcnow())
    settings = dataclasses.replace(settings, assets_dir=make_assets(
        settings.assets_dir.parent / "three", ("a.jpg", "b.jpg", "c.jpg")))
    subscriptions = (  # (chat, active, delivered_on, next_at, set_aside)
        [(chat, True, noon.date(), noon + dt.timedelta(days=1), None) for chat in (1, 2, 3)]
        + [(4, True, None, noon - dt.timedelta(hours=1), None),
           (5, True, None, noon - dt.timedelta(hours=2), "unknown time zone: 'Mars/Olympus'"),
           (6, True, None, noon + dt.timedelta(hours=1), None)]
        + [(chat, False, None, noon - dt.timedelta(hours=1), None) for chat in (7, 8)])
    make_subscriptions(settings, subscriptions)
    with BotThread(settings, fake_api):
        fake_api.push_text(ADMIN, "/cosmic")
        fake_api.wait_until(lambda: photos(fake_api, ADMIN))
        reply = sections(ask(fake_api, ADMIN, "/stats"))
    assert reply[1] == ["Images", "• installed: 3", "• with a valid cached file_id: 1 of 3"]
    assert reply[3][:4] == [
        "Daily image", "• subscribers: 6 active, 2 inactive",
        "• set aside (time or time zone unreadable): 1",
        "• today: 3 delivered, 1 due, 0 failed tries",
    ]


def make_subscriptions(settings, rows) -> None:
    open_database(settings.database_url)
    apply_migrations()
    for chat, active, delivered_on, next_at, set_aside in rows:
        Subscription.create(bot_id=BOT_ID, chat_id=chat, chat_type="private", language="en",
                            local_time=f"{next_at:%H:%M}", zone="UTC", active=active,
                            delivered_on=delivered_on, next_at=next_at, set_aside=set_aside)
    close_database()
