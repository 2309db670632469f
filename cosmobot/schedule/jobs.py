"""JobQueue callbacks: thin wrappers around plain functions."""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes

from cosmobot import sender
from cosmobot.botapi.retry import retry_after_seconds
from cosmobot.schedule import daily
from cosmobot.storage import prune, sendcounts

RESCAN_INTERVAL_SECONDS = 30
RESCAN_JOB = "rescan-assets"
HEADERS_JOB = "check-image-headers"
MENU_JOB = "publish-command-menu"
WARM_JOB = "warm-cache"
COUNTS_JOB = "save-send-counts"
# bot_data key of the BackgroundWarmer, there while this process leads and a cache chat is set.
WARMER = "warmer"
# bot_data key: True while this process has the leader's duties (see bot.duties).
LEADING = "leading"
# How long to wait before publishing the menu again after Telegram failed to take it.
MENU_RETRY_SECONDS = 60.0
DAILY_JOB = "daily-round"
# How often the daily round looks for subscribers whose time has come, and how soon after start.
DAILY_INTERVAL_SECONDS = 20.0
DAILY_FIRST_SECONDS = 1.0
# A round may outlast the interval (100,000 chats take about an hour). With APScheduler's
# default of one running instance, every tick meanwhile would be skipped with a warning
# ("maximum number of running instances reached"); a second instance instead finds the round
# running and returns at once (daily.run_round), saying nothing.
DAILY_JOB_KWARGS = {"max_instances": 2}
PRUNE_JOB = "prune-database"
# Pruning starts a few minutes after start, when the bot has settled, then runs a few times a day.
PRUNE_FIRST_SECONDS = 300.0
PRUNE_INTERVAL_SECONDS = 6 * 3600.0


def leading(application: Any) -> bool:
    """Whether the application runs and this process has the leader's duties."""
    return application.running and application.bot_data.get(LEADING, False)


async def daily_round(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the daily image to the subscribers whose time has come."""
    application = context.application
    daily.next_round_at = context.job.next_t
    # A stopping Application, or a process that no longer leads, takes no new chats; the
    # sends in flight are recorded before the duties are given back (or PTB's stop ends).
    await daily.run_round(context.bot, stopping=lambda: not leading(application))


async def prune_database(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete the rows no chat can use any more, in small batches."""
    application = context.application
    # A stopping bot, or one that no longer leads, ends it after the batch in progress.
    await prune.prune_stale(context.bot.id, stopping=lambda: not leading(application))


async def rescan_assets(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pick up images added, removed or replaced since the last scan."""
    # Off the event loop: the walk stats every file, and a rescan opens the new ones.
    if await asyncio.to_thread(sender.library().rescan_if_changed):
        logger.info("The image folder changed; the image list was rescanned")
        if WARMER in context.bot_data:
            context.job_queue.run_once(warm_cache, when=0, name=WARM_JOB)


async def check_image_headers(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open the header of each image the start-up scan left unchecked; skip the bad ones."""
    # Off the event loop, once: the bot answers meanwhile (a bad file met first is skipped
    # at its upload, with the same single warning).
    await asyncio.to_thread(sender.library().check_headers)


async def warm_cache(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Upload the images not cached yet to the cache chat, in the background."""
    warmer = context.bot_data.get(WARMER)
    if warmer is not None:  # gone if this process stopped leading since it was scheduled
        warmer.start(context.bot)


async def save_send_counts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Add the sends counted lately to the totals in the database."""
    await sendcounts.flush()


async def publish_command_menu(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Publish the command menu with the function in the job's data; on failure, try later."""
    publish = context.job.data
    try:
        await publish(context.bot)
    except TelegramError as error:
        delay = retry_after_seconds(error) if isinstance(error, RetryAfter) else MENU_RETRY_SECONDS
        logger.warning(
            "Could not publish the command menu ({}: {}); trying again in {:.0f}s",
            type(error).__name__, error, delay,
        )
        context.job_queue.run_once(publish_command_menu, when=delay, data=publish, name=MENU_JOB)
        return
    logger.info("Published the command menu")
