"""A fake Telegram Bot API server for end-to-end tests.

The server runs aiohttp on 127.0.0.1 in a background thread with its own event loop, so a bot
running in this process (on any thread or loop) or in a subprocess can reach it via `base_url`.
Answers mirror Telegram's: the same JSON shapes, HTTP status codes and error descriptions.

An oracle checks every call it serves, and every answer it gives, against aiogram's model of
the Bot API (generated from Telegram's documentation); leaving a FakeBotApi fails on any
violation, naming the method, the field and the value.

Webhooks: a bot may set one (setWebhook, checked and answered like Telegram); the test routes
its traffic to workers of its own (`route_webhook`), which then receive each update POSTed in
turn, with the secret header, and retried as Telegram retries (`deliveries` records each).

Modules: `fake` (FakeBotApi, what tests use), `server` (HTTP and routing), `methods` (the
Bot API methods), `state` (chats, messages, file_ids), `updates` (getUpdates), `inline`
(inline queries), `media` (photo checks), `faults` (injected failures), `limits` (Telegram's
flood limits), `recording` (calls), `errors` (answers' texts), `oracle` (the checks and the
violations found), `apimodel` (aiogram's model, read strictly), `webhooks` (setWebhook,
deleteWebhook, getWebhookInfo), `delivery` (POSTing updates to the workers), `delivery_pace`
(connections and retries), `webhook_controls` (what tests do with webhooks).
"""

from tests.fakebotapi.delivery import Delivery
from tests.fakebotapi.errors import ApiError
from tests.fakebotapi.fake import FakeBotApi
from tests.fakebotapi.limits import FloodLimits, Limit
from tests.fakebotapi.oracle import Violation
from tests.fakebotapi.recording import Call

__all__ = ["ApiError", "Call", "Delivery", "FakeBotApi", "FloodLimits", "Limit", "Violation"]
