"""Webhook delivery: each bot's updates POSTed to the workers behind its webhook, like Telegram.

The fake cannot reach the public URL a bot registers, so a test names the workers behind it,
the way a reverse proxy would (`FakeBotApi.route_webhook`): each update goes as JSON, in a
request of its own, to the next worker in turn, at the URL's path. As the Bot API server's
delivery (tdlib/telegram-bot-api, WebhookActor) does it:
- one chat's updates (one user's, for callback and inline queries) go one at a time, in
  order; other chats' go meanwhile, on up to max_connections connections, which Telegram opens
  one at a time (one every 2 s) until an update is confirmed, then up to 10 each half second;
- a 2xx answer confirms an update. Anything else (another status, a refused or dropped
  connection, no answer in time) sends it again, to the next worker: at once the first time,
  then after 2, 4, 8... seconds (at most one to two minutes), or after the worker's
  Retry-After; getWebhookInfo keeps the error.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import threading
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass

import aiohttp

from tests.fakebotapi.delivery_pace import Connections, Retry
from tests.fakebotapi.oracle import Oracle
from tests.fakebotapi.updates import UpdateQueue, update_kind
from tests.fakebotapi.webhooks import Webhook, Webhooks

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_TIMEOUT = 60.0  # Telegram waits this long for a worker's answer
CHAT_KINDS = frozenset({"message", "edited_message", "channel_post", "edited_channel_post"})


@dataclass(frozen=True)
class Delivery:
    """One POST of an update to a worker, and how it ended."""

    worker: str  # the worker's base address, as routed
    update_id: int
    status: int | None  # the worker's HTTP status; None when none came
    error: str | None  # what getWebhookInfo says of it when it failed; None when confirmed
    sent_at: float  # time.monotonic() when it was sent
    answered_at: float  # ... and when it ended


class Deliveries:
    """Every bot's webhook delivery: routed and read from any thread, run on the server's loop."""

    def __init__(self, updates: UpdateQueue, webhooks: Webhooks, oracle: Oracle) -> None:
        self.updates, self.webhooks, self.oracle = updates, webhooks, oracle
        self.webhook_timeout = DEFAULT_TIMEOUT
        self._lock = threading.Lock()
        self._routes: dict[str, list[str]] = {}
        self._turns: dict[str, int] = {}  # token -> how many updates it has sent, for the turns
        self._records: dict[str, list[Delivery]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pushers: dict[str, _Pusher] = {}
        updates.on_push = self.wake
        webhooks.on_change = self.restart

    # ---- any thread --------------------------------------------------------------------------

    def route(self, token: str, workers: Iterable[str]) -> None:
        """Send the bot's webhook traffic to these workers in turn (none: it waits)."""
        workers = [worker.rstrip("/") for worker in workers]
        for worker in workers:
            if not worker.startswith(("http://", "https://")):
                raise ValueError(f"not a worker's address (http://HOST:PORT): {worker!r}")
        with self._lock:
            self._routes[token] = workers
        self.wake(token)

    def records(self, token: str) -> list[Delivery]:
        """The bot's deliveries so far, in the order they ended."""
        with self._lock:
            return list(self._records.get(token, []))

    def wake(self, token: str) -> None:
        """Have the bot's delivery look at its queue again."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody delivers
                loop.call_soon_threadsafe(self._wake, token)

    # ---- the server's loop -------------------------------------------------------------------

    def open(self) -> None:
        """Start delivering on the running loop (the server's), to every webhook already set."""
        self._loop = asyncio.get_running_loop()
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        for token in self.webhooks.tokens():
            self.restart(token)

    async def close(self) -> None:
        """Stop delivering: requests under way are abandoned, their updates stay pending."""
        self._loop = None
        tasks = [task for pusher in self._pushers.values() for task in pusher.stop()]
        self._pushers.clear()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def restart(self, token: str) -> None:
        """Deliver to the bot's webhook as it is now: Telegram starts afresh when it changes."""
        old = self._pushers.pop(token, None)
        if old is not None:
            old.stop()
        hook = self.webhooks.get(token)
        if hook is not None and self._session is not None:
            self._pushers[token] = _Pusher(token, hook, self)

    def workers(self, token: str) -> list[str]:
        """Where the bot's webhook traffic goes."""
        with self._lock:
            return list(self._routes.get(token, []))

    def next_worker(self, token: str, workers: list[str]) -> str:
        """The worker whose turn it is, like a round-robin load balancer."""
        with self._lock:
            turn = self._turns.get(token, 0)
            self._turns[token] = turn + 1
        return workers[turn % len(workers)]

    def record(self, token: str, delivery: Delivery) -> None:
        """Keep a delivery for the tests."""
        with self._lock:
            self._records.setdefault(token, []).append(delivery)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP client deliveries use."""
        if self._session is None:
            raise RuntimeError("delivery is not open")
        return self._session

    def _wake(self, token: str) -> None:
        pusher = self._pushers.get(token)
        if pusher is not None:
            pusher.wake()


class _Pusher:
    """Delivers one bot's updates to one webhook, until it changes or the fake stops."""

    def __init__(self, token: str, hook: Webhook, owner: Deliveries) -> None:
        self._token, self._hook, self._owner = token, hook, owner
        self._connections = Connections(hook.max_connections)
        self._sending: dict[int, asyncio.Task] = {}  # update_id -> its request
        self._retries: dict[int, Retry] = {}
        self._wakeup = asyncio.Event()
        self._task = self._watched(self._run())

    def wake(self) -> None:
        """Look at the queue again (on the loop)."""
        self._wakeup.set()

    def stop(self) -> list[asyncio.Task]:
        """Stop, abandoning requests under way; returns the tasks to await."""
        tasks = [self._task, *self._sending.values()]
        for task in tasks:
            task.cancel()
        return tasks

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            wait = self._send_ready()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), None if math.isinf(wait) else wait)

    def _send_ready(self) -> float:
        """Send every update whose turn has come; returns the seconds until one may be next."""
        workers, heads = self._owner.workers(self._token), self._heads()
        now, wait = time.monotonic(), math.inf
        for update in heads:
            update_id = update["update_id"]
            retry = self._retries.get(update_id)
            if update_id in self._sending or not workers:
                continue
            if retry is not None and retry.due > now:
                wait = min(wait, retry.due - now)
                continue
            free_in = self._connections.take(now, len(heads))
            if free_in > 0:
                return min(wait, free_in)
            worker = self._owner.next_worker(self._token, workers)
            self._sending[update_id] = self._watched(self._deliver(update, worker))
        return wait

    def _watched(self, work: Coroutine[None, None, None]) -> asyncio.Task:
        # A crash here is a bug of the fake: the test fails on it instead of waiting in vain.
        def report(task: asyncio.Task) -> None:
            if not task.cancelled() and task.exception() is not None:
                self._owner.oracle.record_crash("setWebhook", task.exception())

        task = asyncio.create_task(work)
        task.add_done_callback(report)
        return task

    def _heads(self) -> list[dict]:
        # The first pending update of each queue: only it may go, so each chat keeps its order.
        seen, heads = set(), []
        for update in self._owner.updates.pending(self._token):
            key = _queue_key(update)
            if key not in seen:
                seen.add(key)
                heads.append(update)
        return heads

    async def _deliver(self, update: dict, worker: str) -> None:
        update_id, sent_at = update["update_id"], time.monotonic()
        self._owner.oracle.check_update(update)
        status, error, retry_after, lost = await self._post(update, worker)
        now = time.monotonic()
        self._owner.record(self._token, Delivery(worker, update_id, status, error, sent_at, now))
        self._connections.give_back(now, confirmed=error is None, lost=lost)
        del self._sending[update_id]
        if error is None:
            self._retries.pop(update_id, None)
            self._owner.updates.confirm(self._token, update_id)
        else:
            self._owner.webhooks.record_error(self._token, error)
            self._retries.setdefault(update_id, Retry()).plan(now, retry_after)
        self._wakeup.set()

    async def _post(self, update: dict, worker: str) -> tuple[int | None, str | None, int, bool]:
        """POST the update: (status, error, Retry-After seconds, whether the connection is lost)."""
        target = self._hook.target
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        timeout = aiohttp.ClientTimeout(total=self._owner.webhook_timeout)
        try:
            async with self._owner.session.post(
                    worker + path, data=json.dumps(update).encode(), headers=self._headers(),
                    timeout=timeout, allow_redirects=False) as response:
                await response.read()
        except TimeoutError:
            return None, "Read timeout expired", 0, True
        except aiohttp.ClientConnectorError as exc:
            return None, _connect_error(exc), 0, True
        except aiohttp.ClientError:
            return None, "Webhook connection closed", 0, True
        if 200 <= response.status <= 299:
            return response.status, None, 0, False
        error = f"Wrong response from the webhook: {response.status} {response.reason}"
        return response.status, error, _retry_after(response), False

    def _headers(self) -> dict[str, str]:
        target = self._hook.target
        headers = {"Host": target.hostname or "", "Content-Type": "application/json",
                   "Accept-Encoding": "gzip, deflate"}
        if self._hook.secret_token:
            headers[SECRET_HEADER] = self._hook.secret_token
        userinfo = target.netloc.rpartition("@")[0]
        if userinfo:
            headers["Authorization"] = "Basic " + base64.b64encode(userinfo.encode()).decode()
        return headers


def _queue_key(update: dict) -> tuple:
    """The queue Telegram keeps an update in: its chat's, or its sender's for the other kinds."""
    kind = update_kind(update)
    payload = update[kind]
    if kind in CHAT_KINDS:
        return ("chat", payload["chat"]["id"])
    sender = payload.get("from", {}).get("id") if isinstance(payload, dict) else None
    return (kind, sender) if sender is not None else ("update", update["update_id"])


def _connect_error(exc: aiohttp.ClientConnectorError) -> str:
    errno = getattr(exc.os_error, "errno", None)
    return os.strerror(errno) if errno else "Can't connect to the webhook"


def _retry_after(response: aiohttp.ClientResponse) -> int:
    try:
        return int(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0
