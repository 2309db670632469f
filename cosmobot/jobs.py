"""JobQueue callbacks: thin wrappers around plain functions."""

from __future__ import annotations

from loguru import logger
from telegram.ext import ContextTypes

from cosmobot import sender

RESCAN_INTERVAL_SECONDS = 30
RESCAN_JOB = "rescan-assets"


async def rescan_assets(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Pick up images added, removed or replaced since the last scan."""
    if sender.library().rescan_if_changed():
        logger.info("The image folder changed; the image list was rescanned")
