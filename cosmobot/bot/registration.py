"""The leader's webhook duty: register the webhook with Telegram when it is not registered as is.

Only the leader registers, and only when the URL, the secret or the kinds of update changed
since the last registration (kept in `bot_settings`), or Telegram's webhook is not ours any
more (removed or changed by hand, or by a process in polling mode): a leader that takes over
from another finds it registered already and leaves it alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence

import peewee
from loguru import logger
from telegram import Bot
from telegram.error import TelegramError

from cosmobot.botapi.retry import with_retries
from cosmobot.config import WEBHOOK_URL, WebhookSettings
from cosmobot.storage.database import in_db_thread, read_in_db_thread
from cosmobot.storage.models import BotSetting

SETTING = "webhook"


def fingerprint(token: str, webhook: WebhookSettings, allowed_updates: Sequence[str]) -> str:
    """What was registered, keyed by the token: the database never holds the secret itself."""
    registered = json.dumps([webhook.url, webhook.secret, sorted(allowed_updates)])
    return hmac.new(token.encode(), registered.encode(), hashlib.sha256).hexdigest()


async def register_webhook(bot: Bot, webhook: WebhookSettings,
                           allowed_updates: Sequence[str]) -> bool:
    """Set the webhook unless Telegram has it as it is; True if it was set."""
    wanted = fingerprint(bot.token, webhook, allowed_updates)
    stored = await read_in_db_thread(BotSetting.read, bot.id, SETTING)
    info = await with_retries(bot.get_webhook_info)
    if stored == wanted and info.url == webhook.url:
        logger.info("The webhook {} is registered with Telegram already", webhook.url)
        return False
    await with_retries(lambda: bot.set_webhook(
        webhook.url, secret_token=webhook.secret, allowed_updates=list(allowed_updates)))
    await in_db_thread(lambda: BotSetting.put(bot.id, SETTING, wanted).execute())
    logger.info("Registered the webhook {} with Telegram", webhook.url)
    return True


async def register_or_say_why(bot: Bot, webhook: WebhookSettings,
                              allowed_updates: Sequence[str]) -> None:
    """Register the webhook; a refusal or an outage is logged, and the leader goes on."""
    try:
        await register_webhook(bot, webhook, allowed_updates)
    except (TelegramError, peewee.DatabaseError) as error:
        # The round and the warm-up need no webhook; the next leader tries again.
        logger.error("Could not register the webhook {} ({}): check {}", webhook.url, error,
                     WEBHOOK_URL)
