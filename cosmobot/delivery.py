"""Delivering a cosmic image to a chat: picking it, captioning it, offering the next one."""

from __future__ import annotations

import hashlib
from typing import Any

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from cosmobot import sender
from cosmobot.retry import with_retries
from cosmobot.texts import caption, text

# callback_data of the buttons that ask for a cosmic image: "cosmic", or "cosmic:<image id>"
# naming the image shown above the button, so the next pick can avoid it without keeping
# any per-chat state.
COSMIC_CALLBACK = "cosmic"
COSMIC_PATTERN = rf"^{COSMIC_CALLBACK}(:[0-9a-f]{{8}})?$"
# How many images to try when the ones picked turn out to be unusable.
PICKS = 3


def image_id(key: str) -> str:
    """Return a short, stable id of an image key that fits in a button's callback_data."""
    return hashlib.sha1(key.encode()).hexdigest()[:8]


def cosmic_button(
    language: str, label: str = "another", shown_key: str | None = None
) -> InlineKeyboardMarkup:
    """Return an inline keyboard with one button asking for a cosmic image other than shown_key."""
    data = f"{COSMIC_CALLBACK}:{image_id(shown_key)}" if shown_key else COSMIC_CALLBACK
    return InlineKeyboardMarkup([[InlineKeyboardButton(text(language, label), callback_data=data)]])


def shown_key(callback_data: str | None) -> str | None:
    """Return the installed image a cosmic button was under, if its data names one."""
    _, _, shown = (callback_data or "").partition(":")
    if not shown:
        return None  # a button from before image ids, or the greeting's button
    # A scan of the keys: no table of ids to keep, and the keys are few.
    return next((key for key in sender.library().cosmic_keys if image_id(key) == shown), None)


async def deliver_cosmic(
    bot: Bot,
    chat_id: int,
    language: str,
    previous_key: str | None = None,
    thread_id: int | None = None,
    **send_options: Any,
) -> str | None:
    """Send a random cosmic image (not previous_key if avoidable); return its key.

    thread_id is the forum topic to send to; send_options (rate_limit_args, say) go to the
    send as they are. Returns None, after telling the user, when no images are installed.
    Telegram's refusals are raised as PTB raises them: Forbidden for a chat that blocked or
    removed the bot, BadRequest "chat not found", ChatMigrated for a group now a supergroup.
    """
    for _ in range(PICKS):
        key = sender.random_cosmic_key(exclude=previous_key)
        if key is None:
            logger.warning("A cosmic image was asked for, but none are installed")
            await with_retries(lambda: bot.send_message(
                chat_id, text(language, "no_images"), message_thread_id=thread_id,
                **send_options))
            return None
        meta = sender.library().metadata(key)
        message: Message | None = await sender.send_image(
            bot, chat_id, key,
            caption=caption(meta, language),
            reply_markup=cosmic_button(language, shown_key=key),
            message_thread_id=thread_id,
            **send_options,
        )
        if message is not None:
            return key
        # That file turned out unusable (gone, or broken) and left the library: pick again.
    raise RuntimeError(f"no usable cosmic image after {PICKS} tries")
