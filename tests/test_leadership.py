"""The leader lock, on a SQLite file and on PostgreSQL: one leads, the others wait for it."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

import peewee
import psycopg2
import pytest
import pytest_asyncio

from cosmobot.storage import leadership
from cosmobot.storage.leadersession import LEADER_CLASS, server_closed, server_down
from cosmobot.storage.leadership import LeaderLock
from cosmobot.storage.process import OWNER
from tests.pgcluster import LEADER_LOCK_HOLDERS
from tests.tcpproxy import FreezableProxy

pytestmark = pytest.mark.timeout(60)

BOT = 5_550_001
HELD = LEADER_LOCK_HOLDERS


@pytest.fixture(params=["sqlite", "postgresql"])
def lock_url(request, tmp_path) -> str:
    """A database URL for the lock: a SQLite file, or a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(autouse=True)
def quick_standby(monkeypatch) -> None:
    monkeypatch.setattr(leadership, "RETRY_SECONDS", 0.2)


@pytest_asyncio.fixture
async def locks():
    """Make LeaderLocks; each is released when the test ends."""
    made: list[LeaderLock] = []

    def make(url: str, bot_id: int = BOT) -> LeaderLock:
        made.append(LeaderLock(url, bot_id))
        return made[-1]

    yield make
    for lock in made:
        await lock.release()


def run_sql(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Run one statement on a connection of the test's own; return its rows."""
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def holders(url: str) -> list[tuple]:
    """The server processes holding BOT's leader lock."""
    return run_sql(url, HELD, (LEADER_CLASS, BOT))


@pytest.mark.asyncio
async def test_one_leads_and_the_other_stands_by_until_it_is_released(lock_url, locks, log_lines):
    leader, standby = locks(lock_url), locks(lock_url)
    await asyncio.wait_for(leader.acquire(), 10)
    waiting = asyncio.create_task(standby.acquire())
    await asyncio.sleep(1.0)  # five tries
    assert not waiting.done()
    await leader.release()
    await asyncio.wait_for(waiting, 10)
    assert not leader.lost.is_set() and not standby.lost.is_set()
    said = [line.rstrip() for line in log_lines if f"bot {BOT}" in line]
    assert said == [
        f"INFO This process ({OWNER}) leads bot {BOT}",
        f"INFO Standing by: process {OWNER} leads bot {BOT}",
        f"INFO Taking over: this process ({OWNER}) leads bot {BOT} now",
    ]


@pytest.mark.asyncio
async def test_each_bot_has_a_lock_of_its_own(lock_url, locks):
    both = asyncio.gather(locks(lock_url, BOT).acquire(), locks(lock_url, BOT + 1).acquire())
    await asyncio.wait_for(both, 10)


@pytest.mark.asyncio
async def test_an_in_memory_database_has_one_process_the_leader(locks):
    await asyncio.wait_for(locks("sqlite:///:memory:").acquire(), 1)


@pytest.mark.asyncio
async def test_a_database_out_of_reach_is_said_once_and_tried_until_it_answers(
        tmp_path, locks, log_lines):
    folder = tmp_path / "not-yet"  # the lock's file cannot be opened until it exists
    waiting = asyncio.create_task(locks(f"sqlite:///{folder / 'bot.db'}").acquire())
    await asyncio.sleep(1.0)  # five tries
    assert not waiting.done()
    folder.mkdir()
    await asyncio.wait_for(waiting, 5)
    said = [line.rstrip().split(" (")[0] for line in log_lines if f"bot {BOT}" in line]
    assert said == [f"WARNING Cannot reach the database to see who leads bot {BOT}",
                    f"INFO The database answers again: looking for bot {BOT}'s leader",
                    "INFO This process"]


@pytest.mark.asyncio
async def test_a_terminated_session_deposes_the_leader_before_the_standby_leads(
        postgres_url, locks):
    leader, standby = locks(postgres_url), locks(postgres_url)
    await asyncio.wait_for(leader.acquire(), 10)
    waiting = asyncio.create_task(standby.acquire())
    await asyncio.sleep(0.5)
    [(pid,)] = holders(postgres_url)
    run_sql(postgres_url, "SELECT pg_terminate_backend(%s)", (pid,))
    await asyncio.wait_for(leader.lost.wait(), 3)
    assert not waiting.done()  # the lock was free at once, but the standby waits its grace
    await asyncio.wait_for(waiting, 10)
    [(new_pid,)] = holders(postgres_url)
    assert new_pid != pid and not standby.lost.is_set()


def through(url: str, port: int) -> str:
    """The URL with 127.0.0.1:port for its host and port."""
    parts = urlparse(url)
    user = parts.netloc.rpartition("@")[0]
    host = f"127.0.0.1:{port}"
    return parts._replace(netloc=f"{user}@{host}" if user else host).geturl()


async def free_at(url: str, timeout: float) -> float:
    """The loop time at which nobody holds BOT's lock any more (checked every 0.1 s)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await asyncio.to_thread(holders, url):
        assert loop.time() < deadline, "the server never freed the lock"
        await asyncio.sleep(0.1)
    return loop.time()


@pytest.mark.asyncio
async def test_a_leader_cut_off_from_the_database_steps_down_before_the_lock_is_free(
        postgres_url, locks):
    address = urlparse(postgres_url)
    proxy = FreezableProxy((address.hostname, address.port or 5432))
    try:
        leader = locks(through(postgres_url, proxy.port))
        await asyncio.wait_for(leader.acquire(), 10)
        loop = asyncio.get_running_loop()
        proxy.frozen.set()  # neither side hears from the other; no connection closes
        cut_off = loop.time()
        freed = asyncio.create_task(free_at(postgres_url, timeout=15))
        await asyncio.wait_for(leader.lost.wait(), 6)
        stepped_down = loop.time()
        assert not freed.done()
        # The server ends the silent session itself (idle_session_timeout), freeing the lock.
        assert stepped_down < await freed < cut_off + 8
    finally:
        proxy.close()


# What libpq said against a real PostgreSQL 15 (`pg_ctlcluster ... stop -m fast` or
# `-m immediate`, a restart, pg_terminate_backend; then connecting while it was down).
CLOSED = ("server closed the connection unexpectedly\n\tThis probably means the server "
          "terminated abnormally\n\tbefore or while processing the request.\n")
REFUSED = ('connection to server at "127.0.0.1", port 5433 failed: Connection refused\n\tIs the '
           "server running on that host and accepting TCP/IP connections?\n")
STARTING = "FATAL:  the database system is starting up\n"
TIMED_OUT = "could not receive data from server: Connection timed out\n"
HANG = "hang"


class ScriptedSession:
    """A leader lock's session that answers each call with the next answer of its script.

    An answer is True or False, an exception to raise, or HANG (no answer ever); once the
    script is done, every call answers True.
    """

    can_be_lost = True

    def __init__(self, *script) -> None:
        self.script = list(script)
        self.calls: list[str] = []

    async def try_lock(self) -> bool:
        return await self._answer("try_lock")

    async def still_held(self) -> bool:
        return await self._answer("still_held")

    async def holder(self) -> str | None:
        return "another"

    async def close(self) -> None:
        self.calls.append("close")

    async def _answer(self, call: str) -> bool:
        self.calls.append(call)
        answer = self.script.pop(0) if self.script else True
        if answer == HANG:
            await asyncio.Event().wait()
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def quick_heartbeat(monkeypatch) -> None:
    """Heartbeats every 0.1 s, a deadline and a grace of 0.5 s."""
    monkeypatch.setattr(leadership, "HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setattr(leadership, "HEARTBEAT_DEADLINE_SECONDS", 0.5)
    monkeypatch.setattr(leadership, "TAKEOVER_GRACE_SECONDS", 0.5)


async def leading_on(session: ScriptedSession, locks) -> LeaderLock:
    """A lock on session, acquired (and settled in) at its first try."""
    lock = locks("sqlite:///:memory:")
    lock._backend = session
    await asyncio.wait_for(lock.acquire(), 5)
    return lock


def down(message: str) -> peewee.OperationalError:
    return peewee.OperationalError(message)


def test_the_servers_own_words_are_told_from_silence_and_other_failures():
    assert server_down(down(REFUSED)) and server_down(down(STARTING))
    assert server_closed(down(CLOSED)) and not server_down(down(CLOSED))
    assert not server_closed(down(TIMED_OUT))
    assert not server_closed(peewee.InterfaceError("connection already closed"))
    assert not server_closed(down("terminating connection due to idle-session timeout"))


@pytest.mark.asyncio
async def test_a_leader_rides_out_a_server_down_longer_than_its_deadline_and_retakes(
        quick_heartbeat, locks, log_lines):
    # Grace's heartbeats, then the server goes away for 1.5 s (three deadlines).
    session = ScriptedSession(True, *[True] * 6, down(CLOSED), *[down(REFUSED)] * 14,
                              down(STARTING), True)
    lock = await leading_on(session, locks)
    await asyncio.sleep(3.0)
    assert not lock.lost.is_set()
    retakes = session.calls[session.calls.index("close"):]
    assert retakes[:4] == ["close", "try_lock", "close", "try_lock"]
    assert session.calls.count("try_lock") == 1 + 16  # each on a new session, till it took it
    assert session.calls[-1] == "still_held"  # and back to checking it holds it
    said = [line.split(" (")[0] for line in log_lines if f"bot {BOT}" in line]
    assert said == ["INFO This process", "WARNING The database server ended this process's "
                    "session", "INFO The database is back: this process"]


@pytest.mark.asyncio
async def test_a_riding_leader_refused_the_lock_steps_down_at_once(
        quick_heartbeat, locks, log_lines):
    session = ScriptedSession(True, *[True] * 6, down(CLOSED), down(REFUSED), False)
    lock = await leading_on(session, locks)
    await asyncio.wait_for(lock.lost.wait(), 1)
    assert session.calls[-3:] == ["try_lock", "close", "try_lock"]
    assert "another process took the lock after the database came back" in log_lines[-1]


@pytest.mark.parametrize("script", [(HANG,), (down(CLOSED), HANG),
                                    (down(CLOSED), down(REFUSED), HANG)],
                         ids=["checking", "retaking-at-once", "retaking-later"])
@pytest.mark.asyncio
async def test_silence_steps_a_leader_down_at_its_deadline_riding_or_not(
        quick_heartbeat, locks, script):
    session = ScriptedSession(True, *[True] * 6, *script)
    lock = await leading_on(session, locks)
    await asyncio.wait_for(lock.lost.wait(), 3)
    assert session.calls[-1] == ("still_held" if len(script) == 1 else "try_lock")


@pytest.mark.parametrize("error", [down(TIMED_OUT), peewee.InterfaceError("connection already "
                                                                          "closed")],
                         ids=["timed-out", "interface"])
@pytest.mark.asyncio
async def test_an_error_that_proves_no_server_down_steps_a_leader_down(
        quick_heartbeat, locks, log_lines, error):
    session = ScriptedSession(True, *[True] * 6, error)
    lock = await leading_on(session, locks)
    await asyncio.wait_for(lock.lost.wait(), 1)
    assert "try_lock" not in session.calls[1:]
    assert "its database session failed" in log_lines[-1]


@pytest.mark.asyncio
async def test_a_process_in_its_takeover_grace_rides_nothing_out(
        quick_heartbeat, locks, log_lines):
    lock = locks("sqlite:///:memory:")
    lock._backend = ScriptedSession(True, True, down(CLOSED), True, *[True] * 10)
    await asyncio.wait_for(lock.acquire(), 5)
    # The first lock was lost in the grace: it stood by and took it anew.
    assert lock._backend.calls[:4] == ["try_lock", "still_held", "still_held", "close"]
    said = [line.split(":")[0] for line in log_lines if f"bot {BOT}" in line]
    assert said == ["WARNING This process no longer leads bot 5550001", "INFO Standing by",
                    "INFO Taking over"]
