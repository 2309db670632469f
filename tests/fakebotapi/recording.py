"""The record of every request the fake received, and the questions tests ask of it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Call:
    """One request the fake received; status and result are filled in once it is answered."""

    method: str
    params: dict[str, Any]
    token: str
    timestamp: float
    file_bytes: bytes | None = None
    filename: str | None = None
    status: int | None = None  # stays None for a dropped connection
    result: Any = None


class CallLog:
    """Calls in the order they arrived; safe to read and write from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []

    def record(self, call: Call) -> None:
        """Add a call as it arrives, before it is answered."""
        with self._lock:
            self._calls.append(call)

    def answer(self, call: Call, status: int, result: Any = None) -> None:
        """Note how a recorded call was answered."""
        with self._lock:
            call.status, call.result = status, result

    def calls(self, method: str | None = None) -> list[Call]:
        """Every call received so far, oldest first, optionally only those of `method`."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method.lower() == method.lower()]

    def uploads(self) -> list[Call]:
        """sendPhoto calls that carried a file."""
        return [c for c in self.calls("sendPhoto") if c.file_bytes is not None]

    def file_id_sends(self) -> list[Call]:
        """sendPhoto calls whose `photo` was a string (a file_id or URL)."""
        return [c for c in self.calls("sendPhoto") if isinstance(c.params.get("photo"), str)
                and not c.params["photo"].startswith("attach://")]

    def sent_to(self, chat_id: int, token: str | None = None) -> list[dict]:
        """Messages the bot delivered to `chat_id`, as the Message dicts returned, in order."""
        return [c.result for c in self.calls() if c.method.startswith("send") and c.status == 200
                and isinstance(c.result, dict) and c.result["chat"]["id"] == chat_id
                and token in (None, c.token)]

    def reset(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self._calls.clear()

    def timeout_message(self, predicate: Callable[[], Any], timeout: float) -> str:
        """Why a wait failed, with the latest calls so the failure explains itself."""
        recent = [f"  {c.method} -> {c.status}: {_summary(c.params)}" for c in self.calls()[-15:]]
        name = getattr(predicate, "__qualname__", repr(predicate))
        return (f"condition {name} not met within {timeout}s; recent calls:\n"
                + ("\n".join(recent) or "  (none)"))


def _summary(params: dict) -> str:
    return ", ".join(f"{key}={str(value)[:40]!r}" for key, value in params.items())
