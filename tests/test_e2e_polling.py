"""End to end: how the bot lives through a lost connection, and ends on a revoked token."""

from __future__ import annotations

from itertools import takewhile

import pytest
from telegram.error import InvalidToken

from tests.botrunner import BotThread, bot_settings, texts
from tests.factories import make_assets

ALICE = 1001
LOST = "Lost the connection to Telegram while polling"
BACK = "Polling Telegram works again"


@pytest.fixture
def settings(tmp_path, fake_api):
    return bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))


def test_an_outage_is_one_warning_then_one_recovery_line(settings, fake_api, log_lines):
    with BotThread(settings, fake_api):
        fake_api.drop_next("getUpdates", times=2)
        fake_api.fail_next("getUpdates", status=502, description="Bad Gateway")
        fake_api.push_text(ALICE, "/help")  # ends the poll in progress; the next three fail
        fake_api.wait_until(lambda: [c for c in fake_api.calls("getUpdates") if c.status == 502])
        fake_api.push_text(ALICE, "/help")  # so the first good poll returns at once
        fake_api.wait_until(lambda: len(texts(fake_api, ALICE)) == 2, timeout=20)
        fake_api.wait_until(lambda: any(BACK in line for line in log_lines))
    lines = [line.rstrip("\n") for line in log_lines]
    assert [line for line in lines if LOST in line] == [
        f"WARNING {LOST} (httpx.RemoteProtocolError: Server disconnected without sending a "
        "response.); retrying"
    ]
    assert [line for line in lines if BACK in line] == [f"INFO {BACK} after 3 failed polls"]
    assert not [line for line in lines if line.startswith(("ERROR", "CRITICAL"))]
    assert not any("Traceback" in line for line in lines)


def test_a_token_revoked_while_polling_ends_the_run(settings, fake_api):
    bot = BotThread(settings, fake_api).start()
    fake_api.fail_next("getUpdates", status=401, description="Unauthorized")
    fake_api.push_text(ALICE, "/help")  # ends the poll in progress; the next one is refused
    fake_api.wait_until(lambda: bot.error, timeout=20)  # the run ended by itself
    with pytest.raises(InvalidToken):
        bot.stop()
    assert not bot.application.running


CONFLICT = "Another process is already polling Telegram with this bot token (409 Conflict)"
GONE = "Polling Telegram works again: the other poller is gone"


def test_another_poller_is_one_warning_then_one_recovery_line(settings, fake_api, log_lines):
    with BotThread(settings, fake_api):
        fake_api.conflict = True
        fake_api.push_text(ALICE, "/help")  # ends the poll in progress; the next ones are refused
        fake_api.wait_until(lambda: len(refused_polls(fake_api)) >= 3, timeout=20)
        fake_api.conflict = False
        fake_api.push_text(ALICE, "/help")  # so the first good poll returns at once
        fake_api.wait_until(lambda: len(texts(fake_api, ALICE)) == 2, timeout=20)
        fake_api.wait_until(lambda: any(GONE in line for line in log_lines))
    lines = [line.rstrip("\n") for line in log_lines]
    assert len([line for line in lines if CONFLICT in line]) == 1
    assert [line.split()[0] for line in lines if CONFLICT in line] == ["WARNING"]
    refused = len(refused_polls(fake_api))
    assert [line for line in lines if GONE in line] == [
        f"INFO {GONE} after {refused} refused polls"
    ]
    assert not [line for line in lines if line.startswith(("ERROR", "CRITICAL"))]


def refused_polls(fake_api) -> list:
    """The getUpdates calls refused with 409 Conflict until one went through again."""
    polls = fake_api.calls("getUpdates")
    first = next((n for n, call in enumerate(polls) if call.status == 409), len(polls))
    refused = polls[first:]
    # A long poll the bot gave up when it stopped is ended by its last, short one with a 409
    # too, which nobody hears: not counted.
    return [call for call in takewhile(lambda call: call.status != 200, refused)]
