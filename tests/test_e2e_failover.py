"""Two `python -m cosmobot run` of one bot on one database: one leads, the other stands by.

On a SQLite file and on PostgreSQL: only the leader polls and runs the daily round; when it
is killed or stopped, the standby takes over within 10 s, answers what waited meanwhile and
finishes the round, with no chat served twice. On PostgreSQL, a leader whose database session
ends stops polling before anyone else polls.
"""

from __future__ import annotations

import datetime as dt
import re
import signal
import time
from collections import Counter

import psycopg2
import pytest

from cosmobot.clock import utcnow
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.leadersession import LEADER_CLASS
from cosmobot.storage.models import Subscription
from tests.botrunner import BotProcess, texts
from tests.factories import TOKEN, make_assets
from tests.pgcluster import LEADER_LOCK_HOLDERS

pytestmark = pytest.mark.timeout(180)

SUBSCRIBERS = 210  # about 7 s of sends at Telegram's 30 a second
FIRST_CHAT = 20_000
ALICE = 1001
BOT_ID = int(TOKEN.split(":")[0])
TAKEOVER_SECONDS = 10
LEADS = "This process ("
STANDS_BY = "Standing by"
POLLING = "Polling Telegram for bot"
STOPPED = "Stopped polling Telegram"
CONFLICT = "Another process is already polling"
SETTLED = re.compile(r"The daily image to chat (\d+) was on its way when the bot was killed")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \| .*?- (.*)$")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A SQLite file, or a real emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("postgres_url")


def prepared(url: str, subscribers: int) -> str:
    """Migrate the database and subscribe chats due since midnight that had no image yet."""
    db = open_database(url)
    try:
        apply_migrations()
        midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        rows = [{"bot_id": BOT_ID, "chat_id": FIRST_CHAT + n, "chat_type": "private",
                 "language": "en",
                 "local_time": "00:00", "zone": "UTC", "next_at": midnight}
                for n in range(subscribers)]
        with db.atomic():
            for start in range(0, len(rows), 100):
                Subscription.insert_many(rows[start:start + 100]).execute()
    finally:
        close_database()
    return url


def start_two(url: str, fake_api, tmp_path) -> list[BotProcess]:
    assets = make_assets(tmp_path / "assets", ("orion.jpg", "andromeda.png"))
    # At DEBUG each process logs every request it makes: who polls is in its own log.
    env = {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": url,
           "COSMOBOT_ASSETS_DIR": str(assets), "COSMOBOT_API_URL": fake_api.base_url,
           "COSMOBOT_LOG_LEVEL": "DEBUG"}
    return [BotProcess(env, tmp_path).start() for _ in range(2)]


def leader_and_standby(fake_api, processes: list[BotProcess]) -> tuple[BotProcess, BotProcess]:
    """Wait until one process leads and the other stands by; return them in that order."""
    def roles():
        leaders = [p for p in processes if LEADS in p.output]
        standbys = [p for p in processes if STANDS_BY in p.output]
        return len(leaders) == len(standbys) == 1 and (leaders[0], standbys[0])
    return fake_api.wait_until(roles, timeout=30)


def delivered(fake_api) -> Counter:
    """How many photos each chat received."""
    return Counter(c.params["chat_id"] for c in fake_api.calls("sendPhoto") if c.status == 200)


def settled(process: BotProcess) -> set[int]:
    """The chats whose send in flight the process counted as delivered (a killed leader's)."""
    return {int(chat) for chat in SETTLED.findall(process.output)}


def polling_spans(process: BotProcess) -> list[tuple[dt.datetime, dt.datetime]]:
    """When the process polled: from each "Polling" line to the next "Stopped polling"."""
    spans, began = [], None
    for line in process.output.splitlines():
        if (stamped := STAMP.match(line)) is None:
            continue
        at = dt.datetime.strptime(stamped[1], "%Y-%m-%d %H:%M:%S.%f")
        if stamped[2].startswith(POLLING):
            began = at
        elif stamped[2].startswith(STOPPED):
            spans.append((began, at))
    return spans


def assert_one_poller_at_a_time(processes: list[BotProcess]) -> None:
    first, second = (polling_spans(process) for process in processes)
    for began, ended in first:
        assert all(ended <= other_began or other_ended <= began
                   for other_began, other_ended in second)
    # Telegram ends a long poll with 409 when another comes: no process ever had one.
    assert not [p for p in processes if CONFLICT in p.output]


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_a_standby_takes_over_polling_and_the_round(fake_api, database_url, tmp_path, stop):
    processes = start_two(prepared(database_url, SUBSCRIBERS), fake_api, tmp_path)
    try:
        leader, standby = leader_and_standby(fake_api, processes)
        standing_since = time.monotonic()  # a few tries, said once
        fake_api.wait_until(lambda: len(delivered(fake_api)) >= 10
                            and time.monotonic() > standing_since + 1.5, timeout=30)
        assert "getUpdates" in leader.output and "getUpdates" not in standby.output
        assert POLLING in leader.output and POLLING not in standby.output
        leader.process.send_signal(stop)
        before = sum(delivered(fake_api).values())
        fake_api.push_text(ALICE, "/help")  # waits at Telegram for the next poller
        fake_api.wait_until(lambda: texts(fake_api, ALICE), timeout=TAKEOVER_SECONDS)
        assert leader.wait() == (-signal.SIGKILL if stop == signal.SIGKILL else 0)
        everyone = {FIRST_CHAT + n for n in range(SUBSCRIBERS)}
        # The dead leader's sends on their way are settled once their lease (20 s) has run
        # out, by the next round after that (every 20 s): up to about 40 s, more on a busy host.
        fake_api.wait_until(lambda: set(delivered(fake_api)) | settled(standby) == everyone,
                            timeout=75)
    finally:
        statuses = [process.stop() for process in processes]
    assert 0 < before < SUBSCRIBERS  # the round was taken over midway
    counts, gone = delivered(fake_api), settled(standby)
    assert set(counts.values()) == {1}  # nobody got two
    assert len(texts(fake_api, ALICE)) == 1
    if stop == signal.SIGKILL:
        # Sends the killed leader had on their way count as delivered: never sent twice.
        assert everyone - set(counts) <= gone and len(gone) <= 30
    else:
        assert not gone and set(counts) == everyone
        assert all(polling_spans(process) for process in processes)
        assert_one_poller_at_a_time(processes)
    assert standby.output.count(STANDS_BY) == 1 and "Taking over" in standby.output
    assert CONFLICT not in standby.output
    assert statuses[processes.index(standby)] == 0, standby.output


def test_a_leader_whose_session_ends_stops_polling_before_another_polls(
        fake_api, postgres_url, tmp_path):
    processes = start_two(prepared(postgres_url, 0), fake_api, tmp_path)
    try:
        leader, _ = leader_and_standby(fake_api, processes)
        connection = psycopg2.connect(postgres_url)
        try:
            with connection.cursor() as cursor:
                terminate = f"SELECT pg_terminate_backend(pid) FROM ({LEADER_LOCK_HOLDERS}) held"
                cursor.execute(terminate, (LEADER_CLASS, BOT_ID))
                assert cursor.fetchall() == [(True,)]
        finally:
            connection.close()
        fake_api.wait_until(lambda: STOPPED in leader.output, timeout=5)
        fake_api.wait_until(lambda: sum(p.output.count(POLLING) for p in processes) == 2,
                            timeout=TAKEOVER_SECONDS)
        fake_api.push_text(ALICE, "/help")
        fake_api.wait_until(lambda: texts(fake_api, ALICE), timeout=10)
    finally:
        statuses = [process.stop() for process in processes]
    assert statuses == [0, 0]  # the deposed leader stayed up
    assert len(texts(fake_api, ALICE)) == 1
    assert "no longer leads" in leader.output
    assert sum(len(polling_spans(process)) for process in processes) == 2
    assert_one_poller_at_a_time(processes)
