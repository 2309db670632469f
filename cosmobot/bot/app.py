"""Application wiring: builds the python-telegram-bot Application with every handler."""

from __future__ import annotations

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
from cosmobot.bot.lifecycle import POLLING
from cosmobot.botapi.polling import PollingRequest
from cosmobot.botapi.ratelimit import build_rate_limiter
from cosmobot.config import Settings
from cosmobot.delivery import COSMIC_PATTERN
from cosmobot.images.assets import AssetLibrary
from cosmobot.schedule import jobs
from cosmobot.storage import adoption, sendcounts, writes
from cosmobot.storage.database import close_database

READ_TIMEOUT_SECONDS = 30
MEDIA_WRITE_TIMEOUT_SECONDS = 60
# How long a stopping bot waits for writes still on their way (file_ids, "seen" records).
SHUTDOWN_WRITES_SECONDS = 10


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


async def post_init(application: Application) -> None:
    """Adopt unclaimed rows, scan the images; schedule what every process does: the folder
    watch, saving counts.

    What only the leader does (polling, the menu, the daily round, the warm-up, pruning)
    starts when this process takes the lead (`duties.take_duties`).
    """
    settings: Settings = application.bot_data["settings"]
    # Before the first round: rows of a database that held one bot before, unsure whose.
    await adoption.adopt_at_start(application.bot.id)
    library = AssetLibrary(settings.assets_dir)
    library.scan(headers=False)  # read after start: a large folder need not delay the bot
    sender.configure(library)
    application.job_queue.run_once(jobs.check_image_headers, when=0, name=jobs.HEADERS_JOB)
    sendcounts.restart()
    application.job_queue.run_repeating(
        jobs.save_send_counts, interval=sendcounts.FLUSH_INTERVAL_SECONDS, name=jobs.COUNTS_JOB
    )
    application.job_queue.run_repeating(
        jobs.rescan_assets,
        interval=jobs.RESCAN_INTERVAL_SECONDS,
        first=jobs.RESCAN_INTERVAL_SECONDS,
        name=jobs.RESCAN_JOB,
    )


async def post_stop(application: Application) -> None:
    """Stop the warm-up while the bot's connections to Telegram are still open."""
    # Giving up the leader's duties stopped it already; this runs after the updates and jobs
    # are done and before the bot's HTTP connections close (Application.shutdown), so the
    # upload on its way can still finish whatever path the stop took.
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
