"""Telegram's flood limits for messages, as the fake enforces them when asked to."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tests.fakebotapi.errors import ApiError


@dataclass(frozen=True)
class Limit:
    """At most `count` messages in any `seconds`-long window."""

    count: int
    seconds: float


OVERALL = Limit(30, 1.0)  # per bot
PRIVATE_CHAT = Limit(1, 1.0)
GROUP_CHAT = Limit(20, 60.0)  # groups, supergroups and channels


@dataclass
class FloodLimits:
    """Sliding windows per bot and per chat; a message beyond one is answered with a 429."""

    overall: Limit = OVERALL
    private_chat: Limit = PRIVATE_CHAT
    group_chat: Limit = GROUP_CHAT
    refused: int = 0  # 429s answered so far
    _sent: dict[Any, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, token: str, chat_id: Any) -> None:
        """Count a message to chat_id, or raise Telegram's 429 if it breaks a limit."""
        chat_limit = self.private_chat if isinstance(chat_id, int) and chat_id > 0 \
            else self.group_chat
        now = time.monotonic()
        with self._lock:
            windows = [(token, self.overall), ((token, chat_id), chat_limit)]
            wait = max(self._wait(key, limit, now) for key, limit in windows)
            if wait <= 0:
                for key, _ in windows:
                    self._sent.setdefault(key, deque()).append(now)
                return
            self.refused += 1
        # Telegram counts in whole seconds, and never asks for less than one.
        retry_after = max(1, math.ceil(wait))
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def _wait(self, key: Any, limit: Limit, now: float) -> float:
        sent = self._sent.get(key)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - limit.seconds:
            sent.popleft()
        return sent[0] + limit.seconds - now if len(sent) >= limit.count else 0.0
