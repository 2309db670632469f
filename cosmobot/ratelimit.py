"""Placeholder for the two-lane rate limiter, with the agreed interface only.

The real limiter (a lane for replies ahead of the bulk lane, per-chat pacing) replaces this
module; until then every request goes out at once.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Bot
from telegram.ext import BaseRateLimiter

# rate_limit_args of a send that belongs to a daily round or to the cache warm-up.
BULK = "bulk"


class PassThroughLimiter(BaseRateLimiter[str]):
    """Sends every request at once."""

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Any:
        return await callback(*args, **kwargs)


def build_rate_limiter() -> BaseRateLimiter:
    """Return a fresh limiter for a bot built outside the Application."""
    return PassThroughLimiter()


def bulk_options(bot: Bot) -> dict[str, Any]:
    """Keyword arguments that put a send on the bulk lane, if bot has a rate limiter."""
    # PTB refuses rate_limit_args on a bot without a limiter.
    return {"rate_limit_args": BULK} if getattr(bot, "rate_limiter", None) else {}
