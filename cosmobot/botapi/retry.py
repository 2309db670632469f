"""Retrying Bot API calls through Telegram's transient faults."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from loguru import logger
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.warnings import PTBDeprecationWarning
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

T = TypeVar("T")

MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 8.0
# A user waiting for a reply is better told to come back than kept waiting longer than this.
MAX_RETRY_AFTER_SECONDS = 60.0
# Timeouts that happen before the request leaves us: repeating them cannot send anything twice.
UNSENT_TIMEOUTS = (httpx.ConnectTimeout, httpx.PoolTimeout)


def is_transient(error: BaseException) -> bool:
    """Whether a failed call may be repeated: it did not happen, and may work later."""
    if isinstance(error, RetryAfter):
        return retry_after_seconds(error) <= MAX_RETRY_AFTER_SECONDS
    if isinstance(error, TimedOut):
        # A read timeout usually means Telegram got the request and is still working on it:
        # sending again would deliver the same photo twice.
        return isinstance(error.__cause__, UNSENT_TIMEOUTS)
    # BadRequest subclasses NetworkError in PTB, but repeating a bad request cannot help.
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


def is_unavailable(error: BaseException) -> bool:
    """Whether the error means Telegram could not be reached or did not answer in time."""
    return isinstance(error, (RetryAfter, TimedOut)) or is_transient(error)


def chat_is_gone(error: BaseException) -> bool:
    """Whether Telegram refused a send because the bot can no longer write to the chat."""
    # 403: blocked by the user, kicked from the group, the user or group deactivated.
    return isinstance(error, Forbidden) or (
        isinstance(error, BadRequest) and "chat not found" in error.message.lower())


def retry_after_seconds(error: RetryAfter) -> float:
    """Return how long Telegram asked us to wait, whichever type PTB reports it in."""
    with warnings.catch_warnings():
        # PTB 22 warns that the type will become timedelta; we accept both already.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _wait(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    if isinstance(error, RetryAfter):
        return retry_after_seconds(error)
    return min(BACKOFF_MAX_SECONDS, BACKOFF_SECONDS * 2 ** (state.attempt_number - 1))


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0
    logger.warning(
        "Telegram call failed ({}: {}); retry {} of {} in {:.1f}s",
        type(error).__name__, error, state.attempt_number, MAX_ATTEMPTS - 1, delay,
    )


async def with_retries(call: Callable[[], Awaitable[T]], wait_out_floods: bool = True) -> T:
    """Await call(), retrying 429s after retry_after and network faults with backoff.

    With wait_out_floods False a 429 is raised at once, for callers that must not hold
    anything (such as a lock others wait on) while they wait.
    """

    def should_retry(error: BaseException) -> bool:
        return is_transient(error) and (wait_out_floods or not isinstance(error, RetryAfter))

    retrying = AsyncRetrying(
        retry=retry_if_exception(should_retry),
        wait=_wait,
        stop=stop_after_attempt(MAX_ATTEMPTS),
        before_sleep=_log_retry,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity either returns or re-raises")
