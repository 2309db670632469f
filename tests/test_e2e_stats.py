"""End to end: /stats for the admins, and for anyone else the help text with no hint of it."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import make_assets

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
    assert daily[:2] == ["Daily image", "• subscribers: 1 active, 1 inactive"]
    assert daily[2].startswith("• today: 0 delivered, ")
    assert re.fullmatch(r"• next round: \d\d:\d\d:\d\d UTC", daily[3])
