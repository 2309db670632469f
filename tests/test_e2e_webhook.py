"""Three `python -m cosmobot run` webhook workers of one bot behind the fake's load balancer.

On a SQLite file and on PostgreSQL: every worker answers the updates it is given, the leader
alone registers the webhook; a worker killed leaves its share to the others (Telegram sends
an update again to the next worker), a leader killed leaves the lead to a standby, which
finds the webhook registered and leaves it alone; a process started in polling mode removes
the webhook. /healthz says 503 while a worker's database does not answer.
"""

from __future__ import annotations

import signal
import socket
from urllib.parse import urlparse

import httpx
import pytest

from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.botrunner import BotProcess, photos, texts
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FloodLimits
from tests.tcpproxy import FreezableProxy
from tests.test_leadership import through

pytestmark = pytest.mark.timeout(180)

HOOK_URL = "https://bot.example.org/tg/hook"
SECRET = "worker-secret_0123456789"
LEADS = "This process ("
TAKES_OVER = "Taking over: this process"
STANDS_BY = "Standing by"
TAKEOVER_SECONDS = 15  # the standby's 10 s, and the time it takes to log it


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """A SQLite file, or a real emptied PostgreSQL database; migrated."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    open_database(url)
    try:
        apply_migrations()
    finally:
        close_database()
    return url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def worker_env(url: str, fake_api, tmp_path, port: int | None) -> dict[str, str]:
    """A worker's environment; port None: polling mode."""
    env = {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": url,
           "COSMOBOT_ASSETS_DIR": str(make_assets(tmp_path / "assets", ("orion.jpg", "m31.png"))),
           "COSMOBOT_API_URL": fake_api.base_url, "COSMOBOT_LOG_LEVEL": "DEBUG"}
    if port is not None:
        env.update(COSMOBOT_WEBHOOK_URL=HOOK_URL, COSMOBOT_WEBHOOK_SECRET=SECRET,
                   COSMOBOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}")
    return env


class Worker:
    """A webhook worker process and its address."""

    def __init__(self, url: str, fake_api, tmp_path) -> None:
        self.port = free_port()
        self.address = f"http://127.0.0.1:{self.port}"
        self.process = BotProcess(worker_env(url, fake_api, tmp_path, self.port), tmp_path)

    def health(self) -> int | None:
        try:
            return httpx.get(f"{self.address}/healthz", timeout=5).status_code
        except httpx.TransportError:
            return None

    @property
    def output(self) -> str:
        return self.process.output


def start_workers(url: str, fake_api, tmp_path, count: int = 3) -> list[Worker]:
    workers = [Worker(url, fake_api, tmp_path) for _ in range(count)]
    for worker in workers:
        worker.process.start()
    fake_api.wait_until(lambda: all(w.health() == 200 for w in workers), timeout=60)
    fake_api.wait_until(lambda: sum(LEADS in w.output for w in workers) == 1
                        and sum(STANDS_BY in w.output for w in workers) == count - 1, timeout=30)
    fake_api.wait_until(lambda: fake_api.webhook() is not None, timeout=10)
    fake_api.route_webhook([worker.address for worker in workers])
    return workers


def leader_of(workers: list[Worker]) -> Worker:
    (leader,) = [w for w in workers if LEADS in w.output]
    return leader


def ask(fake_api, users: range, then_route: list[Worker] | None = None) -> None:
    """Each user asks for an image; wait until each has one.

    then_route: once an update was refused, the workers the proxy routes to from then on,
    as its health check would take a dead one out (or Telegram's growing pauses between
    tries of an update that keeps meeting dead workers would outlast the test).
    """
    pushed = {fake_api.push_text(user, "/cosmic")["update_id"]: user for user in users}
    if then_route is not None:
        fake_api.wait_until(lambda: any(d.error for d in fake_api.deliveries()
                                        if d.update_id in pushed), timeout=30)
        fake_api.route_webhook([worker.address for worker in then_route])
    try:
        fake_api.wait_until(lambda: all(photos(fake_api, user) for user in users), timeout=30)
    except AssertionError:
        tried = [(pushed[d.update_id], d.worker, d.status, d.error) for d in fake_api.deliveries()
                 if d.update_id in pushed and not photos(fake_api, pushed[d.update_id])]
        raise AssertionError(f"unanswered: {tried}") from None


def answered_by(fake_api) -> set[str]:
    return {d.worker for d in fake_api.deliveries() if d.status == 200}


def registrations(fake_api) -> list[dict]:
    return [c.params for c in fake_api.calls("setWebhook") if c.status == 200]


def test_workers_share_the_updates_and_one_leader_registers_once(
        fake_api, database_url, tmp_path):
    workers = start_workers(database_url, fake_api, tmp_path)
    try:
        leader = leader_of(workers)
        hook = fake_api.webhook()
        assert (hook["url"], hook["secret_token"]) == (HOOK_URL, SECRET)
        ask(fake_api, range(100, 109))
        assert answered_by(fake_api) == {w.address for w in workers}

        # A standby dies: its share goes to the others.
        killed = next(w for w in workers if w is not leader)
        killed.process.process.send_signal(signal.SIGKILL)
        killed.process.wait()
        ask(fake_api, range(200, 209), [w for w in workers if w is not killed])
        refused = {d.update_id for d in fake_api.deliveries()
                   if d.worker == killed.address and d.error}
        confirmed = {d.update_id for d in fake_api.deliveries()
                     if d.worker != killed.address and d.status == 200}
        assert refused and refused <= confirmed

        # The leader dies: the last worker takes over, finds the webhook registered.
        leader.process.process.send_signal(signal.SIGKILL)
        leader.process.wait()
        (last,) = [w for w in workers if w not in (leader, killed)]
        fake_api.wait_until(lambda: TAKES_OVER in last.output, timeout=TAKEOVER_SECONDS)
        ask(fake_api, range(300, 306), [last])
        fake_api.wait_until(lambda: "registered with Telegram already" in last.output, timeout=10)
        assert last.health() == 200
    finally:
        statuses = [w.process.stop() for w in workers]
    assert len(registrations(fake_api)) == 1
    assert "Registered the webhook" in leader.output
    assert "Registered the webhook" not in last.output + killed.output
    # A standby asks Telegram nothing about the webhook (each process logs its calls at DEBUG).
    before_the_lead = last.output.split(TAKES_OVER, 1)[0]
    for standby_output in (killed.output, before_the_lead):
        assert "getWebhookInfo" not in standby_output and "setWebhook" not in standby_output
    assert "getWebhookInfo" in leader.output
    # Every user got one photo, whichever worker got the update and however often it came.
    for user in (*range(100, 109), *range(200, 209), *range(300, 306)):
        assert len(photos(fake_api, user)) == 1
    assert statuses[workers.index(last)] == 0, last.output
    assert not fake_api.calls("getUpdates") and not fake_api.calls("deleteWebhook")
    # At DEBUG the library logs setWebhook's parameters: the secret among them is masked.
    assert "secret_token" in leader.output
    assert SECRET not in "".join(w.output for w in workers)


def test_workers_together_keep_telegrams_flood_limits(fake_api, database_url, tmp_path):
    workers = start_workers(database_url, fake_api, tmp_path)
    fake_api.flood_limits = limits = FloodLimits()
    users = range(500, 590)  # three seconds of Telegram's 30 a second, asked within one
    try:
        for user in users:
            fake_api.push_text(user, "/help")
        fake_api.wait_until(lambda: all(texts(fake_api, user) for user in users), timeout=60)
    finally:
        for worker in workers:
            worker.process.stop()
    assert answered_by(fake_api) == {w.address for w in workers}
    assert limits.refused == 0
    assert all(len(texts(fake_api, user)) == 1 for user in users)


def test_a_process_in_polling_mode_removes_the_webhook(fake_api, database_url, tmp_path):
    workers = start_workers(database_url, fake_api, tmp_path, count=2)
    for worker in workers:
        assert worker.process.stop() == 0
    poller = BotProcess(worker_env(database_url, fake_api, tmp_path, None), tmp_path).start()
    try:
        fake_api.wait_until(lambda: fake_api.webhook() is None, timeout=30)
        fake_api.push_text(400, "/help")
        fake_api.wait_until(lambda: texts(fake_api, 400), timeout=15)
    finally:
        assert poller.stop() == 0, poller.output
    assert fake_api.calls("getUpdates")
    assert len(registrations(fake_api)) == 1


def test_healthz_is_503_while_the_database_does_not_answer(fake_api, postgres_url, tmp_path):
    address = urlparse(postgres_url)
    proxy = FreezableProxy((address.hostname, address.port or 5432))
    try:
        (worker,) = start_workers(through(postgres_url, proxy.port), fake_api, tmp_path, 1)
        try:
            proxy.frozen.set()
            fake_api.wait_until(lambda: worker.health() == 503, timeout=10)
            proxy.frozen.clear()
            fake_api.wait_until(lambda: worker.health() == 200, timeout=30)
        finally:
            worker.process.stop()
    finally:
        proxy.close()
