"""The oracle: every call the fake serves, checked against aiogram's model of the Bot API.

It checks what the bot sends (the method exists, its parameters have the documented types)
and what the fake answers (the envelope, and a result of the method's documented type, with
no field Telegram would not send). It only records what it finds; FakeBotApi fails the test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram.types import ResponseParameters, Update

from tests.fakebotapi import apimodel
from tests.fakebotapi.apimodel import Files, Problem

# Methods the fake serves on purpose although aiogram has no model of them: none so far.
UNMODELLED_METHODS: frozenset[str] = frozenset()
OK_KEYS = frozenset({"ok", "result", "description"})
ERROR_KEYS = frozenset({"ok", "error_code", "description", "parameters"})
# How Telegram's error descriptions begin, by status ("Not Found" is the whole of it).
ERROR_PREFIXES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                  404: "Not Found", 409: "Conflict", 429: "Too Many Requests"}
MAX_VALUE_CHARS = 120


@dataclass(frozen=True)
class Violation:
    """One thing Telegram would not do: in a request the bot sent, or in the fake's answer."""

    method: str
    part: str  # "request", "answer"; for webhooks, "update" (one posted) or "delivery"
    field: str
    value: Any
    problem: str

    def __str__(self) -> str:
        value = repr(self.value)
        if len(value) > MAX_VALUE_CHARS:
            value = value[:MAX_VALUE_CHARS] + "..."
        return f"{self.method} {self.part}: {self.field} = {value}: {self.problem}"


class Oracle:
    """Checks calls and answers as they happen and keeps every violation, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._violations: list[Violation] = []

    def check_request(self, method: str, params: dict, files: Files) -> None:
        """Check a request against aiogram's model of its method."""
        self._record(method, "request", lambda: _request_problems(method, params, files))

    def check_answer(self, method: str, status: int, body: dict) -> None:
        """Check an answer: Telegram's envelope, and the result's documented type."""
        if body.get("ok") is True:
            self._record(method, "answer", lambda: _result_problems(method, status, body))
        else:
            self._record(method, "answer", lambda: _error_problems(status, body))

    def check_update(self, update: dict) -> None:
        """Check an update posted to a webhook against the Bot API's Update."""
        self._record("setWebhook", "update",
                     lambda: apimodel.value_problems(Update, update, "update"))

    def record_crash(self, method: str, exc: BaseException) -> None:
        """Keep a failure of the fake itself, so that the test fails on it rather than waiting."""
        with self._lock:
            self._violations.append(Violation(method, "delivery", "(the fake)", exc,
                                              "the fake's webhook delivery crashed"))

    def violations(self) -> list[Violation]:
        """Everything found so far, oldest first."""
        with self._lock:
            return list(self._violations)

    def take_violations(self) -> list[Violation]:
        """Everything found so far, forgotten once returned."""
        with self._lock:
            found, self._violations = self._violations, []
        return found

    def _record(self, method: str, part: str, check: Callable[[], list[Problem]]) -> None:
        try:
            problems = check()
        except Exception as exc:  # the fake must still answer; the test fails on this instead
            problems = [("(oracle)", exc, "the check itself failed")]
        if not problems:
            return
        found = [Violation(method, part, field, value, problem)
                 for field, value, problem in problems[:apimodel.MAX_PROBLEMS]]
        with self._lock:
            self._violations.extend(found)


def _request_problems(method: str, params: dict, files: Files) -> list[Problem]:
    model = apimodel.method_model(method)
    if model is not None:
        return apimodel.request_problems(model, params, files)
    if method.lower() in UNMODELLED_METHODS:
        return []
    return [("method", method, "no such Bot API method")]


def _result_problems(method: str, status: int, body: dict) -> list[Problem]:
    problems = _unknown_keys(body, OK_KEYS)
    if status != 200:
        problems.append(("status", status, "a successful answer is HTTP 200"))
    model = apimodel.method_model(method)
    if model is not None:
        problems += apimodel.result_problems(model.__returning__, body.get("result"))
    return problems


def _error_problems(status: int, body: dict) -> list[Problem]:
    problems = _unknown_keys(body, ERROR_KEYS)
    if body.get("ok") is not False:
        problems.append(("ok", body.get("ok"), "an error answer has ok false"))
    if body.get("error_code") != status:
        problems.append(("error_code", body.get("error_code"), f"not the HTTP status {status}"))
    description = body.get("description")
    prefix = ERROR_PREFIXES.get(status)
    if not isinstance(description, str) or not description:
        problems.append(("description", description, "Telegram always describes an error"))
    elif prefix and not (description == prefix or description.startswith(prefix + ": ")):
        problems.append(("description", description, f"Telegram's {status} says {prefix!r}"))
    parameters = body.get("parameters")
    if parameters is not None:
        problems += apimodel.value_problems(ResponseParameters, parameters, "parameters")
    if status == 429:
        problems += _flood_problems(description, parameters)
    return problems


def _flood_problems(description: Any, parameters: Any) -> list[Problem]:
    # A 429 always says how long to wait, in its parameters and in its description.
    retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if not isinstance(retry_after, int):
        return [("parameters.retry_after", retry_after, "a 429 always carries retry_after")]
    expected = f"Too Many Requests: retry after {retry_after}"
    if description != expected:
        return [("description", description, f"a 429 says {expected!r}")]
    return []


def _unknown_keys(body: dict, known: frozenset[str]) -> list[Problem]:
    return [(key, body[key], "no field of Telegram's answer") for key in body
            if key not in known]
