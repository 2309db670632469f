"""How many photos went out by file_id, and how many were uploaded: since start, and in all.

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

_since_start: Counter[str] = Counter()
_unsaved: Counter[str] = Counter()


def restart() -> None:
    """Start counting "since start" from zero (call flush() first to keep the unsaved)."""
    _since_start.clear()
    _unsaved.clear()


def count(name: str) -> None:
    """Count one send of the kind name."""
    _since_start[name] += 1
    _unsaved[name] += 1


def since_start() -> dict[str, int]:
    """Return the counts since this process started."""
    return {name: _since_start[name] for name in NAMES}


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


async def totals() -> dict[str, int]:
    """Return the counts over the bot's whole life."""
    await flush()
    saved = await read_in_db_thread(SendCount.totals)
    return {name: saved.get(name, 0) + _unsaved[name] for name in NAMES}


def _save(batch: dict[str, int]) -> None:
    with database.atomic():
        for name, amount in batch.items():
            SendCount.add(name, amount).execute()
