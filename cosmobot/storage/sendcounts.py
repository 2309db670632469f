"""How many photos each bot sent by file_id, and how many it uploaded: since start, and in all.

Counted in memory as sends happen; the lifetime totals reach the database (send_counts) in
the background, a batch at a time, so counting never makes a send wait for the database.
"""

from __future__ import annotations

from collections import Counter

import peewee
from loguru import logger

from cosmobot.storage.database import database, in_db_thread, read_in_db_thread
from cosmobot.storage.models import SendCount
from cosmobot.storage.outage import is_unreachable

FILE_ID_SENDS = "file_id_sends"
UPLOADS = "uploads"
NAMES = (FILE_ID_SENDS, UPLOADS)
# How often the bot writes the counts gathered since the last write.
FLUSH_INTERVAL_SECONDS = 10

# (bot, name) -> count.
_since_start: Counter[tuple[int, str]] = Counter()
_unsaved: Counter[tuple[int, str]] = Counter()


def restart() -> None:
    """Start counting "since start" from zero (call flush() first to keep the unsaved)."""
    _since_start.clear()
    _unsaved.clear()


def count(bot_id: int, name: str) -> None:
    """Count one send of the kind name by bot_id."""
    _since_start[bot_id, name] += 1
    _unsaved[bot_id, name] += 1


def since_start(bot_id: int) -> dict[str, int]:
    """Return bot_id's counts since this process started."""
    return {name: _since_start[bot_id, name] for name in NAMES}


async def flush() -> None:
    """Add the counts gathered since the last flush to the totals in the database."""
    if not _unsaved:
        return
    batch = dict(_unsaved)
    _unsaved.clear()
    try:
        await in_db_thread(_save, batch)
    except peewee.PeeweeException as error:
        _unsaved.update(batch)  # kept for the next flush
        # An outage is logged once, as it starts: no line every few seconds while it lasts.
        log = logger.debug if is_unreachable(error) else logger.warning
        log("Cannot save the send counts ({}); trying again later", error)


async def totals(bot_id: int) -> dict[str, int]:
    """Return bot_id's counts over its whole life."""
    await flush()
    saved = await read_in_db_thread(SendCount.totals, bot_id)
    return {name: saved.get(name, 0) + _unsaved[bot_id, name] for name in NAMES}


def _save(batch: dict[tuple[int, str], int]) -> None:
    with database.atomic():
        for (bot_id, name), amount in batch.items():
            SendCount.add(bot_id, name, amount).execute()
