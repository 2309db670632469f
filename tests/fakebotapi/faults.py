"""Trouble tests ask for: injected error answers, dropped connections and a slow network."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from typing import Any

from tests.fakebotapi.errors import REASONS, ApiError
from tests.fakebotapi.limits import FloodLimits


class Faults:
    """Pending failures per method (matched case-insensitively) and the network's round trip."""

    def __init__(self) -> None:
        self.latency = 0.0
        self.upload_bandwidth: float | None = None  # bytes per second
        self.chat_rate_limit: float | None = None  # messages per second per chat
        self.flood_limits: FloodLimits | None = None  # Telegram's limits, when set
        self._lock = threading.Lock()
        self._last_sent: dict[tuple[str, Any], float] = {}  # (token, chat) -> last message
        self._failures: dict[str, deque[ApiError]] = {}
        self._drops: dict[str, int] = {}

    def fail_next(self, method: str, *, status: int, description: str | None = None,
                  retry_after: int | None = None, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this error."""
        if status == 429:
            # A flood limit always tells the client how long to wait.
            retry_after = 1 if retry_after is None else retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        description = description or REASONS.get(status, "Error")
        with self._lock:
            queue = self._failures.setdefault(method.lower(), deque())
            # One exception per answer: a raised exception keeps its traceback.
            queue.extend(ApiError(status, description, retry_after) for _ in range(times))

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next `times` calls of `method` without answering."""
        with self._lock:
            self._drops[method.lower()] = self._drops.get(method.lower(), 0) + times

    def take_drop(self, method: str) -> bool:
        """Whether this call of `method` is one to drop; counts it as used."""
        with self._lock:
            drop = self._drops.get(method.lower(), 0)
            if drop:
                self._drops[method.lower()] = drop - 1
        return bool(drop)

    def take_failure(self, method: str) -> ApiError | None:
        """The injected error to answer this call of `method` with, if any."""
        with self._lock:
            injected = self._failures.get(method.lower())
            return injected.popleft() if injected else None

    def check_flood(self, token: str, chat_id: Any) -> None:
        """Refuse a message that comes too soon after the chat's last one, like Telegram."""
        if self.flood_limits is not None:
            self.flood_limits.check(token, chat_id)
        if not self.chat_rate_limit:
            return
        now, interval = time.monotonic(), 1.0 / self.chat_rate_limit
        with self._lock:
            wait = self._last_sent.get((token, chat_id), -math.inf) + interval - now
            if wait <= 0:
                self._last_sent[(token, chat_id)] = now
                return
        # Telegram counts in whole seconds, and never asks for less than one.
        retry_after = max(1, math.ceil(wait))
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def way_there(self, upload: bytes | None) -> float:
        """Seconds a request takes to reach the server: half the round trip, plus the upload's."""
        seconds, bandwidth = self.latency / 2, self.upload_bandwidth
        if upload is not None and bandwidth:
            seconds += len(upload) / bandwidth
        return seconds

    async def arrive(self, upload: bytes | None) -> None:
        """Wait out a request's way to the server."""
        seconds = self.way_there(upload)
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def way_back(self) -> None:
        """Wait out an answer's way back to the client: the other half of the round trip."""
        if self.latency > 0:
            await asyncio.sleep(self.latency / 2)
