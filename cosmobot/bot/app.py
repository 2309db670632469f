"""Application wiring: builds the python-telegram-bot Application with every handler."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from cosmobot import sender
from cosmobot.bot import daily_handlers, handlers
from cosmobot.bot.chatlanes import ChatLaneProcessor
from cosmobot.botapi.polling import PollingRequest
from cosmobot.botapi.ratelimit import build_rate_limiter
from cosmobot.config import Settings
from cosmobot.delivery import COSMIC_PATTERN
from cosmobot.images.assets import AssetLibrary
from cosmobot.schedule import jobs
from cosmobot.schedule.warm import BackgroundWarmer
from cosmobot.storage import adoption, sendcounts, writes
from cosmobot.storage.database import close_database
from cosmobot.texts import ENGLISH, LANGUAGES, text

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
COMMANDS = ("cosmic", "daily", "status", "stop", "start", "help")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
READ_TIMEOUT_SECONDS = 30
BOOTSTRAP_RETRIES = 3
MEDIA_WRITE_TIMEOUT_SECONDS = 60
# How long a stopping bot waits for writes still on their way (file_ids, "seen" records).
SHUTDOWN_WRITES_SECONDS = 10
POLLING = "polling_request"


def build_application(settings: Settings) -> Application:
    """Build the Application with every handler registered here, in one place."""
    polling = PollingRequest(connection_pool_size=1)
    application = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.api_url)
        # One user's slow upload must never hold up another user's update, nor one chat's flood
        # of commands everyone else's.
        .concurrent_updates(ChatLaneProcessor())
        # PTB's 5 s default is short for Telegram to take in and process a photo upload; a
        # timed-out upload is not retried (it may have arrived), so give it time instead.
        .read_timeout(READ_TIMEOUT_SECONDS)
        .media_write_timeout(MEDIA_WRITE_TIMEOUT_SECONDS)
        .get_updates_request(polling)
        # Within Telegram's flood limits, replies to users ahead of bulk sends.
        .rate_limiter(build_rate_limiter())
        # In groups PTB quotes the command it answers; one deleted meanwhile is no reason to
        # leave the user without an answer.
        .defaults(Defaults(allow_sending_without_reply=True))
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
        .build()
    )
    polling.on_token_rejected = application.stop_running
    application.bot_data["settings"] = settings
    application.bot_data[POLLING] = polling
    application.bot_data[handlers.IN_FLIGHT] = set()
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("cosmic", handlers.cosmic))
    # For the admins only; not in the menu nor in /help.
    application.add_handler(CommandHandler("stats", handlers.stats))
    application.add_handler(CallbackQueryHandler(handlers.another, pattern=COSMIC_PATTERN))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_handler(CommandHandler("daily", daily_handlers.daily))
    application.add_handler(CommandHandler("stop", daily_handlers.stop))
    application.add_handler(CommandHandler("status", daily_handlers.status))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, daily_handlers.migrated))
    application.add_error_handler(handlers.on_error)
    return application


def run_application(
    application: Application,
    stop_signals: Sequence[int] | None = STOP_SIGNALS,
    loop: asyncio.AbstractEventLoop | None = None,
) -> None:
    """Long-poll Telegram until a stop signal or stop_running(); blocks until then.

    The event loop (a new one unless given) is closed on return.
    """
    loop = loop or asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        application.run_polling(
            allowed_updates=ALLOWED_UPDATES,
            stop_signals=stop_signals,
            close_loop=False,
            # A network blip while the machine boots should not end the bot.
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    except InvalidToken:
        # When polling died of a revoked token, PTB may re-raise while stopping the updater and
        # skip the rest of its shutdown; finish it, so nothing is left running.
        _finish_shutdown(application, loop)
        raise
    finally:
        loop.close()
    if application.bot_data[POLLING].token_rejected:
        # Or polling stopped quietly, and only the poll itself saw the token refused.
        raise InvalidToken("Telegram rejected the bot token while polling")


def _finish_shutdown(application: Application, loop: asyncio.AbstractEventLoop) -> None:
    if application.running:
        loop.run_until_complete(application.stop())
        loop.run_until_complete(post_stop(application))
    loop.run_until_complete(application.shutdown())
    if application.post_shutdown:
        loop.run_until_complete(application.post_shutdown(application))


async def post_init(application: Application) -> None:
    """Adopt unclaimed rows, scan the images; schedule menu, rescans, round, warm-up, pruning."""
    settings: Settings = application.bot_data["settings"]
    # Before the first round: rows of a database that held one bot before, unsure whose.
    await adoption.adopt_at_start(application.bot.id)
    library = AssetLibrary(settings.assets_dir)
    library.scan()
    sender.configure(library)
    sendcounts.restart()
    application.job_queue.run_repeating(
        jobs.save_send_counts, interval=sendcounts.FLUSH_INTERVAL_SECONDS, name=jobs.COUNTS_JOB
    )
    if settings.cache_chat_id is not None:
        # In the background: start-up waits for no upload.
        application.bot_data[jobs.WARMER] = BackgroundWarmer(settings.cache_chat_id)
        application.job_queue.run_once(jobs.warm_cache, when=0, name=jobs.WARM_JOB)
    # In the background: the menu is cosmetic, and Telegram failing to take it must not keep
    # the bot from answering.
    application.job_queue.run_once(
        jobs.publish_command_menu, when=0, data=publish_commands, name=jobs.MENU_JOB
    )
    application.job_queue.run_repeating(
        jobs.rescan_assets,
        interval=jobs.RESCAN_INTERVAL_SECONDS,
        first=jobs.RESCAN_INTERVAL_SECONDS,
        name=jobs.RESCAN_JOB,
    )
    # Soon after start: a round cut short by a restart goes on, and chats due meanwhile get
    # today's image.
    application.job_queue.run_repeating(
        jobs.daily_round,
        interval=jobs.DAILY_INTERVAL_SECONDS,
        first=jobs.DAILY_FIRST_SECONDS,
        name=jobs.DAILY_JOB,
        job_kwargs=jobs.DAILY_JOB_KWARGS,
    )
    application.job_queue.run_repeating(
        jobs.prune_database,
        interval=jobs.PRUNE_INTERVAL_SECONDS,
        first=jobs.PRUNE_FIRST_SECONDS,
        name=jobs.PRUNE_JOB,
    )


async def publish_commands(bot: Bot) -> None:
    """Publish the command menu in every language."""
    for language in LANGUAGES:
        commands = [BotCommand(name, text(language, f"command_{name}")) for name in COMMANDS]
        # The English menu is the default for every language without a menu of its own.
        code = None if language == ENGLISH else language
        await bot.set_my_commands(commands, language_code=code)


async def post_stop(application: Application) -> None:
    """Stop the warm-up while the bot's connections to Telegram are still open."""
    # PTB runs this after the updates and jobs are done and before it closes the bot's HTTP
    # connections (Application.shutdown): the upload on its way can still finish.
    if jobs.WARMER in application.bot_data:
        await application.bot_data[jobs.WARMER].stop()


async def post_shutdown(application: Application) -> None:
    """Finish the writes still on their way, then release the database."""
    if jobs.WARMER in application.bot_data:
        # Stopped in post_stop already, unless the bot stopped before it ever ran.
        await application.bot_data[jobs.WARMER].stop(timeout=0)
    await writes.finish(timeout=SHUTDOWN_WRITES_SECONDS)
    await sendcounts.flush()
    close_database()
