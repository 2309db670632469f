"""JobQueue callbacks: thin wrappers around plain functions."""

from __future__ import annotations

import asyncio

from loguru import logger
from telegram.error import InvalidToken
from telegram.ext import Application, ContextTypes

from cosmobot import sender

RESCAN_INTERVAL_SECONDS = 30
RESCAN_JOB = "rescan-assets"
WATCH_JOB = "watch-polling"
# python-telegram-bot gives the task that long-polls Telegram this name.
POLLING_TASK_NAME = "Updater:start_polling:polling_task"


async def rescan_assets(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pick up images added, removed or replaced since the last scan."""
    # Off the event loop: the walk stats every file, and a rescan opens the new ones.
    if await asyncio.to_thread(sender.library().rescan_if_changed):
        logger.info("The image folder changed; the image list was rescanned")


async def watch_polling(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Make the bot exit when polling ends for good, instead of idling silently."""
    # Long polling only ends by itself on a token revoked while running; PTB then logs once
    # and leaves the process up with nothing to do.
    task = next((t for t in asyncio.all_tasks() if t.get_name() == POLLING_TASK_NAME), None)
    if task is None:
        logger.debug("No polling task named {!r} to watch", POLLING_TASK_NAME)
        return
    application = context.application
    task.add_done_callback(lambda done: _stop_if_token_rejected(application, done))


def _stop_if_token_rejected(application: Application, task: asyncio.Task) -> None:
    if not task.cancelled() and isinstance(task.exception(), InvalidToken):
        # Shutting down re-raises the error, which `cosmobot run` reports as "token rejected".
        application.stop_running()
