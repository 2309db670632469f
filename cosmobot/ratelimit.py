"""Placeholder for the rate limiter the lead adds on main; only the part daily sends use."""

from __future__ import annotations

from typing import Any

from telegram import Bot

BULK = {"lane": "bulk"}


def bulk_options(bot: Bot) -> dict[str, Any]:
    """Return the send options that put a send in the bulk lane, if bot has a limiter."""
    # PTB refuses rate_limit_args on a bot without a rate limiter.
    return {"rate_limit_args": BULK} if getattr(bot, "rate_limiter", None) else {}
