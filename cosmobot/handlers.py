"""Update handlers: thin wrappers that read the update and call the functions doing the work."""

from __future__ import annotations

from contextlib import suppress

from loguru import logger
from telegram import Update
from telegram.error import Conflict, Forbidden, TelegramError
from telegram.ext import ContextTypes

from cosmobot.delivery import cosmic_button, deliver_cosmic
from cosmobot.retry import is_unavailable, with_retries
from cosmobot.texts import language_of, text

LAST_KEY = "last_cosmic_key"


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet the user, say what the bot does and offer an image."""
    language = language_of(update.effective_user)
    name = update.effective_user.first_name if update.effective_user else ""
    greeting = text(language, "start", name=name or "stargazer")
    markup = cosmic_button(language, "show_cosmos")
    await with_retries(lambda: update.effective_message.reply_text(greeting, reply_markup=markup))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    reply = text(language_of(update.effective_user), "help")
    await with_retries(lambda: update.effective_message.reply_text(reply))


async def cosmic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a random cosmic image with a button for the next one."""
    await _send_cosmic(update, context)


async def another(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a cosmic button press with the next image."""
    # Answer first: it stops the button's spinner while the image is on its way. A press
    # made while the bot was down is too old to answer, but still deserves its image.
    with suppress(TelegramError):
        await update.callback_query.answer()
    await _send_cosmic(update, context)


async def _send_cosmic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat_data = context.chat_data if context.chat_data is not None else {}
    key = await deliver_cosmic(
        context.bot,
        update.effective_chat.id,
        language_of(update.effective_user),
        previous_key=chat_data.get(LAST_KEY),
    )
    if key is not None:
        chat_data[LAST_KEY] = key


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error, then tell the user in plain words."""
    error = context.error
    if isinstance(error, Conflict):
        logger.error(
            "Another process is already polling Telegram with this bot token "
            "(409 Conflict); stop it, or this instance will not receive updates"
        )
        return
    if isinstance(error, Forbidden):
        logger.info("Cannot write to a chat: {}", error)
        return
    logger.opt(exception=error).error("Error while handling an update")
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None:
        return
    language = language_of(update.effective_user)
    reply = "try_again" if is_unavailable(error) else "went_wrong"
    # Telegram may be the very thing failing; the reply is a courtesy, not a must.
    with suppress(TelegramError):
        await context.bot.send_message(chat.id, text(language, reply))
