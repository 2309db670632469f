"""Timing a long-polling bot from outside: from an update pushed to the call that answers it."""

from __future__ import annotations

import time

from tests.fakebotapi import Call, FakeBotApi

# How long past the fake's delay of a new getUpdates it surely holds the poll.
HELD_MARGIN_SECONDS = 0.005
POLL_SECONDS = 0.005


def wait_for_held_poll(api: FakeBotApi, token: str, rtt: float, timeout: float = 30.0) -> None:
    """Block until the bot's latest getUpdates waits in the fake, so an update reaches it at once.

    The fake delays every call by the round trip before it handles it: an update pushed while
    the bot's next poll is in that delay would wait out the rest of it, which is not the bot's
    doing. Holding polls is what a bot does between updates, so measuring starts from there.
    """
    def held() -> bool:
        polls = [call for call in api.calls("getUpdates") if call.token == token]
        return bool(polls) and polls[-1].status is None and (
            time.monotonic() - polls[-1].timestamp > rtt + HELD_MARGIN_SECONDS)

    api.wait_until(held, timeout, interval=POLL_SECONDS)


def answered_call(api: FakeBotApi, token: str, method: str, chat_id: int, since: float,
                  timeout: float = 10.0) -> Call:
    """Wait for the bot's first call of method to chat_id since then, once it is answered."""
    def answered() -> Call | None:
        return next((call for call in api.calls(method)
                     if call.token == token and call.timestamp >= since
                     and call.params.get("chat_id") == chat_id and call.status is not None), None)

    return api.wait_until(answered, timeout, interval=POLL_SECONDS)
