"""Application wiring: builds the python-telegram-bot Application with every handler."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence

from telegram import BotCommand, Update
from telegram.error import InvalidToken
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from cosmobot import handlers, jobs, sender
from cosmobot.assets import AssetLibrary
from cosmobot.config import Settings
from cosmobot.database import close_database
from cosmobot.delivery import COSMIC_CALLBACK
from cosmobot.retry import with_retries
from cosmobot.texts import ENGLISH, LANGUAGES, text

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
COMMANDS = ("cosmic", "start", "help")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
READ_TIMEOUT_SECONDS = 30
BOOTSTRAP_RETRIES = 3
MEDIA_WRITE_TIMEOUT_SECONDS = 60


def build_application(settings: Settings) -> Application:
    """Build the Application with every handler registered here, in one place."""
    application = (
        Application.builder()
        .token(settings.require_token())
        .base_url(settings.api_url)
        # One user's slow upload must never hold up another user's update.
        .concurrent_updates(True)
        # PTB's 5 s default is short for Telegram to take in and process a photo upload; a
        # timed-out upload is not retried (it may have arrived), so give it time instead.
        .read_timeout(READ_TIMEOUT_SECONDS)
        .media_write_timeout(MEDIA_WRITE_TIMEOUT_SECONDS)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["settings"] = settings
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("cosmic", handlers.cosmic))
    application.add_handler(CallbackQueryHandler(handlers.another, pattern=f"^{COSMIC_CALLBACK}$"))
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
        # When polling died of a revoked token, PTB re-raises while stopping the updater and
        # skips the rest of its shutdown; finish it, so nothing is left running.
        _finish_shutdown(application, loop)
        raise
    finally:
        loop.close()


def _finish_shutdown(application: Application, loop: asyncio.AbstractEventLoop) -> None:
    if application.running:
        loop.run_until_complete(application.stop())
    loop.run_until_complete(application.shutdown())
    if application.post_shutdown:
        loop.run_until_complete(application.post_shutdown(application))


async def post_init(application: Application) -> None:
    """Scan the images, publish the command menu and schedule the folder watch."""
    settings: Settings = application.bot_data["settings"]
    library = AssetLibrary(settings.assets_dir)
    library.scan()
    sender.configure(library)
    for language in LANGUAGES:
        await _publish_commands(application, language)
    application.job_queue.run_repeating(
        jobs.rescan_assets,
        interval=jobs.RESCAN_INTERVAL_SECONDS,
        first=jobs.RESCAN_INTERVAL_SECONDS,
        name=jobs.RESCAN_JOB,
    )
    # The job queue starts after polling does, so this finds the polling task running.
    application.job_queue.run_once(jobs.watch_polling, when=0, name=jobs.WATCH_JOB)


async def _publish_commands(application: Application, language: str) -> None:
    commands = [BotCommand(name, text(language, f"command_{name}")) for name in COMMANDS]
    # The English menu is the default for every language without a menu of its own.
    code = None if language == ENGLISH else language
    await with_retries(lambda: application.bot.set_my_commands(commands, language_code=code))


async def post_shutdown(application: Application) -> None:
    """Release the database connection."""
    close_database()
