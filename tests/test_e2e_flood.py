"""End to end: one chat pressing "Another one" fast, or flooding commands, holds up nobody else."""

from __future__ import annotations

import pytest

from cosmobot.bot.chatlanes import BACKLOG_PER_CHAT, SLOTS_PER_CHAT
from cosmobot.botapi import ratelimit
from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import make_assets

ALICE, BORIS = 1001, 1002
PRESSES = 300  # more than PTB's 256 concurrent update slots
ON_ITS_WAY = "Your image is on its way"
GROUP, MEMBERS = -1001234567890, (3001, 3002, 3003, 3004, 3005)
GROUP_COMMANDS = ("/help", "/start", "/status", "/daily", "/stop")
FLOOD = 300  # more than PTB's 256 concurrent update slots


@pytest.fixture
def bot(tmp_path, fake_api):
    assets = make_assets(tmp_path / "assets", ("orion.jpg", "vela.jpg"))
    with BotThread(bot_settings(tmp_path, fake_api, assets), fake_api) as running:
        yield running


def press_answers(fake_api) -> list:
    return [c for c in fake_api.calls("answerCallbackQuery") if c.status == 200]


def test_a_flooding_chat_does_not_delay_another_users_help(bot, fake_api):
    # Telegram's per-chat limit: after her first image, Alice's next one must wait about 10 s,
    # time enough for the bot to take in her presses and answer Boris even on a busy machine.
    fake_api.chat_rate_limit = 0.1
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: photos(fake_api, ALICE))
    for _ in range(PRESSES):
        fake_api.push_callback(ALICE, "cosmic")
    fake_api.push_text(BORIS, "/help")
    fake_api.wait_until(lambda: texts(fake_api, BORIS))
    assert len(photos(fake_api, ALICE)) == 1  # Boris was answered while Alice's image waited
    fake_api.wait_until(lambda: len(press_answers(fake_api)) == PRESSES)
    fake_api.wait_until(lambda: len(photos(fake_api, ALICE)) == 2, timeout=30)
    # One image at a time: the press that got the chat's slot; every other one was told so.
    notices = [c.params.get("text") for c in press_answers(fake_api)]
    assert notices.count(ON_ITS_WAY) == PRESSES - 1
    assert not [c for c in fake_api.calls("sendPhoto") if c.params["chat_id"] == ALICE
                and c.status is None]


def test_cosmic_while_an_image_is_on_its_way_is_dropped(bot, fake_api, log_lines):
    fake_api.upload_bandwidth = 2000  # bytes/s: the first upload takes a while
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: fake_api.calls("sendPhoto"))
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: any("dropped" in line for line in log_lines))
    fake_api.wait_until(lambda: photos(fake_api, ALICE), timeout=20)
    fake_api.upload_bandwidth = None
    fake_api.push_text(ALICE, "/cosmic")  # once it arrived, /cosmic works again
    fake_api.wait_until(lambda: len(photos(fake_api, ALICE)) == 2)
    assert len(fake_api.calls("sendPhoto")) == 2


def test_a_russian_presser_is_told_in_russian(bot, fake_api):
    fake_api.upload_bandwidth = 2000
    fake_api.push_text(ALICE, "/cosmic", language_code="ru")
    fake_api.wait_until(lambda: fake_api.calls("sendPhoto"))
    fake_api.push_callback(ALICE, "cosmic", language_code="ru")
    answer = fake_api.wait_until(lambda: press_answers(fake_api))[0]
    assert answer.params["text"] == "Ваше изображение уже в пути"
    fake_api.wait_until(lambda: photos(fake_api, ALICE), timeout=20)


def dropped(log_lines: list[str]) -> list[str]:
    return [line for line in log_lines if line.startswith("DEBUG Update") and "dropped" in line]


def test_a_group_flooding_commands_holds_up_nobody_else(tmp_path, fake_api, monkeypatch,
                                                        log_lines):
    # Telegram's 20 a minute to a group, scaled down so that the group's backlog drains in
    # seconds; its answers still wait for their turn, holding whatever they hold meanwhile.
    monkeypatch.setattr(ratelimit, "GROUP_CHAT_INTERVAL_SECONDS", 0.3)
    fake_api.add_group(GROUP)
    assets = make_assets(tmp_path / "assets", ("orion.jpg",))
    with BotThread(bot_settings(tmp_path, fake_api, assets), fake_api):
        for number in range(FLOOD):
            fake_api.push_text(GROUP, GROUP_COMMANDS[number % 5], user_id=MEMBERS[number % 5])
        fake_api.push_text(BORIS, "/help")
        fake_api.wait_until(lambda: texts(fake_api, BORIS))
        # Every command of the group is either answered or dropped, with one line each.
        fake_api.wait_until(
            lambda: len(texts(fake_api, GROUP)) + len(dropped(log_lines)) == FLOOD, timeout=30)
    order = [call.params["chat_id"] for call in fake_api.calls("sendMessage")
             if call.status == 200]
    # Boris came before the group's first few answers, not after the ~45 that went out while
    # the group's commands held every update slot.
    assert order.index(BORIS) < 10
    answered = len(texts(fake_api, GROUP))
    # The group's backlog was answered; the rest of its flood was dropped, not queued: the stop
    # (which runs every update still held) sent nothing more.
    kept = SLOTS_PER_CHAT + BACKLOG_PER_CHAT
    assert kept <= answered < 2 * kept
    assert answered + len(dropped(log_lines)) == FLOOD
