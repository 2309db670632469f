"""Delivering a cosmic image to a chat: picking it, captioning it, offering the next one."""

from __future__ import annotations

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from cosmobot import sender
from cosmobot.retry import with_retries
from cosmobot.texts import caption, text

# callback_data of the buttons that ask for a cosmic image.
COSMIC_CALLBACK = "cosmic"
# How many images to try when the ones picked turn out to be unusable.
PICKS = 3


def cosmic_button(language: str, label: str = "another") -> InlineKeyboardMarkup:
    """Return an inline keyboard with one button that asks for a cosmic image."""
    button = InlineKeyboardButton(text(language, label), callback_data=COSMIC_CALLBACK)
    return InlineKeyboardMarkup([[button]])


async def deliver_cosmic(
    bot: Bot, chat_id: int, language: str, previous_key: str | None = None
) -> str | None:
    """Send a random cosmic image (not previous_key if avoidable); return its key.

    Returns None, after telling the user, when no images are installed.
    """
    for _ in range(PICKS):
        key = sender.random_cosmic_key(exclude=previous_key)
        if key is None:
            logger.warning("A cosmic image was asked for, but none are installed")
            await with_retries(lambda: bot.send_message(chat_id, text(language, "no_images")))
            return None
        meta = sender.library().metadata(key)
        message: Message | None = await sender.send_image(
            bot, chat_id, key, caption=caption(meta, language), reply_markup=cosmic_button(language)
        )
        if message is not None:
            return key
        # That file turned out unusable (gone, or broken) and left the library: pick again.
    raise RuntimeError(f"no usable cosmic image after {PICKS} tries")
