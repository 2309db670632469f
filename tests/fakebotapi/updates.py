"""Updates waiting for each bot, and getUpdates long polls that wait for them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fakebotapi.errors import CONFLICT, ApiError


@dataclass(eq=False)
class _Poll:
    """One getUpdates call being answered; a later one, or a setWebhook, ends it with a 409."""

    wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    ended_by: str | None = None  # the 409's description


class UpdateQueue:
    """One queue of updates per bot token; push from any thread, poll on the server's loop.

    Webhook delivery takes updates from the same queue, confirming them one by one.
    """

    def __init__(self, tokens: list[str]) -> None:
        self.conflict = False  # True: getUpdates answers 409, as if another instance polled
        self.on_push: Callable[[str], None] | None = None  # told the token of each pushed update
        self._lock = threading.Lock()
        self._updates: dict[str, list[dict]] = {token: [] for token in tokens}
        self._allowed: dict[str, list[str]] = {}
        self._update_id = 100000
        self._loop: asyncio.AbstractEventLoop | None = None
        self._polls: dict[str, _Poll] = {}  # token -> its latest getUpdates, until answered
        self._stopping = False

    def open(self) -> None:
        """Get ready to hold long polls on the running loop (the server's)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop, self._stopping, self._polls = loop, False, {}

    def close(self) -> None:
        """Answer held long polls now, so shutdown does not wait out their timeout."""
        with self._lock:
            self._loop, self._stopping = None, True
            polls = list(self._polls.values())
        for poll in polls:
            poll.wakeup.set()

    def push(self, token: str, kind: str, payload: dict) -> dict:
        """Queue an update of `kind` (e.g. "message") for `token`; returns the update."""
        with self._lock:
            self._update_id += 1
            update = {"update_id": self._update_id, kind: payload}
            self._updates[token].append(update)
            loop, poll = self._loop, self._polls.get(token)
        if loop is not None and poll is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(poll.wakeup.set)
        if self.on_push is not None:
            self.on_push(token)
        return update

    def set_allowed(self, token: str, allowed: object) -> None:
        """Keep the kinds of update the bot asked for (getUpdates and setWebhook share them)."""
        if isinstance(allowed, list):
            with self._lock:
                self._allowed[token] = allowed

    def allowed(self, token: str) -> list[str] | None:
        """The kinds of update the bot last asked for, if it ever did."""
        with self._lock:
            return self._allowed.get(token)

    def pending(self, token: str) -> list[dict]:
        """The updates not confirmed yet, oldest first (kinds not allowed are dropped)."""
        with self._lock:
            return list(self._kept(token))

    def confirm(self, token: str, update_id: int) -> None:
        """Forget one update, as a webhook's 2xx answer confirms it."""
        with self._lock:
            self._updates[token] = [u for u in self._updates[token] if u["update_id"] != update_id]

    def drop(self, token: str) -> None:
        """Forget every pending update (drop_pending_updates)."""
        with self._lock:
            self._updates[token] = []

    def end_poll(self, token: str, description: str) -> bool:
        """Answer the getUpdates held for the bot, if any, with a 409 of this description."""
        with self._lock:
            poll = self._polls.get(token)
        if poll is not None:
            poll.ended_by = description
            poll.wakeup.set()
        return poll is not None

    async def get_updates(self, token: str, params: dict) -> list[dict]:
        """Answer getUpdates: at once if updates wait, else when one arrives or time runs out.

        Like Telegram, a getUpdates for a bot ends the one already held for it with a 409.
        """
        if self.conflict:
            raise ApiError(409, CONFLICT)
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        self.set_allowed(token, params.get("allowed_updates"))
        poll = self._hold(token)
        try:
            return await self._wait(token, poll, offset, max(1, min(limit, 100)),
                                    float(params.get("timeout") or 0))
        finally:
            with self._lock:
                if self._polls.get(token) is poll:
                    del self._polls[token]

    def _hold(self, token: str) -> _Poll:
        poll = _Poll()
        with self._lock:
            earlier, self._polls[token] = self._polls.get(token), poll
        if earlier is not None:
            earlier.ended_by = CONFLICT
            earlier.wakeup.set()
        return poll

    async def _wait(self, token: str, poll: _Poll, offset: int, limit: int,
                    timeout: float) -> list[dict]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            poll.wakeup.clear()  # before looking, so a push after the look still wakes us
            if poll.ended_by is not None:
                raise ApiError(409, poll.ended_by)
            batch = self._take(token, offset, limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._stopping:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(poll.wakeup.wait(), remaining)

    def _take(self, token: str, offset: int, limit: int) -> list[dict]:
        with self._lock:
            queue = self._updates[token]
            if offset < 0:  # Telegram: keep only the last -offset updates
                del queue[:max(0, len(queue) + offset)]
            # Updates before `offset` are confirmed: they go.
            queue[:] = [u for u in queue if u["update_id"] >= offset]
            return self._kept(token)[:limit]

    def _kept(self, token: str) -> list[dict]:
        # Kinds the bot did not ask for are dropped, as Telegram never queues them. Under the lock.
        allowed = self._allowed.get(token)
        queue = self._updates[token]
        queue[:] = [u for u in queue if not allowed or update_kind(u) in allowed]
        return queue


def update_kind(update: dict) -> str:
    """The kind of an update: "message", "callback_query"..."""
    return next(key for key in update if key != "update_id")
