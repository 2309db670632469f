"""Delivering a cosmic image to a chat: picking it, captioning it, offering the next one."""

from __future__ import annotations

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from cosmobot import sender
from cosmobot.texts import caption, text

# callback_data of the buttons that ask for a cosmic image.
COSMIC_CALLBACK = "cosmic"


def cosmic_button(language: str, label: str = "another") -> InlineKeyboardMarkup:
    """Return an inline keyboard with one button that asks for a cosmic image."""
    button = InlineKeyboardButton(text(language, label), callback_data=COSMIC_CALLBACK)
    return InlineKeyboardMarkup([[button]])


async def deliver_cosmic(
    bot: Bot, chat_id: int, language: str, previous_key: str | None = None
) -> str | None:
    """Send a random cosmic image (not previous_key if avoidable); return its key."""
    for _ in range(2):
        key = sender.random_cosmic_key(exclude=previous_key)
        if key is None:
            logger.warning("A cosmic image was asked for, but none are installed")
            await bot.send_message(chat_id, text(language, "no_images"))
            return None
        meta = sender.library().metadata(key)
        message: Message | None = await sender.send_image(
            bot, chat_id, key, caption=caption(meta, language), reply_markup=cosmic_button(language)
        )
        if message is not None:
            return key
        # The file vanished since the last scan: look again, then pick another.
        sender.library().scan()
    return None
