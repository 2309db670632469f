"""setWebhook, deleteWebhook and getWebhookInfo: each bot's webhook, checked like Telegram.

The checks, their order and their texts follow the Bot API server (tdlib/telegram-bot-api): a
setWebhook first closes the webhook that was set and drops pending updates if asked, and only
then checks the new URL, so a refused one leaves the bot without a webhook.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from tests.fakebotapi.errors import ENDED_BY_SET_WEBHOOK, WEBHOOK_ACTIVE, ApiError, Described
from tests.fakebotapi.updates import UpdateQueue

PORTS = frozenset({80, 88, 443, 8443})
DEFAULT_MAX_CONNECTIONS = 40
MAX_CONNECTIONS = 100
MAX_SECRET_TOKEN = 256
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]*")
SET_INTERVAL = 1.0  # Telegram takes one setWebhook with a URL a second from a bot
CONFLICT_PACE = 3.0  # a 409 for getUpdates within this long of the last one is answered this late
# Kinds of update in the order of Telegram's own list, which getWebhookInfo's allowed_updates
# follows; kinds added since then come after, in the documentation's order.
UPDATE_KINDS = (
    "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
    "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost", "message_reaction", "message_reaction_count", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "purchased_paid_media", "guest_message", "managed_bot", "subscription",
    "stopped_message_generation",
)
# What a bot gets when it never asked: all but these, which it must ask for by name.
DEFAULT_KINDS = tuple(kind for kind in UPDATE_KINDS
                      if kind not in ("chat_member", "message_reaction", "message_reaction_count"))
INVALID_URL = "Bad Request: invalid webhook URL specified"
BAD_WEBHOOK = "Bad Request: bad webhook: "
NOT_HTTPS = "An HTTPS URL must be provided for webhook"
BAD_PORT = "Webhook can be set up only on ports 80, 88, 443 or 8443"
SECRET_TOO_LONG = "Bad Request: secret token is too long"
SECRET_CHARACTERS = "Bad Request: secret token contains unallowed characters"


@dataclass
class Webhook:
    """A bot's webhook as set, and the last delivery error Telegram keeps for getWebhookInfo."""

    url: str
    secret_token: str
    max_connections: int
    ip_address: str  # the one setWebhook gave, if any
    has_custom_certificate: bool
    last_error_date: int = 0
    last_error_message: str = ""

    @property
    def target(self) -> SplitResult:
        """The URL taken apart (one without a scheme is an https one)."""
        return _split(self.url)

    def same_as(self, other: Webhook) -> bool:
        """Whether setting `other` would change nothing ("Webhook is already set")."""
        keys = ("url", "secret_token", "max_connections", "ip_address")
        return all(getattr(self, key) == getattr(other, key) for key in keys) \
            and not (self.has_custom_certificate or other.has_custom_certificate)


class Webhooks:
    """The webhook of each bot; handlers run on the server's loop, tests read from any thread."""

    def __init__(self, updates: UpdateQueue) -> None:
        self._updates = updates
        self._lock = threading.Lock()
        self._hooks: dict[str, Webhook] = {}
        self._next_set: dict[str, float] = {}  # token -> when setWebhook may come again
        self._next_conflict: dict[str, float] = {}  # token -> end of its 409s' slow window
        self.on_change: Callable[[str], None] | None = None  # told a bot's webhook changed

    def handlers(self) -> dict[str, Callable[[str, dict, Any], Any]]:
        """The Bot API methods this part serves."""
        return {"setWebhook": self.set_webhook, "deleteWebhook": self.delete_webhook,
                "getWebhookInfo": self.info}

    def get(self, token: str) -> Webhook | None:
        """The bot's webhook (a copy), if one is set."""
        with self._lock:
            hook = self._hooks.get(token)
            return Webhook(**asdict(hook)) if hook else None

    def tokens(self) -> list[str]:
        """The bots that have a webhook."""
        with self._lock:
            return list(self._hooks)

    def record_error(self, token: str, message: str) -> None:
        """Keep a failed delivery's error for getWebhookInfo, as Telegram does."""
        with self._lock:
            hook = self._hooks.get(token)
            if hook is not None:
                hook.last_error_date, hook.last_error_message = int(time.time()), message

    async def refuse_polling(self, token: str) -> None:
        """Refuse getUpdates with a 409 while a webhook is set; a burst of 409s comes slowly."""
        if self.get(token) is None:
            return
        now = time.monotonic()
        with self._lock:
            slow = now < self._next_conflict.get(token, 0.0)
            if not slow:
                self._next_conflict[token] = now + CONFLICT_PACE
        if slow:
            await asyncio.sleep(CONFLICT_PACE)
        raise ApiError(409, WEBHOOK_ACTIVE)

    # ---- the methods -----------------------------------------------------------------------

    def set_webhook(self, token: str, params: dict, files: Any) -> Described:
        """setWebhook; an empty URL removes the webhook, like deleteWebhook."""
        url = str(params.get("url") or "")
        if url:
            self._pace(token)
        new = _requested(url, params, files)
        drop = _is_true(params.get("drop_pending_updates"))
        old = self.get(token)
        if not drop and (old.same_as(new) if old and new else old is new is None):
            self._updates.set_allowed(token, params.get("allowed_updates"))
            return Described(True, f"Webhook is already {'set' if url else 'deleted'}")
        if url and self._updates.end_poll(token, ENDED_BY_SET_WEBHOOK):
            with self._lock:  # that 409 opens the slow window as one for getUpdates would
                self._next_conflict[token] = time.monotonic() + CONFLICT_PACE
        self._replace(token, None, drop)
        if new is None:
            return Described(True, f"Webhook {'was' if old else 'is already'} deleted")
        _check_request(url, params)
        self._updates.set_allowed(token, params.get("allowed_updates"))
        _check_target(new)
        self._replace(token, new, False)
        return Described(True, "Webhook was set")

    def delete_webhook(self, token: str, params: dict, files: Any) -> Described:
        """deleteWebhook, dropping pending updates if asked."""
        return self.set_webhook(token, {**params, "url": ""}, files)

    def info(self, token: str, params: dict, files: Any) -> dict:
        """getWebhookInfo, with the fields Telegram fills in for the state the bot is in."""
        hook = self.get(token)
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": bool(hook and hook.has_custom_certificate),
            "pending_update_count": len(self._updates.pending(token)),
        }
        if hook is not None:
            if hook.last_error_date:
                info.update(last_error_date=hook.last_error_date,
                            last_error_message=hook.last_error_message)
            # The fake resolves no host: like Telegram before it has resolved one, it says so.
            info.update(max_connections=hook.max_connections,
                        ip_address=hook.ip_address or "<unknown>")
        allowed = _allowed_kinds(self._updates.allowed(token))
        if allowed != DEFAULT_KINDS:
            info["allowed_updates"] = list(allowed)
        return info

    # ---- inside ------------------------------------------------------------------------------

    def _pace(self, token: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now < self._next_set.get(token, 0.0):
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            self._next_set[token] = now + SET_INTERVAL

    def _replace(self, token: str, hook: Webhook | None, drop: bool) -> None:
        with self._lock:
            old = self._hooks.pop(token, None)
            if hook is not None:
                self._hooks[token] = hook
        if drop:
            self._updates.drop(token)
        if (old or hook or drop) and self.on_change is not None:
            self.on_change(token)


def _requested(url: str, params: dict, files: Any) -> Webhook | None:
    if not url:
        return None
    certificate = "certificate" in files or str(params.get("certificate", "")).startswith(
        "attach://")
    max_connections = _as_int(params.get("max_connections"), DEFAULT_MAX_CONNECTIONS)
    return Webhook(url=url, secret_token=str(params.get("secret_token") or ""),
                   max_connections=min(max(max_connections, 1), MAX_CONNECTIONS),
                   ip_address=str(params.get("ip_address") or ""),
                   has_custom_certificate=certificate)


def _check_request(url: str, params: dict) -> None:
    """What Telegram checks before it tries the URL: its form, then the secret token."""
    try:
        _split(url)
    except ValueError as exc:
        raise ApiError(400, INVALID_URL) from exc
    secret = str(params.get("secret_token") or "")
    if len(secret) > MAX_SECRET_TOKEN:
        raise ApiError(400, SECRET_TOO_LONG)
    if not SECRET_TOKEN_RE.fullmatch(secret):
        raise ApiError(400, SECRET_CHARACTERS)


def _check_target(hook: Webhook) -> None:
    """What Telegram finds when it tries the URL: the scheme, the port, then the address."""
    target = hook.target
    if target.scheme.lower() != "https":
        raise ApiError(400, BAD_WEBHOOK + NOT_HTTPS)
    if (target.port or 443) not in PORTS:
        raise ApiError(400, BAD_WEBHOOK + BAD_PORT)
    problem = _address_problem(hook.ip_address, target.hostname or "")
    if problem:
        raise ApiError(400, BAD_WEBHOOK + problem)


def _address_problem(ip_address: str, host: str) -> str | None:
    # A host name other than localhost is taken to resolve to a public address.
    address = ip_address or ("127.0.0.1" if host.lower() == "localhost" else host)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "Invalid IP address specified" if ip_address else None
    if ip.version == 6:
        return "IPv6-only addresses are not allowed"
    if not ip.is_global or ip.is_multicast or ip.is_reserved:
        return f"IP address {ip} is reserved"
    return None


def _split(url: str) -> SplitResult:
    """The URL's parts, the way Telegram reads it; ValueError if it cannot be a webhook's."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname \
            or any(char.isspace() for char in url) or parts.port == 0:
        raise ValueError(f"not a webhook URL: {url!r}")
    return parts


def _allowed_kinds(asked: list[str] | None) -> tuple[str, ...]:
    # Telegram ignores names it does not know, and takes none at all as the default.
    names = {str(name).lower() for name in asked or []}
    return tuple(kind for kind in UPDATE_KINDS if kind in names) or DEFAULT_KINDS


def _as_int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0  # Telegram reads a number that is none as 0


def _is_true(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")
