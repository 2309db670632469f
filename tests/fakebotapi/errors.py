"""Answers beyond a plain result: the exception a handler raises, a result with a description,
and the texts Telegram answers with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Default descriptions for injected failures, as Telegram words them.
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
    413: "Request Entity Too Large", 500: "Internal Server Error", 502: "Bad Gateway",
}
CONFLICT = ("Conflict: terminated by other getUpdates request; "
            "make sure that only one bot instance is running")
WEBHOOK_ACTIVE = ("Conflict: can't use getUpdates method while webhook is active; "
                  "use deleteWebhook to delete the webhook first")
ENDED_BY_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
QUERY_TOO_OLD = ("Bad Request: query is too old and response timeout expired or query ID is "
                 "invalid")
RESULTS_TOO_MUCH = "Bad Request: RESULTS_TOO_MUCH"
GROUP_UPGRADED = "Bad Request: group chat was upgraded to a supergroup chat"
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description, and retry_after or
    migrate_to_chat_id in its parameters if given."""

    def __init__(self, status: int, description: str, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    @property
    def parameters(self) -> dict:
        """The error's ResponseParameters, as Telegram sends them (only the fields set)."""
        fields = {"retry_after": self.retry_after, "migrate_to_chat_id": self.migrate_to_chat_id}
        return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class Described:
    """A successful result that Telegram answers with a description beside it."""

    result: Any
    description: str
