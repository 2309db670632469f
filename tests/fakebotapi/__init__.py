"""A fake Telegram Bot API server for end-to-end tests.

The server runs aiohttp on 127.0.0.1 in a background thread with its own event loop, so a bot
running in this process (on any thread or loop) or in a subprocess can reach it via `base_url`.
Answers mirror Telegram's: the same JSON shapes, HTTP status codes and error descriptions.

Modules: `fake` (FakeBotApi, what tests use), `server` (HTTP and routing), `methods` (the
Bot API methods), `state` (chats, messages, file_ids), `updates` (getUpdates), `media`
(photo checks), `faults` (injected failures), `limits` (Telegram's flood limits), `recording`
(calls), `errors` (error answers).
"""

from tests.fakebotapi.errors import ApiError
from tests.fakebotapi.fake import FakeBotApi
from tests.fakebotapi.limits import FloodLimits, Limit
from tests.fakebotapi.recording import Call

__all__ = ["ApiError", "Call", "FakeBotApi", "FloodLimits", "Limit"]
