"""Updates waiting for each bot, and getUpdates long polls that wait for them."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from tests.fakebotapi.errors import CONFLICT, ApiError


class UpdateQueue:
    """One queue of updates per bot token; push from any thread, poll on the server's loop."""

    def __init__(self, tokens: list[str]) -> None:
        self.conflict = False  # True: getUpdates answers 409, as if another instance polled
        self._lock = threading.Lock()
        self._updates: dict[str, list[dict]] = {token: [] for token in tokens}
        self._allowed: dict[str, list[str]] = {}
        self._update_id = 100000
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeups: dict[str, asyncio.Event] = {}
        self._stopping = False

    def open(self) -> None:
        """Get ready to hold long polls on the running loop (the server's)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            self._loop, self._stopping = loop, False
            self._wakeups = {token: asyncio.Event() for token in self._updates}

    def close(self) -> None:
        """Answer held long polls now, so shutdown does not wait out their timeout."""
        with self._lock:
            self._loop, self._stopping = None, True
            wakeups = list(self._wakeups.values())
        for wakeup in wakeups:
            wakeup.set()

    def push(self, token: str, kind: str, payload: dict) -> dict:
        """Queue an update of `kind` (e.g. "message") for `token`; returns the update."""
        with self._lock:
            self._update_id += 1
            update = {"update_id": self._update_id, kind: payload}
            self._updates[token].append(update)
            loop, wakeup = self._loop, self._wakeups.get(token)
        if loop is not None and wakeup is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(wakeup.set)
        return update

    async def get_updates(self, token: str, params: dict) -> list[dict]:
        """Answer getUpdates: at once if updates wait, else when one arrives or time runs out."""
        if self.conflict:
            raise ApiError(409, CONFLICT)
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if isinstance(params.get("allowed_updates"), list):
            with self._lock:
                self._allowed[token] = params["allowed_updates"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        wakeup = self._wakeups[token]
        while True:
            wakeup.clear()  # before looking, so a push after the look still wakes us
            batch = self._take(token, offset, max(1, min(limit, 100)))
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._stopping:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), remaining)

    def _take(self, token: str, offset: int, limit: int) -> list[dict]:
        with self._lock:
            queue = self._updates[token]
            if offset < 0:  # Telegram: keep only the last -offset updates
                del queue[:max(0, len(queue) + offset)]
            allowed = self._allowed.get(token)
            # Updates before `offset` are confirmed, and kinds not allowed are dropped: both go.
            queue[:] = [u for u in queue if u["update_id"] >= offset
                        and (not allowed or _update_kind(u) in allowed)]
            return queue[:limit]


def _update_kind(update: dict) -> str:
    return next(key for key in update if key != "update_id")
