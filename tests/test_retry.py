"""Which Telegram faults are retried, and how long to wait."""

import datetime as dt

import httpx
import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from cosmobot.botapi.retry import is_transient, is_unavailable, retry_after_seconds


def timed_out(cause: Exception) -> TimedOut:
    error = TimedOut()
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (RetryAfter(3), True),
        (RetryAfter(3600), False),  # nobody waits an hour for a picture
        (NetworkError("Bad Gateway"), True),
        (timed_out(httpx.ConnectTimeout("connect")), True),  # never left: safe to repeat
        (timed_out(httpx.PoolTimeout("pool")), True),
        (timed_out(httpx.ReadTimeout("read")), False),  # may have been delivered already
        (BadRequest("Chat not found"), False),
        (Forbidden("bot was blocked by the user"), False),
    ],
)
def test_what_is_retried(error, transient):
    assert is_transient(error) is transient


def test_a_read_timeout_still_counts_as_telegram_unavailable():
    assert is_unavailable(timed_out(httpx.ReadTimeout("read")))
    assert not is_unavailable(BadRequest("Chat not found"))


def test_retry_after_accepts_seconds_and_timedeltas():
    assert retry_after_seconds(RetryAfter(5)) == 5.0
    assert retry_after_seconds(RetryAfter(dt.timedelta(seconds=7))) == 7.0
