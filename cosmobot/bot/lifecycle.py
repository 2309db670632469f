"""The process's life: start, lead the bot whenever this process holds its lock, stop.

In the order PTB's `run_polling` keeps, with leadership in the middle: initialize (retried on
network errors) and post_init; start (update processing, the jobs every process runs); in
webhook mode, serve the webhook (every process, leader or not); then, until a stop signal,
`stop_running()` or `loop.stop()`: wait for the leader lock, take the leader's duties, and give
them back (polling first) if the lock is lost, then stand by again. Stopping closes the webhook
server first, gives the duties back, releases the lock so a standby takes over at once, then
stops the Application: post_stop, shutdown, post_shutdown.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Sequence
from typing import NoReturn

from loguru import logger
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from cosmobot.bot.duties import BOOTSTRAP_RETRIES, give_up_duties, take_duties
from cosmobot.bot.webhook import WebhookServer
from cosmobot.botapi.polling import PollingRequest
from cosmobot.botapi.retry import retry_after_seconds
from cosmobot.schedule.jobs import LEADING
from cosmobot.storage.leadership import LeaderLock

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# bot_data key of the PollingRequest, which knows whether Telegram refused the token.
POLLING = "polling_request"
INITIALIZE_RETRY_SECONDS = 1.0


def run_application(
    application: Application,
    stop_signals: Sequence[int] | None = STOP_SIGNALS,
    loop: asyncio.AbstractEventLoop | None = None,
) -> None:
    """Run the bot until a stop signal or stop_running(); blocks until then.

    The event loop (a new one unless given) is closed on return.
    """
    loop = loop or asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    for stop_signal in stop_signals or ():
        loop.add_signal_handler(stop_signal, _stop_on_signal)
    life = Life(application)
    try:
        loop.run_until_complete(life.start())
        loop.run_forever()
    except (KeyboardInterrupt, SystemExit):
        logger.debug("Stop signal received; stopping")
    finally:
        try:
            loop.run_until_complete(life.stop())
        finally:
            loop.close()
    life.raise_failure()


async def _initialize(application: Application) -> None:
    """Initialize the Application (getMe), trying again on network errors, as PTB does."""
    for attempt in range(BOOTSTRAP_RETRIES + 1):
        try:
            await application.initialize()
            return
        except InvalidToken:
            raise
        except TelegramError as error:
            if attempt == BOOTSTRAP_RETRIES:
                raise
            logger.debug("Initializing failed ({}); trying again", error)
            await asyncio.sleep(retry_after_seconds(error) if isinstance(error, RetryAfter)
                                else INITIALIZE_RETRY_SECONDS)


def _stop_on_signal() -> NoReturn:
    # Raised out of the running loop, as PTB's own handler does.
    raise SystemExit


class Life:
    """One run of the Application, and its leadership while it runs."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.lock: LeaderLock | None = None
        self.server: WebhookServer | None = None
        self._leading: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Initialize, post_init and start the Application, then seek the lead."""
        application = self.application
        await _initialize(application)
        if application.post_init:
            await application.post_init(application)
        await application.start()
        settings = application.bot_data["settings"]
        if settings.webhook is not None:
            # Every worker serves, leader or not: the proxy sends each its share of updates.
            self.server = WebhookServer(application, settings.webhook)
            await self.server.start()
        self.lock = LeaderLock(settings.database_url, application.bot.id)
        self._leading = asyncio.create_task(self._lead(), name="leadership")
        self._leading.add_done_callback(self._end_on_failure)

    def _end_on_failure(self, leading: asyncio.Task) -> None:
        # Taking the lead failed (Telegram refused the token, or could not be reached): the
        # run ends, and says why (raise_failure).
        if not self._stopping.is_set() and not leading.cancelled() and leading.exception():
            asyncio.get_running_loop().stop()

    async def _lead(self) -> None:
        """Lead whenever the lock is held, until the run stops."""
        while await self._unless_stopping(self.lock.acquire()):
            await take_duties(self.application)
            if not await self._unless_stopping(self.lock.lost.wait()):
                return  # stop() gives the duties back
            await give_up_duties(self.application)
            await self.lock.release()
            logger.warning("Gave up bot {}'s duties; standing by to lead it again",
                           self.application.bot.id)

    async def _unless_stopping(self, waiting: Awaitable) -> bool:
        """Wait for waiting; False (and waiting cancelled) if the run stops first."""
        task = asyncio.ensure_future(waiting)
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait((task, stopping), return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if self._stopping.is_set():  # even if waiting ended too: a stopping run takes no lead
            task.cancel()
            return False
        task.result()
        return True

    async def stop(self) -> None:
        """Give the duties back, release the lock, then stop and shut the Application down."""
        application = self.application
        self._stopping.set()
        if self.server is not None:
            # First: the proxy sends the next updates to the other workers.
            await self.server.stop()
        if self._leading is not None:
            await asyncio.wait([self._leading])
        if application.bot_data.get(LEADING):
            await give_up_duties(application)
        if self.lock is not None:
            await self.lock.release()
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)

    def raise_failure(self) -> None:
        """Raise what ended the run, if it was not a stop: a leadership failure, a refused token."""
        if self._leading is not None and not self._leading.cancelled():
            error = self._leading.exception()
            if error is not None:
                raise error
        polling: PollingRequest | None = self.application.bot_data.get(POLLING)
        if polling is not None and polling.token_rejected:
            # Polling may stop quietly on it: only the poll itself saw the token refused.
            raise InvalidToken("Telegram rejected the bot token while polling")
