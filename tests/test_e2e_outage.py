"""PostgreSQL stopped and started under a real `python -m cosmobot` answering /cosmic.

The leader steps down while it cannot reach its database (see `storage.leadership`: never two
pollers), so updates that arrive meanwhile wait at Telegram and are answered once it leads
again; the uploads on their way when the database went away finish, and their file_ids are
kept until it is back.
"""

from __future__ import annotations

import time

import psycopg2
import pytest

from tests.botrunner import BotProcess, photos
from tests.dblocks import query_one
from tests.factories import TOKEN, make_assets

pytestmark = pytest.mark.timeout(240)

ALICE, BORIS, CLARA, DANA, ERIN = 1001, 1002, 1003, 1004, 1005
NAMES = ("andromeda.jpg", "bode.jpg", "carina.jpg", "draco.jpg")
# Longer than the 15 s a file_id's write was once tried for before it was dropped.
OUTAGE_SECONDS = 20
# The warnings of an outage: said once as it starts, and the leader's stepping down and back.
LEADERSHIP_SAYS = ("Database unreachable", "no longer leads", "Gave up bot",
                   "Cannot reach the database to see who leads")


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
    return answer(fake_api, chat_id, before)


def answer(fake_api, chat_id: int, before: int, timeout: float = 30) -> dict:
    """The first photo the chat got after its first `before`."""
    return fake_api.wait_until(lambda: photos(fake_api, chat_id)[before:], timeout=timeout)[0]


def uploaded(fake_api) -> list[str]:
    """The captions' first lines (the titles) of the successful uploads."""
    return sorted(call.params["caption"].splitlines()[0] for call in fake_api.uploads()
                  if call.status == 200)


def cached_rows(url: str) -> int:
    return query_one(url, "SELECT COUNT(*) FROM image_assets")[0]


def cached_rows_reachable(url: str) -> bool:
    try:
        cached_rows(url)
    except psycopg2.OperationalError:
        return False
    return True


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
        fake_api.reset_calls()
        fake_api.upload_bandwidth = 200  # bytes a second: an upload takes seconds
        fake_api.push_text(BORIS, "/cosmic carina")
        fake_api.push_text(CLARA, "/cosmic draco")
        # Both uploads have begun (the chat action goes with each): the server goes away.
        fake_api.wait_until(lambda: len(fake_api.calls("sendChatAction")) == 2, timeout=30)
        outage_cluster.stop()
        fake_api.push_text(DANA, "/cosmic andromeda")  # cached: waits for a poller
        fake_api.push_text(ERIN, "/cosmic bode")
        new_images = [answer(fake_api, chat, 0) for chat in (BORIS, CLARA)]
        assert not cached_rows_reachable(outage_cluster.url)  # uploaded while it was down
        time.sleep(OUTAGE_SECONDS)
        outage_cluster.start()
        answers = new_images + [answer(fake_api, chat, 0, timeout=60) for chat in (DANA, ERIN)]
        assert len(answers) == 4  # cached and new images alike
        assert uploaded(fake_api) == ["Carina", "Draco"]
        fake_api.wait_until(lambda: cached_rows(outage_cluster.url) == 4, timeout=60)
    finally:
        status = bot.stop()
    assert status == 0, bot.output
    assert [len(photos(fake_api, chat)) for chat in (BORIS, CLARA, DANA, ERIN)] == [1, 1, 1, 1]
    assert bot.output.count("Database unreachable") == 1  # once, however many writes waited
    assert bot.output.count("Database reachable again after") == 1
    warnings = [line for line in bot.output.splitlines() if "| WARNING" in line]
    assert not [line for line in warnings if not any(said in line for said in LEADERSHIP_SAYS)]
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
