"""Update handlers: thin wrappers that read the update and call the functions doing the work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from loguru import logger
from telegram import CallbackQuery, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TelegramError
from telegram.ext import ContextTypes

from cosmobot import sender
from cosmobot.bot.inline import answer_inline
from cosmobot.bot.stats import stats_report
from cosmobot.botapi.retry import is_unavailable, with_retries
from cosmobot.delivery import cosmic_button, deliver_cosmic, deliver_match
from cosmobot.schedule.jobs import WARMER
from cosmobot.storage.outage import is_unreachable
from cosmobot.texts import language_of, text

# bot_data key of the set of chats with an image on its way.
IN_FLIGHT = "images_in_flight"


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


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show an admin what the bot has done; anyone else gets the help text, as for /help."""
    user = update.effective_user
    if user is None or user.id not in context.bot_data["settings"].admin_ids:
        await help_command(update, context)
        return
    reply = await stats_report(context.bot, language_of(user))
    await with_retries(lambda: update.effective_message.reply_text(reply))


async def cosmic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a random cosmic image (one whose title matches the words given, if any)."""
    with _image_slot(context, update.effective_chat.id) as free:
        if not free:
            logger.debug("/cosmic in chat {} dropped: an image is on its way there",
                         update.effective_chat.id)
            return
        await _send_cosmic(update, context)


async def another(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a cosmic button press with the next image."""
    query = update.callback_query
    with _image_slot(context, update.effective_chat.id) as free:
        if not free:
            # Answered in the background: a chat pressing fast must not hold PTB's update
            # slots, which other chats' updates wait for, while the answers go out.
            notice = text(language_of(update.effective_user), "on_its_way")
            context.application.create_task(_answer(query, notice), update=update)
            return
        # Answer first: it stops the button's spinner while the image is on its way. A press
        # made while the bot was down is too old to answer, but still deserves its image.
        await _answer(query)
        await _send_cosmic(update, context)


async def _answer(query: CallbackQuery, notice: str | None = None) -> None:
    with suppress(TelegramError):
        await query.answer(notice)


@contextmanager
def _image_slot(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> Iterator[bool]:
    """Claim the chat's one image slot for the block; yields False if it is taken."""
    # One image at a time per chat: a chat pressing fast under Telegram's per-chat flood limit
    # would otherwise fill every update slot with sends waiting out 429s, and hold up others.
    busy: set[int] = context.bot_data[IN_FLIGHT]
    if chat_id in busy:
        yield False
        return
    busy.add(chat_id)
    try:
        yield True
    finally:
        busy.discard(chat_id)


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer `@bot words` with the cached photos whose titles match."""
    query = update.inline_query
    await answer_inline(
        context.bot, query.id, query.from_user.id, query.query, query.offset,
        language_of(query.from_user), context.bot_data.get(WARMER),
    )


async def _send_cosmic(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.args:
        await deliver_match(
            context.bot,
            update.effective_chat.id,
            language_of(update.effective_user),
            " ".join(context.args),
            thread_id=topic_of(update),
        )
        return
    await deliver_cosmic(
        context.bot,
        update.effective_chat.id,
        language_of(update.effective_user),
        thread_id=topic_of(update),
    )


def topic_of(update: object) -> int | None:
    """Return the forum topic an update was asked in (for a button, the topic it is in)."""
    message = update.effective_message if isinstance(update, Update) else None
    # Only a topic message's thread id names a topic; in other groups it names a reply chain.
    if message is None or not getattr(message, "is_topic_message", False):
        return None
    return message.message_thread_id


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error, then tell the user in plain words."""
    error = context.error
    if isinstance(error, Conflict):
        # The polling request logs another poller once, when it appears; not on every retry.
        logger.debug("A poll for updates was refused: {}", error)
        return
    if _is_failed_poll(update, context):
        # The polling request logs an outage once, when it starts; not on every retry.
        logger.debug("A poll for updates failed: {}", error)
        return
    if isinstance(error, Forbidden):
        logger.info("Cannot write to a chat: {}", error)
        return
    database_away = is_unreachable(error)
    if isinstance(error, sender.SharedUploadFailed):
        # The upload's own request logged the details, traceback and all: once is enough.
        logger.warning("{}", error)
    elif database_away:
        # The outage is logged once, as it starts; the user is told something went wrong.
        logger.debug("An update could not be handled without the database: {}", error)
    else:
        logger.opt(exception=error).error("Error while handling an update")
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None:
        return
    language = language_of(update.effective_user)
    reply = "try_again" if is_unavailable(error) else "went_wrong"
    # Telegram may be the very thing failing; the reply is a courtesy, not a must.
    with suppress(TelegramError):
        await context.bot.send_message(
            chat.id, text(language, reply), message_thread_id=topic_of(update)
        )


def _is_failed_poll(update: object, context: ContextTypes.DEFAULT_TYPE) -> bool:
    # PTB hands the error handlers a failed getUpdates with no update and no job.
    error = context.error
    return (update is None and context.job is None and isinstance(error, NetworkError)
            and not isinstance(error, BadRequest))
