"""`cosmobot warm`: one warm pass from the command line, with a progress bar (tqdm).

Log lines are written above the bar, so they never break it.
"""

from __future__ import annotations

import sys
from typing import TextIO

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest
from tqdm import tqdm

from cosmobot import sender
from cosmobot.botapi import ratelimit
from cosmobot.config import Settings
from cosmobot.images.assets import AssetLibrary
from cosmobot.schedule.warm import Outcome, WarmReport, warm_cache
from cosmobot.storage import filecache, sendcounts
from cosmobot.storage.adoption import adopt_at_start

# As the bot's own: an upload may take a while to write, and Telegram to take in.
READ_TIMEOUT_SECONDS = 30
MEDIA_WRITE_TIMEOUT_SECONDS = 60


async def warm_from_command_line(settings: Settings, stream: TextIO | None = None) -> WarmReport:
    """Scan the images, warm the cache with a progress bar, and wait for the writes."""
    library = AssetLibrary(settings.assets_dir)
    library.scan()
    sender.configure(library)
    sendcounts.restart()
    request = HTTPXRequest(read_timeout=READ_TIMEOUT_SECONDS,
                           media_write_timeout=MEDIA_WRITE_TIMEOUT_SECONDS)
    # A limiter of its own keeps the cache chat's pace even with no bot running beside it.
    bot = ExtBot(settings.require_token(), base_url=settings.api_url, request=request,
                 rate_limiter=ratelimit.build_rate_limiter())
    progress = WarmProgress(len(library.cosmic_keys), stream)
    try:
        async with bot:
            await adopt_at_start(bot.id)  # as the bot does when it starts
            report = await warm_cache(bot, settings.require_cache_chat(), progress)
    finally:
        progress.close()
        # Exit only once the new file_ids and the counts are in the database.
        await filecache.settle()
        await sendcounts.flush()
    return report


class LogThroughBar:
    """A stream for the log sink that writes above the progress bar instead of across it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def write(self, text: str) -> None:
        tqdm.write(text.rstrip("\n"), file=self._stream or sys.stderr)

    def flush(self) -> None:
        """tqdm.write flushes already."""


class WarmProgress:
    """The bar: image n of N, how many were uploaded, already cached or failed, and the ETA."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self._counts = {outcome: 0 for outcome in Outcome}
        self._bar = tqdm(total=total, unit="image", desc="Warming", file=stream or sys.stderr,
                         dynamic_ncols=True)
        self._show()

    def __call__(self, key: str, outcome: Outcome) -> None:
        """Count one image done."""
        self._counts[outcome] += 1
        self._show()
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    def _show(self) -> None:
        self._bar.set_postfix_str(
            ", ".join(f"{outcome} {count}" for outcome, count in self._counts.items()),
            refresh=False,
        )
