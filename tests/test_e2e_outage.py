"""PostgreSQL stopped and started under a real `python -m cosmobot` answering /cosmic."""

from __future__ import annotations

import time

import pytest

from tests.botrunner import BotProcess, photos, texts
from tests.dblocks import query_one
from tests.factories import TOKEN, make_assets

pytestmark = pytest.mark.timeout(240)

ALICE, BORIS, CLARA, DANA = 1001, 1002, 1003, 1004
NAMES = ("andromeda.jpg", "bode.jpg", "carina.jpg", "draco.jpg")
# Longer than the 15 s a file_id's write was once tried for before it was dropped.
OUTAGE_SECONDS = 20
WENT_WRONG = "Sorry, something went wrong on our side. Please try again."


@pytest.fixture
def bot_env(tmp_path, fake_api, outage_cluster):
    make_assets(tmp_path / "assets", NAMES)
    return {
        "COSMOBOT_TOKEN": TOKEN,
        "COSMOBOT_DATABASE_URL": outage_cluster.url,
        "COSMOBOT_ASSETS_DIR": str(tmp_path / "assets"),
        "COSMOBOT_API_URL": fake_api.base_url,
    }


def ask(fake_api, chat_id: int, words: str) -> dict:
    """Send `/cosmic words` and return the photo that answers it."""
    before = len(photos(fake_api, chat_id))
    fake_api.push_text(chat_id, f"/cosmic {words}")
    return fake_api.wait_until(lambda: photos(fake_api, chat_id)[before:], timeout=30)[0]


def uploaded(fake_api) -> list[str]:
    """The captions' first lines (the titles) of the successful uploads."""
    return sorted(call.params["caption"].splitlines()[0] for call in fake_api.uploads()
                  if call.status == 200)


def cached_rows(url: str) -> int:
    return query_one(url, "SELECT COUNT(*) FROM image_assets")[0]


def start(env, workdir, fake_api) -> BotProcess:
    polls_before = len(fake_api.calls("getUpdates"))
    bot = BotProcess(env, workdir).start()
    fake_api.wait_until(lambda: len(fake_api.calls("getUpdates")) > polls_before, timeout=60)
    return bot


def test_images_go_out_and_no_file_id_is_lost_while_postgresql_is_down(
        fake_api, bot_env, tmp_path, outage_cluster):
    bot = start(bot_env, tmp_path, fake_api)
    try:
        ask(fake_api, ALICE, "andromeda")
        ask(fake_api, ALICE, "bode")  # both cached before the outage
        outage_cluster.stop()
        fake_api.reset_calls()
        answers = [ask(fake_api, chat, words) for chat, words in (
            (BORIS, "andromeda"), (BORIS, "carina"), (CLARA, "draco"), (CLARA, "bode"))]
        assert len(answers) == 4  # cached and new images alike
        assert uploaded(fake_api) == ["Carina", "Draco"]
        fake_api.push_text(DANA, "/status")  # that needs the database: an apology, no ERROR
        assert fake_api.wait_until(lambda: texts(fake_api, DANA), timeout=30) == [WENT_WRONG]
        time.sleep(OUTAGE_SECONDS)
        outage_cluster.start()
        fake_api.wait_until(lambda: cached_rows(outage_cluster.url) == 4, timeout=60)
    finally:
        status = bot.stop()
    assert status == 0, bot.output
    warnings = [line for line in bot.output.splitlines() if "| WARNING" in line]
    assert len(warnings) == 1 and "Database unreachable" in warnings[0], warnings  # once
    assert bot.output.count("Database reachable again after") == 1
    assert "ERROR" not in bot.output and "Traceback" not in bot.output, bot.output

    fake_api.reset_calls()
    again = start(bot_env, tmp_path, fake_api)  # a restart: only the database remembers
    try:
        ask(fake_api, DANA, "carina")
        ask(fake_api, DANA, "draco")
    finally:
        assert again.stop() == 0, again.output
    assert uploaded(fake_api) == []  # the file_ids uploaded during the outage were kept
    assert len(fake_api.file_id_sends()) == 2
