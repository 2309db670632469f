"""Watching the long poll: one log line per outage or conflict, and the end of polling on a
revoked token."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from loguru import logger
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

# Telegram's answers to a token it does not know (revoked, or never issued).
TOKEN_REJECTED = (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)


class PollingRequest(HTTPXRequest):
    """The connection getUpdates uses, noting how each poll went.

    PTB retries failed polls forever, with growing pauses, and hands each failure to the error
    handlers; this sees every poll, so it can tell an outage's start and end, another poller's
    409s, and a rejected token, as they happen.
    """

    def __init__(self, on_token_rejected: Callable[[], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_token_rejected = on_token_rejected
        self.token_rejected = False
        self.failed_polls = 0
        self.refused_polls = 0

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        """Make the request, noting a failure, a recovery or a rejected token."""
        try:
            code, payload = await super().do_request(*args, **kwargs)
        except NetworkError as error:  # TimedOut included: no answer at all
            self._failed(str(error) or type(error).__name__)
            raise
        if code in TOKEN_REJECTED:
            self._rejected()
        elif code == HTTPStatus.CONFLICT:
            self._refused()
        elif code >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self._failed(f"HTTP {code}")
        elif code == HTTPStatus.OK:
            self._succeeded()
        return code, payload

    def _failed(self, reason: str) -> None:
        self.failed_polls += 1
        if self.failed_polls == 1:
            logger.warning("Lost the connection to Telegram while polling ({}); retrying", reason)

    def _refused(self) -> None:
        # The processes of one bot on one database poll one at a time (the leader lock), so
        # this is a poller the database does not know of: another copy elsewhere, any program.
        self.refused_polls += 1
        if self.refused_polls == 1:
            logger.warning(
                "Another process is already polling Telegram with this bot token (409 Conflict), "
                "one that does not share this database; Telegram gives each update to one "
                "poller only. This process keeps trying: stop the other one"
            )

    def _succeeded(self) -> None:
        if self.failed_polls:
            logger.info("Polling Telegram works again after {} failed polls", self.failed_polls)
        if self.refused_polls:
            logger.info("Polling Telegram works again: the other poller is gone after {} "
                        "refused polls", self.refused_polls)
        self.failed_polls = self.refused_polls = 0
        self.refused_polls = 0

    def _rejected(self) -> None:
        # PTB ends polling on a rejected token but keeps the process idling: stop it instead.
        self.token_rejected = True
        if self.on_token_rejected is not None:
            self.on_token_rejected()
