"""The fake posts updates to webhook workers like Telegram: in turn, in order, again on failure."""

import asyncio
import itertools
import time

import httpx
import pytest
import pytest_asyncio
from telegram.ext import Application, CommandHandler

from tests.fake_api_tests.client import TOKEN, raw
from tests.fake_api_tests.workers import (
    DROP,
    HOOK_URL,
    SECRET,
    SECRET_HEADER,
    ApplicationWorker,
    Worker,
    delivered,
    refused_address,
)
from tests.fakebotapi import FakeBotApi, delivery
from tests.fakebotapi.oracle import Oracle

pytestmark = pytest.mark.timeout(60)

WRONG_500 = "Wrong response from the webhook: 500 Internal Server Error"


@pytest_asyncio.fixture
async def workers():
    """Three webhook workers, as behind a load balancer."""
    started = [await Worker().start() for _ in range(3)]
    yield started
    for worker in started:
        await worker.stop()


async def hook(fake: FakeBotApi, routed: list, **params) -> None:
    """Set the webhook, and route its traffic to these workers (or addresses)."""
    response = await raw(fake, "setWebhook", data={"url": HOOK_URL, **params})
    assert response.json()["ok"] is True, response.json()
    fake.route_webhook([getattr(worker, "url", worker) for worker in routed])


async def webhook_info(fake: FakeBotApi) -> dict:
    return (await raw(fake, "getWebhookInfo")).json()["result"]


def ended(fake: FakeBotApi) -> list[tuple]:
    return [(d.worker, d.update_id, d.status, d.error) for d in fake.deliveries()]


def concurrency(fake: FakeBotApi) -> int:
    """The most deliveries that were under way at once."""
    edges = sorted(itertools.chain.from_iterable(
        ((d.sent_at, 1), (d.answered_at, -1)) for d in fake.deliveries()),
        key=lambda edge: (edge[0], edge[1]))
    return max(itertools.accumulate(step for _, step in edges), default=0)


# ---- what a worker gets -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_updates_go_to_the_workers_in_turn_with_the_secret_header(fake_api, workers):
    await hook(fake_api, workers, secret_token=SECRET)
    pushed = [fake_api.push_text(chat, f"/cosmic {chat}") for chat in range(1, 7)]
    await delivered(fake_api, 6)
    ids = [update["update_id"] for update in pushed]
    assert [sorted(worker.update_ids()) for worker in workers] == [
        [ids[0], ids[3]], [ids[1], ids[4]], [ids[2], ids[5]]]
    by_id = {d.update_id: d.worker for d in fake_api.deliveries()}
    assert [by_id[i] for i in ids] == [worker.url for worker in workers] * 2
    received = {r.update["update_id"]: r for worker in workers for r in worker.received}
    assert [received[i].update for i in ids] == pushed
    for request in received.values():
        assert request.path == "/hook" and request.headers[SECRET_HEADER] == SECRET
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Host"] == "bot.example.org"
    assert (await webhook_info(fake_api))["pending_update_count"] == 0


@pytest.mark.asyncio
async def test_without_a_secret_there_is_no_secret_header(fake_api, workers):
    url = "https://bot.example.org:8443/hooks/cosmo?key=1"
    await hook(fake_api, workers[:1], url=url)
    fake_api.push_text(5, "/start")
    await delivered(fake_api, 1)
    (request,) = workers[0].received
    assert request.path == "/hooks/cosmo?key=1" and SECRET_HEADER not in request.headers


@pytest.mark.asyncio
async def test_only_the_kinds_the_bot_asked_for_are_delivered(fake_api, workers):
    await hook(fake_api, workers, allowed_updates='["callback_query"]')
    fake_api.push_text(5, "/start")
    pressed = fake_api.push_callback(5, "more")
    await delivered(fake_api, 1)
    assert [d.update_id for d in fake_api.deliveries()] == [pressed["update_id"]]
    assert (await webhook_info(fake_api))["pending_update_count"] == 0


@pytest.mark.asyncio
async def test_updates_wait_until_the_webhook_is_routed(fake_api, workers):
    await hook(fake_api, [])
    fake_api.push_text(5, "/start")
    fake_api.push_text(6, "/help")
    await asyncio.sleep(0.3)
    assert fake_api.deliveries() == [] and (await webhook_info(fake_api))[
        "pending_update_count"] == 2
    fake_api.route_webhook([workers[0].url])
    await delivered(fake_api, 2)
    assert len(workers[0].received) == 2


# ---- failures, and the order that survives them ----------------------------------------------


@pytest.mark.asyncio
async def test_an_update_answered_with_500_goes_again_to_the_next_worker(fake_api, workers):
    workers[0].answer_next(500)
    await hook(fake_api, workers)
    update_id = fake_api.push_text(5, "/cosmic")["update_id"]
    await delivered(fake_api, 1)
    assert ended(fake_api) == [
        (workers[0].url, update_id, 500, WRONG_500), (workers[1].url, update_id, 200, None)]
    info = await webhook_info(fake_api)
    assert info["last_error_message"] == WRONG_500
    assert abs(info["last_error_date"] - time.time()) < 60 and info["pending_update_count"] == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(("answer", "error"), [
    (None, "Connection refused"),
    (DROP, "Webhook connection closed"),
    (2.0, "Read timeout expired"),
])
async def test_an_update_whose_connection_failed_goes_again(fake_api, workers, answer, error):
    first = refused_address() if answer is None else workers[2].url
    if answer is not None:
        workers[2].answer_next(answer)
    fake_api.webhook_timeout = 0.5
    await hook(fake_api, [first, workers[0].url])
    update_id = fake_api.push_text(5, "/cosmic")["update_id"]
    await delivered(fake_api, 1)
    assert ended(fake_api) == [(first, update_id, None, error),
                               (workers[0].url, update_id, 200, None)]
    assert (await webhook_info(fake_api))["last_error_message"] == error
    # The connection is gone, and with no update confirmed yet Telegram opens one every 2 s.
    lost, again = fake_api.deliveries()
    assert again.sent_at - lost.sent_at >= 1.9


@pytest.mark.asyncio
async def test_a_chat_keeps_its_order_while_other_chats_go_on(fake_api, workers):
    workers[0].answer_next((503, {"Retry-After": "2"}))
    await hook(fake_api, workers)
    first = fake_api.push_text(1, "/cosmic")["update_id"]
    second = fake_api.push_text(1, "/help")["update_id"]
    other_chat = fake_api.push_text(2, "/start")["update_id"]
    await delivered(fake_api, 3)
    sent = {(d.update_id, d.status): d for d in fake_api.deliveries()}
    assert set(sent) == {(first, 503), (first, 200), (second, 200), (other_chat, 200)}
    assert sent[(first, 200)].sent_at - sent[(first, 503)].answered_at >= 2.0  # Retry-After
    assert sent[(other_chat, 200)].answered_at < sent[(first, 200)].sent_at
    assert sent[(second, 200)].sent_at >= sent[(first, 200)].answered_at


@pytest.mark.asyncio
async def test_the_first_retry_is_at_once_the_next_after_2_seconds(fake_api, workers):
    workers[0].answer_next(500, 500)
    await hook(fake_api, workers[:1])
    fake_api.push_text(5, "/cosmic")
    await delivered(fake_api, 1)
    first, second, third = fake_api.deliveries()
    assert [first.status, second.status, third.status] == [500, 500, 200]
    assert second.sent_at - first.answered_at < 1.5
    assert third.sent_at - second.answered_at >= 2.0


# ---- connections ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(("asked", "cap"), [({"max_connections": "3"}, 3), ({}, 40)])
async def test_at_most_max_connections_updates_are_under_way(fake_api, workers, asked, cap):
    await hook(fake_api, workers, **asked)
    fake_api.push_text(1, "/start")
    await delivered(fake_api, 1)  # a confirmed update lets Telegram open more connections
    for worker in workers:
        worker.hold.clear()
    for chat in range(100, 100 + cap + 10):
        fake_api.push_text(chat, "/cosmic")
    await fake_api.await_until(lambda: sum(w.under_way for w in workers) >= cap)
    await asyncio.sleep(0.6)  # time enough to open 10 more connections, were it allowed
    assert sum(w.under_way for w in workers) == cap
    for worker in workers:
        worker.hold.set()
    await delivered(fake_api, cap + 11)
    assert concurrency(fake_api) == cap


@pytest.mark.asyncio
async def test_until_an_update_is_confirmed_one_goes_at_a_time(fake_api, workers):
    await hook(fake_api, workers)
    for worker in workers:
        worker.hold.clear()
    for chat in range(1, 6):
        fake_api.push_text(chat, "/cosmic")
    await fake_api.await_until(lambda: sum(w.under_way for w in workers) == 1)
    await asyncio.sleep(2.5)  # longer than Telegram waits between new connections
    assert sum(w.under_way for w in workers) == 1
    for worker in workers:
        worker.hold.set()
    await delivered(fake_api, 5)


@pytest.mark.asyncio
async def test_deleting_the_webhook_stops_delivery_and_keeps_the_updates(fake_api, workers):
    await hook(fake_api, workers[:1])
    workers[0].hold.clear()
    fake_api.push_text(5, "/cosmic")
    await fake_api.await_until(lambda: workers[0].under_way == 1)
    await raw(fake_api, "deleteWebhook")
    fake_api.push_text(6, "/help")
    workers[0].hold.set()
    await asyncio.sleep(0.3)
    assert fake_api.deliveries() == [] and len(workers[0].received) == 1
    polled = (await raw(fake_api, "getUpdates", data={"timeout": "0"})).json()["result"]
    assert [u["message"]["text"] for u in polled] == ["/cosmic", "/help"]


# ---- a real Application behind the webhook -------------------------------------------------------


async def greet(update, context) -> None:
    await update.message.reply_text(f"Hello {update.effective_user.first_name}")


@pytest.mark.asyncio
async def test_applications_behind_the_webhook_answer_each_user_once(fake_api):
    apps = [Application.builder().token(TOKEN).base_url(fake_api.base_url).updater(None).build()
            for _ in range(2)]
    for app in apps:
        app.add_handler(CommandHandler("start", greet))
    stale = ApplicationWorker(apps[0], "an-old-secret")  # a worker that missed the new secret
    routed = [await w.start() for w in (stale, *(ApplicationWorker(a, SECRET) for a in apps))]
    try:
        async with apps[0], apps[1]:
            for app in apps:
                await app.start()
            await hook(fake_api, routed, secret_token=SECRET)
            users = range(1, 7)
            for user in users:
                fake_api.push_text(user, "/start", first_name=f"User{user}")
            await fake_api.await_until(lambda: all(fake_api.sent_to(user) for user in users))
            for app in apps:
                await app.stop()
    finally:
        for worker in routed:
            await worker.stop()
    assert [[m["text"] for m in fake_api.sent_to(u)] for u in users] == [
        [f"Hello User{user}"] for user in users]
    refused = [d for d in fake_api.deliveries() if d.worker == stale.url]
    assert refused and {d.error for d in refused} == {
        "Wrong response from the webhook: 403 Forbidden"}
    assert {d.worker for d in fake_api.deliveries() if d.status == 200} == {
        routed[1].url, routed[2].url}


# ---- the fake's own failures ---------------------------------------------------------------------


def test_a_crash_of_the_delivery_fails_the_test_instead_of_a_wait(monkeypatch):
    def broken(update: dict) -> tuple:
        raise KeyError("chat")

    monkeypatch.setattr(delivery, "_queue_key", broken)
    with pytest.raises(AssertionError, match="webhook delivery crashed") as caught:
        with FakeBotApi([TOKEN]) as fake:
            httpx.post(f"{fake.base_url}{TOKEN}/setWebhook", data={"url": HOOK_URL})
            fake.push_text(5, "/start")
            fake.wait_until(fake.violations)
    assert "setWebhook delivery: (the fake) = KeyError('chat')" in str(caught.value)


def test_each_update_posted_is_checked_by_the_oracle(monkeypatch):
    checked = []
    monkeypatch.setattr(Oracle, "check_update", lambda self, update: checked.append(update))
    with FakeBotApi([TOKEN]) as fake:
        httpx.post(f"{fake.base_url}{TOKEN}/setWebhook", data={"url": HOOK_URL})
        fake.route_webhook([refused_address()])
        pushed = fake.push_text(5, "/start")
        fake.wait_until(lambda: len(fake.deliveries()) >= 2)
    assert checked[:2] == [pushed, pushed]


def test_the_oracle_refuses_an_update_telegram_would_never_post():
    oracle = Oracle()
    oracle.check_update({"update_id": 1, "message": {"message_id": 1, "text": "no chat, no date"}})
    assert {(v.method, v.part) for v in oracle.violations()} == {("setWebhook", "update")}
    assert {v.field for v in oracle.violations()} >= {"update.message.chat", "update.message.date"}
