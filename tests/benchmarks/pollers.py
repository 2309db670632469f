"""Timing a long-polling bot from outside: from an update pushed to the call that answers it."""

from __future__ import annotations

import time

from tests.fakebotapi import Call, FakeBotApi

# How long past its arrival the fake surely holds a poll (it handles the call, then holds it).
HELD_MARGIN_SECONDS = 0.005
POLL_SECONDS = 0.005


def wait_for_held_poll(api: FakeBotApi, token: str, timeout: float = 30.0) -> None:
    """Block until the bot's latest getUpdates waits in the fake, so an update goes out at once.

    The fake stamps a call with its arrival, half the round trip after it was sent: an update
    pushed before the bot's next poll arrived would wait for it, which is not the bot's doing.
    Holding polls is what a bot does between updates, so measuring starts from there.
    """
    def held() -> bool:
        polls = [call for call in api.calls("getUpdates") if call.token == token]
        return bool(polls) and polls[-1].status is None and (
            time.monotonic() - polls[-1].timestamp > HELD_MARGIN_SECONDS)

    api.wait_until(held, timeout, interval=POLL_SECONDS)


def answered_call(api: FakeBotApi, token: str, method: str, chat_id: int, since: float,
                  timeout: float = 10.0) -> Call:
    """Wait for the bot's first call of method to chat_id since then, once it is answered."""
    def answered() -> Call | None:
        return next((call for call in api.calls(method)
                     if call.token == token and call.timestamp >= since
                     and call.params.get("chat_id") == chat_id and call.status is not None), None)

    return api.wait_until(answered, timeout, interval=POLL_SECONDS)
