"""Pacing messages under Telegram's flood limits, with replies to users ahead of bulk sends.

Telegram refuses (429) a bot that sends more than about 30 messages a second overall, more
than one a second to one private chat, or more than 20 a minute to one group or channel.
PTB's AIORateLimiter paces the overall limit but has no lane for replies, no per-private-chat
limit, and halts every request while one 429 is waited out. This limiter:

- spaces messages out to stay within all three limits, so 429s are rare;
- lets a reply to a user (the default lane) take the next free slot ahead of any bulk send
  (a daily round, the cache warm-up: `bulk_options(bot)`), so a big round never keeps a user
  waiting for more than a moment;
- never retries: `retry.with_retries` is the one place that does (nothing is retried twice).
  A 429 only makes that chat's later messages wait for its `retry_after`;
- gives a chat's turn back when a send is cancelled before it went out (a stopping round, a
  warm-up cut short), so the chat's next message does not wait for a message never sent;
- with a shared backend (`build_rate_limiter(shared=True, ...)`, for several processes of
  one bot sending at once, such as webhook workers), books each message's moments in the
  database, so that the processes together keep within the limits (`storage.pacing`). This
  process's own replies still go first; if the database cannot be reached, it paces alone.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from cosmobot.botapi.retry import retry_after_seconds
from cosmobot.botapi.sharedturns import SharedTurns, stretched
from cosmobot.storage.database import sqlite_file
from cosmobot.storage.pacing import SharedPacing

LANE = "lane"
BULK = {LANE: "bulk"}
# Telegram counts arrivals: messages that leave exactly at the limit may arrive tens of
# milliseconds closer together (a busy host, the network), so each limit's window is
# stretched a little. A private chat's two messages may also leave from two processes, one of
# them woken late on a busy host: its second is kept a tenth of a second further off, which no
# user notices.
JITTER_ALLOWANCE_SECONDS = 0.05
PRIVATE_CHAT_ALLOWANCE_SECONDS = 0.1
OVERALL_INTERVAL_SECONDS = (1.0 + JITTER_ALLOWANCE_SECONDS) / 30
PRIVATE_CHAT_INTERVAL_SECONDS = 1.0 + PRIVATE_CHAT_ALLOWANCE_SECONDS
GROUP_CHAT_INTERVAL_SECONDS = (60.0 + JITTER_ALLOWANCE_SECONDS) / 20
# Messages keep to a schedule an interval apart, and the overall limit holds over every
# OVERALL_WINDOW_COUNT messages in a row (the last leaves at least that many intervals after
# the first). A message woken a little late on a busy event loop does not push the schedule
# back: the next one leaves on time, at least CATCH_UP_SPACING intervals after it. Pushed
# back at every slot, a long round lost a few milliseconds a message, 5% of Telegram's pace.
OVERALL_WINDOW_COUNT = 30
CATCH_UP_SPACING = 0.5
# How many messages each chat's window holds (a second, a minute), for shared pacing.
PRIVATE_CHAT_LIMIT, GROUP_CHAT_LIMIT = 1, 20
# Chats remembered for pacing; past this, those whose next slot has passed are forgotten.
REMEMBERED_CHATS = 10_000
# Methods that are not messages in a chat, so Telegram's message limits do not apply.
UNLIMITED = frozenset({"sendChatAction", "answerCallbackQuery", "answerInlineQuery"})

Result = bool | dict[str, Any] | list[dict[str, Any]]


def bulk_options(bot: object) -> dict[str, Any]:
    """Return the send options that put a send in the bulk lane (none for a bot without one)."""
    # PTB refuses rate_limit_args on a bot that has no rate limiter.
    return {"rate_limit_args": BULK} if getattr(bot, "rate_limiter", None) else {}


def build_rate_limiter(shared: bool = False, database_url: str | None = None,
                       bot_id: int | None = None) -> LaneRateLimiter:
    """Return the rate limiter cosmobot's bots use.

    shared=True paces together with the other processes of bot_id that share database_url
    (webhook workers); an in-memory SQLite database has no other processes, so it paces alone.
    """
    if shared and (database_url is None or bot_id is None):
        raise ValueError("shared pacing needs the database URL and the bot's id")
    if not shared or (database_url.startswith("sqlite") and sqlite_file(database_url) is None):
        return LaneRateLimiter()
    return LaneRateLimiter(shared=SharedPacing(database_url, bot_id))


@dataclass(frozen=True)
class ChatTurn:
    """One message's booked moment in its chat, and what the chat's next moment was before."""

    chat: object
    booked_before: float
    start: float
    next_free: float


class LaneRateLimiter(BaseRateLimiter[dict]):
    """Paces messages overall and per chat, with a priority lane for replies."""

    def __init__(self, interval: float = OVERALL_INTERVAL_SECONDS,
                 shared: SharedPacing | None = None) -> None:
        self._interval = interval
        self._next_slot = 0.0  # the next message's moment on the schedule (monotonic clock)
        self._recent: deque[float] = deque(maxlen=OVERALL_WINDOW_COUNT)  # when they left
        self._chat_next: dict[object, float] = {}  # each chat's next free moment
        self._chat_held: dict[object, float] = {}  # until when Telegram asked a chat to wait
        self._replies_waiting = 0
        # Sends waiting for an overall slot, each woken when a slot is taken or a reply stops
        # waiting (it may then go), or when its slot's moment comes.
        self._slot_waiters: set[asyncio.Future] = set()
        self._shared = SharedTurns(shared, self._interval) if shared is not None else None

    async def initialize(self) -> None:
        """Open the shared backend, if any."""
        if self._shared is not None:
            await self._shared.open()

    async def shutdown(self) -> None:
        """Close the shared backend, if any."""
        if self._shared is not None:
            await self._shared.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Result]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict | None,
    ) -> Result:
        """Wait for the chat's turn and an overall slot, then make the request."""
        if not _is_message(endpoint):
            return await callback(*args, **kwargs)
        chat = data.get("chat_id")
        urgent = (rate_limit_args or {}).get(LANE) != BULK[LANE]
        if self._shared is None or not await self._shared.wait_turn(
                chat, urgent, _shared_chat_interval(chat), self._take_slot):
            await self._wait_turn(chat, urgent)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            if chat is not None:
                await self._hold_chat(chat, retry_after_seconds(error))
            raise

    async def _wait_turn(self, chat: object, urgent: bool) -> None:
        """Wait for the chat's turn and an overall slot, as this process alone books them."""
        turn = self._book_chat_turn(chat) if chat is not None else None
        try:
            if turn is not None:
                await _sleep_until(turn.start)
            await self._take_slot(urgent)
        except asyncio.CancelledError:
            if turn is not None:
                self._give_back(turn)
            raise

    def _book_chat_turn(self, chat: object) -> ChatTurn:
        """Book the chat's next free moment for one message."""
        now = time.monotonic()
        before = self._chat_next.get(chat, 0.0)
        start = max(now, before)
        if len(self._chat_next) >= REMEMBERED_CHATS:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            self._chat_held = {c: t for c, t in self._chat_held.items() if t > now}
        self._chat_next[chat] = start + _chat_interval(chat)
        return ChatTurn(chat, before, start, self._chat_next[chat])

    def _give_back(self, turn: ChatTurn) -> None:
        """Free the turn of a message that never went out, unless a later one is booked."""
        # A later message already sleeps until its own moment, one interval after this turn:
        # freeing this turn would let a newer message go out just before that one, so then the
        # turn stays spent. Freed, the chat's next moment is what it was before, or the end
        # of a wait Telegram named meanwhile.
        if self._chat_next.get(turn.chat) == turn.next_free:
            held = self._chat_held.get(turn.chat, 0.0)
            self._chat_next[turn.chat] = max(turn.booked_before, held)

    async def _hold_chat(self, chat: object, seconds: float) -> None:
        """Telegram named this chat's wait (a 429): later messages to it start after it."""
        until = time.monotonic() + seconds
        self._chat_held[chat] = until
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), until)
        if self._shared is not None:
            await self._shared.hold(chat, seconds)

    async def _take_slot(self, urgent: bool) -> None:
        """Wait for the next overall slot; bulk sends let waiting replies go first."""
        # Checking and taking a slot happen with no await in between, so no lock is needed;
        # a waiter awaits a plain future, which a cancellation ends at once and cleanly
        # (unlike asyncio.wait_for around a Condition's wait, which on Python 3.11 can end
        # without the lock and leave the other waiters stuck for good).
        self._replies_waiting += urgent
        try:
            while not self._slot_free(urgent):
                await self._until_woken(self._next_free() - time.monotonic())
            self._take_next_slot()
        finally:
            self._replies_waiting -= urgent
            self._wake_slot_waiters()

    async def _until_woken(self, delay: float) -> None:
        """Wait until a slot is taken, a reply stops waiting, or delay seconds have passed."""
        loop = asyncio.get_running_loop()
        woken = loop.create_future()
        self._slot_waiters.add(woken)
        timer = loop.call_later(delay, _wake, woken) if delay > 0 else None
        try:
            await woken
        finally:
            self._slot_waiters.discard(woken)
            if timer is not None:
                timer.cancel()

    def _wake_slot_waiters(self) -> None:
        waiters, self._slot_waiters = self._slot_waiters, set()
        for woken in waiters:
            _wake(woken)

    def _slot_free(self, urgent: bool) -> bool:
        return time.monotonic() >= self._next_free() and (urgent or not self._replies_waiting)

    def _next_free(self) -> float:
        """When the next message may go out: its moment on the schedule, the window kept."""
        if len(self._recent) < OVERALL_WINDOW_COUNT:
            return self._next_slot
        return max(self._next_slot, self._recent[0] + OVERALL_WINDOW_COUNT * self._interval)

    def _take_next_slot(self) -> None:
        now = time.monotonic()
        self._recent.append(now)
        self._next_slot = max(self._next_slot + self._interval,
                              now + CATCH_UP_SPACING * self._interval)


def _wake(woken: asyncio.Future) -> None:
    if not woken.done():
        woken.set_result(None)


def _is_message(endpoint: str) -> bool:
    return endpoint.startswith(("send", "copyMessage", "forwardMessage")) and (
        endpoint not in UNLIMITED
    )


def _chat_interval(chat: object) -> float:
    return PRIVATE_CHAT_INTERVAL_SECONDS if _is_private(chat) else GROUP_CHAT_INTERVAL_SECONDS


def _shared_chat_interval(chat: object) -> float:
    return stretched(_chat_interval(chat), PRIVATE_CHAT_LIMIT if _is_private(chat) else
                     GROUP_CHAT_LIMIT)


def _is_private(chat: object) -> bool:
    # Private chats have positive ids; groups, supergroups and channels negative ones or an
    # @username.
    return isinstance(chat, int) and chat > 0


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
