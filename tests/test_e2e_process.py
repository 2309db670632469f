"""End to end with `python -m cosmobot run` as a real process: restarts, tokens, conflicts."""

from __future__ import annotations

import sqlite3

import pytest

from tests.botrunner import BotProcess, photos
from tests.factories import TOKEN, make_assets

ALICE = 1001
SECRET_HALF = TOKEN.split(":")[1]


@pytest.fixture
def bot_env(tmp_path, fake_api):
    make_assets(tmp_path / "assets", ("orion.jpg",))
    return {
        "COSMOBOT_TOKEN": TOKEN,
        "COSMOBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "COSMOBOT_ASSETS_DIR": str(tmp_path / "assets"),
        "COSMOBOT_API_URL": fake_api.base_url,
    }


def run_one_cosmic(fake_api, env, cwd, expected_photos):
    """Start a bot process, ask it for one image, stop it; return the process."""
    bot = BotProcess(env, cwd).start()
    try:
        fake_api.wait_until(lambda: fake_api.commands(), timeout=20)
        fake_api.push_text(ALICE, "/cosmic")
        fake_api.wait_until(lambda: len(photos(fake_api, ALICE)) == expected_photos, timeout=20)
    finally:
        status = bot.stop()
    assert status == 0, bot.output
    return bot


def test_restart_keeps_the_cache_so_the_first_send_is_by_file_id(fake_api, bot_env, tmp_path):
    run_one_cosmic(fake_api, bot_env, tmp_path, expected_photos=1)
    assert (len(fake_api.uploads()), len(fake_api.file_id_sends())) == (1, 0)
    with sqlite3.connect(tmp_path / "bot.db") as db:
        assert db.execute("SELECT asset_key FROM image_assets").fetchall() == [
            ("cosmic/orion.jpg",)
        ]
    fake_api.reset_calls()
    run_one_cosmic(fake_api, bot_env, tmp_path, expected_photos=1)
    assert (len(fake_api.uploads()), len(fake_api.file_id_sends())) == (0, 1)


def test_token_never_appears_in_logs_even_at_debug(fake_api, bot_env, tmp_path):
    env = {**bot_env, "COSMOBOT_LOG_LEVEL": "DEBUG"}
    fake_api.fail_next("sendPhoto", status=500)  # a retried fault logs a warning too
    bot = run_one_cosmic(fake_api, env, tmp_path, expected_photos=1)
    output = bot.output
    assert "getUpdates" in output and "sendPhoto" in output  # PTB and httpx did log requests
    assert "[REDACTED]" in output
    assert SECRET_HALF not in output


def test_rejected_token_says_so_and_exits_2(fake_api, bot_env, tmp_path):
    env = {**bot_env, "COSMOBOT_TOKEN": "555:AAHtokenTheFakeDoesNotKnow000000000"}
    bot = BotProcess(env, tmp_path).start()
    assert bot.wait() == 2
    assert "token rejected" in bot.output
    assert "AAHtokenTheFakeDoesNotKnow" not in bot.output
    assert "Traceback" not in bot.output


def test_missing_token_is_one_line_and_exit_2(bot_env, tmp_path):
    env = {key: value for key, value in bot_env.items() if key != "COSMOBOT_TOKEN"}
    bot = BotProcess(env, tmp_path).start()
    assert bot.wait() == 2
    assert bot.output.strip().splitlines() == [
        "cosmobot: COSMOBOT_TOKEN is not set: put the token from @BotFather in it"
    ]


def test_another_instance_polling_is_reported_plainly(fake_api, bot_env, tmp_path):
    fake_api.conflict = True
    bot = BotProcess(bot_env, tmp_path).start()
    try:
        fake_api.wait_until(lambda: "already polling" in bot.output, timeout=20)
    finally:
        fake_api.conflict = False
        status = bot.stop()
    assert status == 0
    assert "Another process is already polling Telegram with this bot token" in bot.output


def test_unreachable_api_is_a_clear_failure(bot_env, tmp_path):
    env = {**bot_env, "COSMOBOT_API_URL": "http://127.0.0.1:9/bot"}
    bot = BotProcess(env, tmp_path).start()
    assert bot.wait() == 1
    assert "Cannot reach the Bot API at http://127.0.0.1:9/bot" in bot.output
    assert SECRET_HALF not in bot.output
    assert "Traceback" not in bot.output


def test_token_revoked_while_running_stops_the_bot(fake_api, bot_env, tmp_path):
    bot = BotProcess(bot_env, tmp_path).start()
    try:
        fake_api.wait_until(lambda: fake_api.commands(), timeout=20)
        fake_api.fail_next("getUpdates", status=401, description="Unauthorized")
        status = bot.wait(timeout=20)
    finally:
        bot.stop()
    assert status == 2
    assert "token rejected" in bot.output
    assert "Traceback" not in bot.output and "Exception ignored" not in bot.output
