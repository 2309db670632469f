"""Delivering a cosmic image to a chat: picking it, captioning it, offering the next one."""

from __future__ import annotations

import random
from typing import Any

from loguru import logger
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from cosmobot import sender
from cosmobot.botapi.retry import with_retries
from cosmobot.images import search
from cosmobot.storage import shufflebag
from cosmobot.texts import ECHO_LIMIT, caption, shorten, text

# callback_data of the buttons that ask for a cosmic image. Buttons sent by older versions
# name the image above them ("cosmic:<8 hex digits>"); they still work, and the suffix is
# ignored: the chat's shuffle bag knows what it has seen.
COSMIC_CALLBACK = "cosmic"
COSMIC_PATTERN = rf"^{COSMIC_CALLBACK}(:[0-9a-f]{{8}})?$"
# How many images to try when the ones picked turn out to be unusable.
PICKS = 3
# How many titles a search without a match suggests.
SUGGESTIONS = 3


def cosmic_button(language: str, label: str = "another") -> InlineKeyboardMarkup:
    """Return an inline keyboard with one button asking for a cosmic image."""
    button = InlineKeyboardButton(text(language, label), callback_data=COSMIC_CALLBACK)
    return InlineKeyboardMarkup([[button]])


async def deliver_cosmic(
    bot: Bot,
    chat_id: int,
    language: str,
    thread_id: int | None = None,
    **send_options: Any,
) -> str | None:
    """Send the chat a cosmic image it has not seen this round; return its key.

    thread_id is the forum topic to send to; send_options (rate_limit_args, say) go to the
    send as they are. Returns None, after telling the user, when no images are installed.
    Telegram's refusals are raised as PTB raises them: Forbidden for a chat that blocked or
    removed the bot, BadRequest "chat not found", ChatMigrated for a group now a supergroup.
    """
    for _ in range(PICKS):
        pick = await shufflebag.pick_next(bot.id, chat_id, sender.library())
        if pick is None:
            logger.warning("A cosmic image was asked for, but none are installed")
            await with_retries(lambda: bot.send_message(
                chat_id, text(language, "no_images"), message_thread_id=thread_id,
                **send_options))
            return None
        if await _send_picked(bot, pick, language, thread_id, send_options):
            return pick.key
        # That file turned out unusable (gone, or broken) and left the library: pick again.
    raise RuntimeError(f"no usable cosmic image after {PICKS} tries")


async def deliver_match(
    bot: Bot,
    chat_id: int,
    language: str,
    query: str,
    thread_id: int | None = None,
) -> str | None:
    """Send the chat an image whose title matches query, unseen this round if one is left.

    Returns its key; None, after replying with a few titles to try, when nothing matches.
    """
    for _ in range(PICKS):
        matching = search.find(sender.library(), query)
        if not matching:
            await with_retries(lambda: bot.send_message(
                chat_id, _no_match(language, query), message_thread_id=thread_id))
            return None
        pick = await shufflebag.pick_match(bot.id, chat_id, sender.library(), matching)
        if await _send_picked(bot, pick, language, thread_id, {}):
            return pick.key
    raise RuntimeError(f"no usable cosmic image after {PICKS} tries")


async def _send_picked(bot: Bot, pick: shufflebag.Pick, language: str, thread_id: int | None,
                       send_options: dict[str, Any]) -> bool:
    """Send the image picked from the chat's bag; False if its file was unusable.

    Until the send is over, the chat's other picks pass the image by; if it was not shown,
    it goes back to the chat's round.
    """
    shown = False
    try:
        shown = await _send_captioned(bot, pick.chat_id, pick.key, language, thread_id,
                                      send_options)
    finally:
        shufflebag.settle(pick, shown)
    return shown


async def _send_captioned(bot: Bot, chat_id: int, key: str, language: str,
                          thread_id: int | None, send_options: dict[str, Any]) -> bool:
    """Send key with its caption and the next-image button; False if its file was unusable."""
    meta = sender.library().metadata(key)
    message: Message | None = await sender.send_image(
        bot, chat_id, key,
        caption=caption(meta, language),
        reply_markup=cosmic_button(language),
        message_thread_id=thread_id,
        **send_options,
    )
    return message is not None


def _no_match(language: str, query: str) -> str:
    keys = sender.library().cosmic_keys
    if not keys:
        return text(language, "no_images")
    picks = random.sample(keys, min(SUGGESTIONS, len(keys)))
    titles = ", ".join(sender.library().metadata(key).title(language) for key in picks)
    # Echoed in full, a long query would push the reply past Telegram's limit on a message.
    return text(language, "no_match", query=shorten(query, ECHO_LIMIT), titles=titles)
