"""The webhook worker's HTTP server: Telegram's updates in, and a health check for the proxy.

Not PTB's `Updater.start_webhook`: it calls setWebhook every time it starts (every worker
would, where only the leader may, and without `webhook_url` it registers
http://listen:port/path, which Telegram refuses) and serves no path but the webhook's, so no
/healthz. Workers follow PTB's documented custom-webhook pattern instead
(examples/customwebhookbot.py): the Application is built without an Updater, and this server
puts each update on `application.update_queue`.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from loguru import logger
from telegram import Update
from telegram.ext import Application

from cosmobot.config import WEBHOOK_LISTEN, ConfigError, WebhookSettings
from cosmobot.storage.database import database, read_in_db_thread

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
# A database that does not answer a trivial read this fast cannot serve a user either.
HEALTH_TIMEOUT_SECONDS = 2.0

HealthCheck = Callable[[], Awaitable[bool]]


class DatabaseProbe:
    """Whether the database answers a quick read; checks that come at once share one read."""

    def __init__(self, timeout: float = HEALTH_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._reading: asyncio.Future | None = None

    async def __call__(self) -> bool:
        # One read at a time: a proxy asking every second must not fill every reader thread
        # with reads stuck on a database that went silent.
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(read_in_db_thread(_select_one))
            self._reading.add_done_callback(_note_failure)
        try:
            await asyncio.wait_for(asyncio.shield(self._reading), self.timeout)
        except Exception:  # noqa: BLE001 -- whatever the failure, the worker cannot serve
            return False
        return True


def _select_one() -> None:
    database.execute_sql("SELECT 1").fetchone()


def _note_failure(reading: asyncio.Future) -> None:
    if not reading.cancelled() and reading.exception() is not None:
        logger.debug("Health check: the database did not answer: {}", reading.exception())


class WebhookServer:
    """Serves the webhook URL's path (updates) and /healthz on the listen address."""

    def __init__(self, application: Application, webhook: WebhookSettings,
                 is_healthy: HealthCheck | None = None) -> None:
        self.application, self.webhook = application, webhook
        self.is_healthy = is_healthy or DatabaseProbe()
        self._secret = webhook.secret.encode()
        app = web.Application()
        app.router.add_post(webhook.path, self._take_update)
        app.router.add_get(HEALTH_PATH, self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    async def start(self) -> None:
        """Listen on the webhook's listen address."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.webhook.host, self.webhook.port)
        try:
            await site.start()
        except OSError as error:
            raise ConfigError(
                f"{WEBHOOK_LISTEN}: cannot listen on {self.webhook.listen}: {error.strerror}"
            ) from None
        logger.info("Serving the webhook {} and {} on {}", self.webhook.path, HEALTH_PATH,
                    self.webhook.listen)

    async def stop(self) -> None:
        """Stop listening; requests under way get their answer first."""
        await self._runner.cleanup()

    async def _take_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        # In constant time: how much of a guess matched must not show in the answer's timing.
        if not hmac.compare_digest(given, self._secret):
            logger.debug("Refused a webhook request without the right secret token")
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except Exception:  # noqa: BLE001 -- not JSON, or JSON that is no update
            return web.json_response({"error": "not a Telegram update"}, status=400)
        await self.application.update_queue.put(update)
        # At once: Telegram waits for this answer before it sends this chat's next update.
        return web.Response()

    async def _health(self, request: web.Request) -> web.Response:
        if await self.is_healthy():
            return web.Response(text="ok\n")
        return web.Response(status=503, text="database unreachable\n")
