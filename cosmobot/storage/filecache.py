"""The file_id cache: the image_assets table, with a copy in memory so sends never wait on it.

A cache hit is answered from memory. The database is read only for an image this process
has not seen yet, and written in the background, in order, on the database thread: a
locked or slow database delays at most the send that needs it, and a write that fails
after the photo went out is retried, then logged, never reported to the user.
"""

from __future__ import annotations

import asyncio

import peewee
from loguru import logger

from cosmobot.storage.database import in_db_thread
from cosmobot.clock import utcnow
from cosmobot.storage.models import ImageAsset

WRITE_ATTEMPTS = 5
WRITE_BACKOFF_SECONDS = 1.0

# asset_key -> its row; one entry per image, so memory grows with the collection only.
_rows: dict[str, ImageAsset] = {}
_last_write: asyncio.Task | None = None


def reset() -> None:
    """Forget the copy in memory (the database keeps everything)."""
    global _last_write
    _rows.clear()
    _last_write = None


async def lookup(asset_key: str, bot_id: int, fingerprint: str) -> ImageAsset | None:
    """Return the cached row for asset_key if bot_id may send it for this file content."""
    row = _rows.get(asset_key) or await _read(asset_key)
    if row is None or row.is_valid_for(bot_id, fingerprint):
        return row
    logger.info("Cached file_id for {} is for another bot or older file content", asset_key)
    return None


async def preload(asset_keys: list[str]) -> None:
    """Read the rows of asset_keys not in memory yet, in one query."""
    missing = [key for key in asset_keys if key not in _rows]
    if not missing:
        return
    try:
        rows = await in_db_thread(lambda: list(ImageAsset.lookup_many(missing)))
    except peewee.PeeweeException as error:
        logger.warning("Cannot read the cached file_ids: {}", error)
        return
    for row in rows:
        _rows.setdefault(row.asset_key, row)


async def _read(asset_key: str) -> ImageAsset | None:
    try:
        row = await in_db_thread(ImageAsset.lookup, asset_key)
    except peewee.PeeweeException as error:
        # Without the row the image is uploaded again: slower, but the user gets it.
        logger.warning("Cannot read the cached file_id of {}: {}", asset_key, error)
        return None
    if row is not None:
        _rows.setdefault(asset_key, row)
    return _rows.get(asset_key)


def remember(
    asset_key: str, file_id: str, file_unique_id: str, bot_id: int, fingerprint: str
) -> None:
    """Cache a new file_id: in memory at once, in the database in the background."""
    now = utcnow()
    _rows[asset_key] = ImageAsset(
        asset_key=asset_key, file_id=file_id, file_unique_id=file_unique_id, bot_id=bot_id,
        fingerprint=fingerprint, created_at=now, refreshed_at=now,
    )
    query = ImageAsset.store(asset_key, file_id, file_unique_id, bot_id, fingerprint)
    _write_in_background(query, f"store the file_id of {asset_key}")


def forget(asset_key: str, file_id: str) -> None:
    """Drop asset_key's cached file_id, if it is still file_id (Telegram refused it)."""
    row = _rows.get(asset_key)
    if row is not None and row.file_id == file_id:
        del _rows[asset_key]
    _write_in_background(ImageAsset.forget(asset_key, file_id), f"forget {file_id!r}")


async def settle(timeout: float | None = None) -> None:
    """Wait until the writes queued so far are done (or timeout seconds have passed)."""
    if _last_write is not None and not _last_write.done():
        await asyncio.wait([_last_write], timeout=timeout)


def _write_in_background(query: peewee.Query, what: str) -> None:
    global _last_write
    # Each write waits for the one before: a store and a later forget of the same key must
    # reach the database in that order, retries included.
    _last_write = asyncio.create_task(_write_after(_last_write, query, what))


async def _write_after(previous: asyncio.Task | None, query: peewee.Query, what: str) -> None:
    if previous is not None:
        await asyncio.wait([previous])
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            await in_db_thread(query.execute)
            return
        except peewee.PeeweeException as error:
            if attempt == WRITE_ATTEMPTS:
                logger.error("Could not {} in the database: {}; it stays cached in memory "
                             "until the bot restarts", what, error)
                return
            delay = WRITE_BACKOFF_SECONDS * 2 ** (attempt - 1)
            logger.warning("Could not {} ({}); retrying in {:.0f}s", what, error, delay)
            await asyncio.sleep(delay)
