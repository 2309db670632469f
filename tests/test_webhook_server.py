"""The webhook worker's server: updates with the right secret on the URL's path, /healthz."""

from __future__ import annotations

import asyncio
import hmac
import json
import socket
from urllib.parse import urlparse

import aiohttp
import pytest
import pytest_asyncio
from telegram.ext import Application

from cosmobot.bot import webhook as webhook_server
from cosmobot.bot.webhook import SECRET_HEADER, DatabaseProbe, WebhookServer
from cosmobot.config import WebhookSettings
from cosmobot.storage.database import close_database, open_database
from tests.factories import TOKEN
from tests.tcpproxy import FreezableProxy
from tests.test_leadership import through

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

SECRET = "s3cret_Token-42"
UPDATE = {"update_id": 7, "message": {"message_id": 1, "date": 1_700_000_000, "text": "/cosmic",
                                      "chat": {"id": 5, "type": "private"}}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Health:
    """A health check the test sets."""

    def __init__(self) -> None:
        self.answer = True

    async def __call__(self) -> bool:
        return self.answer


@pytest_asyncio.fixture
async def worker():
    """A server in front of an Application with no Updater, as in webhook mode."""
    application = Application.builder().token(TOKEN).updater(None).build()
    settings = WebhookSettings(url="https://bot.example.org:8443/hooks/cosmo?key=1",
                               secret=SECRET, port=free_port())
    server = WebhookServer(application, settings, is_healthy=Health())
    await server.start()
    async with aiohttp.ClientSession(f"http://127.0.0.1:{settings.port}") as client:
        yield server, client
    await server.stop()


async def post(client, body, secret: str | None = SECRET, path: str = "/hooks/cosmo"):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    data = body if isinstance(body, str) else json.dumps(body)
    async with client.post(path, data=data, headers=headers) as response:
        return response.status


def queued(server: WebhookServer) -> list:
    queue = server.application.update_queue
    return [queue.get_nowait() for _ in range(queue.qsize())]


async def test_an_update_with_the_secret_is_queued_and_answered_at_once(worker):
    server, client = worker
    assert await post(client, UPDATE) == 200
    (update,) = queued(server)
    assert update.update_id == 7 and update.message.text == "/cosmic"
    assert update.get_bot() is server.application.bot


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-000", SECRET[:-1], SECRET + "x",
                                    SECRET.upper(), "s3cret_Token-4\u00e9"])
async def test_a_request_without_the_right_secret_is_refused_and_not_handled(worker, secret):
    server, client = worker
    assert await post(client, UPDATE, secret) == 403
    assert queued(server) == []


async def test_the_secret_is_compared_in_constant_time(worker, monkeypatch):
    compared, constant_time = [], hmac.compare_digest

    def compare_digest(given, expected) -> bool:
        compared.append((given, expected))
        return constant_time(given, expected)

    # A comparison that stops at the first wrong character tells a guesser how much matched.
    monkeypatch.setattr(webhook_server.hmac, "compare_digest", compare_digest)
    server, client = worker
    assert await post(client, UPDATE, "wrong") == 403
    assert await post(client, UPDATE) == 200
    assert compared == [(b"wrong", SECRET.encode()), (SECRET.encode(), SECRET.encode())]


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "null", json.dumps({"text": "hi"})])
async def test_a_body_that_is_no_update_is_a_bad_request(worker, body):
    server, client = worker
    assert await post(client, body) == 400
    assert queued(server) == []


async def test_only_the_urls_path_takes_updates(worker):
    server, client = worker
    for path in ("/", "/hook", "/hooks/cosmo/x", "/healthz"):
        assert await post(client, UPDATE, path=path) in (404, 405)
    async with client.get("/hooks/cosmo") as response:
        assert response.status == 405
    assert queued(server) == []


async def test_healthz_says_whether_the_worker_can_serve(worker):
    server, client = worker
    async with client.get("/healthz") as response:
        assert (response.status, await response.text()) == (200, "ok\n")
    server.is_healthy.answer = False
    async with client.get("/healthz") as response:
        assert response.status == 503


async def test_a_worker_that_cannot_listen_says_which_variable(worker):
    server, _ = worker
    taken = WebhookServer(server.application, server.webhook)
    with pytest.raises(Exception, match="COSMOBOT_WEBHOOK_LISTEN") as caught:
        await taken.start()
    assert str(server.webhook.port) in str(caught.value)
    await taken.stop()


# ---- the database probe -----------------------------------------------------------------------


async def test_the_probe_answers_while_the_database_does(db):
    assert await DatabaseProbe()() is True


async def test_a_silent_database_fails_the_probe_in_time_until_it_answers_again(
        postgres_url, monkeypatch):
    reads = []
    real_select = webhook_server._select_one
    monkeypatch.setattr(webhook_server, "_select_one", lambda: (reads.append(1), real_select()))
    address = urlparse(postgres_url)
    proxy = FreezableProxy((address.hostname, address.port or 5432))
    open_database(through(postgres_url, proxy.port))
    try:
        probe = DatabaseProbe(timeout=0.5)
        assert await probe() is True
        proxy.frozen.set()  # no answer, no error: a network gone quiet
        await asyncio.sleep(0.2)  # reads the proxy was already waiting on are done with
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert await asyncio.gather(probe(), probe(), probe()) == [False] * 3
        assert loop.time() - began < 2
        assert await probe() is False
        assert len(reads) == 2  # the stuck read is not repeated while it waits
        proxy.frozen.clear()  # the network is back: the read goes through
        await asyncio.wait_for(asyncio.shield(probe._reading), 5)
        assert await probe() is True
    finally:
        proxy.close()
        close_database()
