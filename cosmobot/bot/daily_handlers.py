"""Update handlers for the daily image: /daily, /stop, /status and group migrations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loguru import logger
from telegram import Bot, ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from cosmobot.botapi.retry import with_retries
from cosmobot.clock import utcnow
from cosmobot.config import Settings
from cosmobot.schedule import subscriptions
from cosmobot.schedule.localtime import parse_zone
from cosmobot.storage.database import in_db_thread
from cosmobot.texts import language_of

MANAGERS = (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


async def daily(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe the chat, change its time, or say what it is subscribed to."""
    await _reply(update, await subscriptions.daily(_chat(update, context), context.args or []))


async def stop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Unsubscribe the chat from the daily image."""
    await _reply(update, await subscriptions.stop(_chat(update, context)))


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the chat is subscribed to and when its next image comes."""
    await _reply(update, await subscriptions.status(_chat(update, context)))


async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Move a group's subscription to the supergroup it became."""
    message = update.effective_message
    if message.migrate_to_chat_id:  # the supergroup's twin message (migrate_from) adds nothing
        old, new = message.chat_id, message.migrate_to_chat_id
        if await in_db_thread(subscriptions.move_chat, context.bot.id, old, new):
            logger.info("Group {} became supergroup {}; its subscription moved", old, new)


def _chat(update: Update, context: ContextTypes.DEFAULT_TYPE) -> subscriptions.ChatContext:
    settings: Settings = context.bot_data["settings"]
    chat = update.effective_chat
    return subscriptions.ChatContext(
        bot_id=context.bot.id, chat_id=chat.id, chat_type=chat.type,
        language=language_of(update.effective_user),
        default_zone=parse_zone(settings.timezone), now=utcnow(),
        may_manage=_manager_check(context.bot, update),
    )


def _manager_check(bot: Bot, update: Update) -> Callable[[], Awaitable[bool]]:
    async def may_manage() -> bool:
        """Whether the sender may manage the chat's subscription: admins only in groups."""
        chat, message = update.effective_chat, update.effective_message
        if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            return True
        # An anonymous administrator writes as the group itself.
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True
        user = update.effective_user
        member = await with_retries(lambda: bot.get_chat_member(chat.id, user.id))
        return member.status in MANAGERS

    return may_manage


async def _reply(update: Update, reply: str) -> None:
    await with_retries(lambda: update.effective_message.reply_text(reply))
