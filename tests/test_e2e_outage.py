"""PostgreSQL stopped and started under a real `python -m cosmobot` answering /cosmic.

The leader rides out a server that is plainly down (see `storage.leadership`: never two
pollers), so updates that arrive meanwhile are answered from memory at once; the uploads made
while the database is away keep their file_ids until it is back. With a standby beside it,
exactly one of them polls once the server is back.
"""

from __future__ import annotations

import datetime as dt
import time

import psycopg2
import pytest

from tests.botrunner import BotProcess, photos
from tests.test_e2e_failover import assert_one_poller_at_a_time, leader_and_standby
from tests.dblocks import query_one
from tests.factories import TOKEN, make_assets

pytestmark = pytest.mark.timeout(240)

ALICE, BORIS, CLARA, DANA, ERIN = 1001, 1002, 1003, 1004, 1005
NAMES = ("andromeda.jpg", "bode.jpg", "carina.jpg", "draco.jpg")
# Longer than the 15 s a file_id's write was once tried for before it was dropped.
OUTAGE_SECONDS = 20
# The warnings of an outage: said once as it starts, and the leader's stepping down and back.
LEADERSHIP_SAYS = ("Database unreachable", "no longer leads", "Gave up bot",
                   "Cannot reach the database to see who leads",
                   "The database server ended this process's session")


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


RIDERS = tuple(range(2001, 2009))
AFTER = (2101, 2102)


def test_a_leader_and_its_standby_ride_out_a_postgresql_stop_and_one_polls_after(
        fake_api, bot_env, tmp_path, outage_cluster):
    env = {**bot_env, "COSMOBOT_LOG_LEVEL": "DEBUG"}  # who polls is in each process's log
    processes = [BotProcess(env, tmp_path).start() for _ in range(2)]
    settled = time.monotonic()
    try:
        leader, standby = leader_and_standby(fake_api, processes)
        for number, name in enumerate(NAMES[:3]):  # all but draco cached before the outage
            ask(fake_api, ALICE + 100 + number, name.removesuffix(".jpg"))
        fake_api.reset_calls()
        outage_cluster.stop()
        stopped = time.monotonic()
        for number, chat in enumerate(RIDERS):
            fake_api.push_text(chat, f"/cosmic {NAMES[number % 3].removesuffix('.jpg')}")
            time.sleep(0.5)
        fake_api.push_text(BORIS, "/cosmic draco")  # new: uploaded while the server is down
        during = [answer(fake_api, chat, 0, timeout=20) for chat in (*RIDERS, BORIS)]
        back = time.monotonic()
        assert len(during) == len(RIDERS) + 1 and not outage_cluster.is_up()
        time.sleep(max(0.0, stopped + OUTAGE_SECONDS - time.monotonic()))
        outage_cluster.start()
        fake_api.wait_until(lambda: cached_rows(outage_cluster.url) == 4, timeout=60)
        time.sleep(5)  # past a standby's takeover grace: whoever leads now polls
        settled = time.monotonic()
        for chat in AFTER:
            ask(fake_api, chat, "draco")
    finally:
        # The poller last: no handover on the way out.
        statuses = [process.stop() for process in sorted(
            processes, key=lambda process: polls_after(process, settled))]
    assert statuses == [0, 0], [process.output for process in processes]
    answered_at = [call.timestamp for call in fake_api.calls("sendPhoto")
                   if call.status == 200 and int(call.params["chat_id"]) in (*RIDERS, BORIS)]
    assert len(answered_at) == len(RIDERS) + 1 and max(answered_at) < back  # not after
    chats = (*RIDERS, BORIS, *AFTER)
    assert [len(photos(fake_api, chat)) for chat in chats] == [1] * len(chats)
    assert [call.params["caption"].splitlines()[0] for call in fake_api.uploads()
            if call.status == 200] == ["Draco"]
    assert_one_poller_at_a_time([leader, standby])
    polled_after = [process for process in processes if polls_after(process, settled)]
    assert len(polled_after) == 1
    for process in processes:
        assert "ERROR" not in process.output and "Traceback" not in process.output


def polls_after(process: BotProcess, since: float) -> bool:
    """Whether the process asked getUpdates after the monotonic time `since` (its own log)."""
    wall = dt.datetime.now() - dt.timedelta(seconds=time.monotonic() - since)
    stamps = [line[:23] for line in process.output.splitlines() if "getUpdates" in line]
    return any(dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f") > wall for stamp in stamps)
