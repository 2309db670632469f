"""The pace of webhook delivery: how fast Telegram opens connections, and when it retries.

The numbers are the Bot API server's (tdlib/telegram-bot-api, WebhookActor).
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass

from tests.fakebotapi.limits import Limit

IDLE_OPENING = Limit(1, 2.0)  # new connections while no update was confirmed lately
BUSY_OPENING = Limit(10, 0.5)  # ... and once one was
RECENT_SUCCESS = 10.0  # seconds a confirmed update counts as "lately"
MAX_RESEND_DELAY = 60  # the delay between retries doubles up to one to two times this
MAX_RETRY_AFTER = 3600


class _Flood:
    """At most `limit.count` events in any `limit.seconds`."""

    def __init__(self, limit: Limit) -> None:
        self._limit, self._times = limit, deque[float]()

    def wait(self, now: float) -> float:
        """Seconds until one more event is allowed (0 now)."""
        while self._times and self._times[0] <= now - self._limit.seconds:
            self._times.popleft()
        if len(self._times) < self._limit.count:
            return 0.0
        return self._times[0] + self._limit.seconds - now

    def add(self, now: float) -> None:
        """Count an event."""
        self._times.append(now)


class Connections:
    """The connections Telegram keeps to a webhook, each carrying one request at a time."""

    def __init__(self, max_connections: int) -> None:
        self.limit, self.open, self.busy = max_connections, 0, 0
        self._last_success = -math.inf
        self._idle, self._busy = _Flood(IDLE_OPENING), _Flood(BUSY_OPENING)

    def take(self, now: float, queues: int) -> float:
        """Take a connection for a request: 0.0 if one is taken, else the seconds until one may
        open (inf: none will until a request ends). `queues`: the chats with updates to send."""
        if self.busy < self.open:
            self.busy += 1
            return 0.0
        lately = now - self._last_success < RECENT_SUCCESS
        wanted = min(self.limit, max(queues, 1)) if lately else 1
        if self.open >= wanted:
            return math.inf
        flood = self._busy if lately else self._idle
        wait = flood.wait(now)
        if wait > 0:
            return wait
        flood.add(now)
        self.open += 1
        self.busy += 1
        return 0.0

    def give_back(self, now: float, confirmed: bool, lost: bool) -> None:
        """End a request: a lost connection closes, a confirmed update counts as a success."""
        self.busy -= 1
        if lost:
            self.open -= 1
        if confirmed:
            self._last_success = now


@dataclass
class Retry:
    """When a failed update goes again."""

    delay: int = 1
    fails: int = 0
    due: float = 0.0  # time.monotonic() from when it may go

    def plan(self, now: float, retry_after: int) -> None:
        """Count a failure: the first retry is at once, the next ones ever later."""
        wait = min(max(retry_after, 0), MAX_RETRY_AFTER)
        if wait == 0 and self.fails > 0:
            cap = random.randint(MAX_RESEND_DELAY, 2 * MAX_RESEND_DELAY)
            self.delay = wait = min(cap, self.delay * 2)
        self.due, self.fails = now + wait, self.fails + 1
