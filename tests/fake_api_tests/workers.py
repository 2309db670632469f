"""Webhook workers for the fake's own tests: aiohttp servers that keep what Telegram posts them."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from tests.fakebotapi import FakeBotApi

HOOK_URL = "https://bot.example.org/hook"
SECRET = "s3cret_Token-42"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DROP = "drop"  # a planned answer: close the connection without answering
Answer = int | str | float | tuple[int, dict]


@dataclass(frozen=True)
class Received:
    """One request a worker got."""

    path: str
    headers: dict[str, str]
    update: dict
    at: float  # time.monotonic()


class Worker:
    """A webhook worker on 127.0.0.1: answers each POST with the next planned answer (200 when
    none is planned), or holds it while `hold` is clear; counts requests under way."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.under_way = self.peak = 0
        self._plan: deque[Answer] = deque()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> Worker:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        self.hold.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def answer_next(self, *answers: Answer) -> None:
        """Plan the next answers: a status, (status, headers), DROP, or seconds to wait before
        a 200."""
        self._plan.extend(answers)

    def update_ids(self) -> list[int]:
        return [received.update["update_id"] for received in self.received]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.under_way += 1
        self.peak = max(self.peak, self.under_way)
        try:
            body = await request.read()
            self.received.append(Received(request.path_qs, dict(request.headers),
                                          json.loads(body), time.monotonic()))
            await self.hold.wait()
            return await self._answer(request)
        finally:
            self.under_way -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        planned = self._plan.popleft() if self._plan else 200
        if isinstance(planned, float):
            await asyncio.sleep(planned)
            planned = 200
        if planned == DROP:
            if request.transport is not None:
                request.transport.close()
            return web.Response()
        status, headers = planned if isinstance(planned, tuple) else (planned, {})
        return web.Response(status=status, headers=headers)


class ApplicationWorker(Worker):
    """A worker that hands each update to a PTB Application after the checks PTB's own webhook
    server makes (its content type and secret token; 403 otherwise)."""

    def __init__(self, application: Application, secret_token: str) -> None:
        super().__init__()
        self.application, self.secret_token = application, secret_token

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Content-Type") != "application/json" \
                or request.headers.get(SECRET_HEADER) != self.secret_token:
            return web.Response(status=403)
        update = Update.de_json(self.received[-1].update, self.application.bot)
        await self.application.update_queue.put(update)
        return web.Response()


def refused_address() -> str:
    """The address of a port nothing listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def delivered(fake: FakeBotApi, count: int, timeout: float = 10.0) -> list:
    """Wait for `count` confirmed deliveries; returns every delivery so far."""
    await fake.await_until(
        lambda: sum(d.error is None for d in fake.deliveries()) >= count, timeout)
    return fake.deliveries()
