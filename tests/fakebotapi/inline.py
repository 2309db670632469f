"""Inline mode: the inline queries users make, and answerInlineQuery checked like Telegram."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from tests.fakebotapi.errors import QUERY_TOO_OLD, RESULTS_TOO_MUCH, ApiError
from tests.fakebotapi.state import TelegramState

MAX_RESULTS = 50
# Telegram accepts an answer this many seconds after the query, and no later.
ANSWER_WINDOW_SECONDS = 10
MAX_RESULT_ID_BYTES = 64
MAX_OFFSET_BYTES = 64
MAX_CAPTION = 1024


class InlineQueries:
    """The inline queries sent to each bot, and whether each may still be answered."""

    def __init__(self, state: TelegramState) -> None:
        self._state = state
        self._lock = threading.Lock()
        self._asked: dict[str, tuple[str, float]] = {}  # query id -> (bot token, when asked)

    def new(self, token: str, user_id: int, query: str, offset: str,
            language_code: str | None) -> dict:
        """An InlineQuery from user_id, as Telegram sends it in an update."""
        query_id = str(secrets.randbits(62))
        with self._lock:
            self._asked[query_id] = (token, time.monotonic())
        return {"id": query_id, "from": self._state.user(user_id, language_code),
                "query": query, "offset": offset, "chat_type": "sender"}

    def expire(self, query_id: str) -> None:
        """Make the query too old to answer, as 10 s after it was asked."""
        with self._lock:
            token, _ = self._asked[query_id]
            self._asked[query_id] = (token, time.monotonic() - ANSWER_WINDOW_SECONDS)

    def answer(self, token: str, params: dict) -> bool:
        """Check an answerInlineQuery call; True if Telegram would show its results."""
        with self._lock:
            asked = self._asked.get(str(params.get("inline_query_id")))
        if asked is None or asked[0] != token or (
                time.monotonic() - asked[1] >= ANSWER_WINDOW_SECONDS):
            raise ApiError(400, QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_RESULTS:
            raise ApiError(400, RESULTS_TOO_MUCH)
        if len(str(params.get("next_offset") or "").encode()) > MAX_OFFSET_BYTES:
            raise ApiError(400, "Bad Request: NEXT_OFFSET_INVALID")
        ids = [self._checked_result(token, result) for result in results]
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        return True

    def _checked_result(self, token: str, result: Any) -> str:
        if not isinstance(result, dict) or not result.get("id"):
            raise ApiError(400, "Bad Request: RESULT_ID_EMPTY")
        if len(str(result["id"]).encode()) > MAX_RESULT_ID_BYTES:
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(str(result.get("caption") or "")) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: MEDIA_CAPTION_TOO_LONG")
        if result.get("type") == "photo" and "photo_file_id" in result:
            # A cached photo must name a photo this bot can send, as sendPhoto must.
            self._state.photo(token, str(result["photo_file_id"]))
        return str(result["id"])
