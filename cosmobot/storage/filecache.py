"""The file_id cache: the image_assets table, with a copy in memory so sends never wait on it.

A file_id belongs to the bot that received it: the cache holds a row per bot and image, in
memory as in the database, so bots sharing a database (or a process) never replace or use each
other's. A cache hit is answered from memory. The database is read only for an image this process
has not seen yet, and at most once a while for one it found no row for (a miss is remembered
for MISS_SECONDS: an inline query then costs one read, not one per uncached image). New and
dropped file_ids are written in the background (storage.writes): a locked or slow database
delays at most the send that needs it, and a write that fails after the photo went out is
retried, never reported to the user: a file_id's write is kept until the database takes it,
however long it is away.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial

import peewee
from loguru import logger

from cosmobot.clock import utcnow
from cosmobot.storage import uploadclaims, writes
from cosmobot.storage.database import database, read_in_db_thread
from cosmobot.storage.models import ImageAsset
from cosmobot.storage.outage import is_unreachable

# How long "the database has no row for this image" is believed without asking again. Short:
# another process (`cosmobot warm`) may cache the image meanwhile.
MISS_SECONDS = 30.0

# A bot's id and an asset_key.
Key = tuple[int, str]

# (bot, asset_key) -> its row; one entry per bot and image, so memory grows with the collection.
_rows: dict[Key, ImageAsset] = {}
# bot -> the asset_keys it has a row for in _rows: an inline query filters thousands by it.
_keys_by_bot: dict[int, set[str]] = {}
# (bot, asset_key) -> when the database last had no row for it (time.monotonic()).
_misses: dict[Key, float] = {}
# The file_id whose write is on its way, by write_key.
_storing: dict[tuple[str, int, str], str] = {}
# (bot, asset_key) -> the read of its row on its way, for every lookup made meanwhile: a
# hundred users asking at once for a new image make one read.
_reading: dict[Key, asyncio.Future[ImageAsset | None]] = {}


def reset() -> None:
    """Forget the copy in memory (the database keeps everything)."""
    _rows.clear()
    _keys_by_bot.clear()
    _misses.clear()
    _storing.clear()
    _reading.clear()


def keys_in_memory(bot_id: int) -> set[str]:
    """The asset_keys bot_id has a row for in memory (for any file content: lookup() checks)."""
    return _keys_by_bot.get(bot_id, set())


def _keep(key: Key, row: ImageAsset) -> ImageAsset:
    """Keep row in memory unless one is there already; return the one kept."""
    kept = _rows.setdefault(key, row)
    _keys_by_bot.setdefault(key[0], set()).add(key[1])
    return kept


async def lookup(asset_key: str, bot_id: int, fingerprint: str) -> ImageAsset | None:
    """Return bot_id's cached row for asset_key if it is for this file content."""
    key = (bot_id, asset_key)
    row = _rows.get(key)
    if row is None and not _missed_lately(key):
        row = await _read_once(key)
    if row is None or row.is_valid_for(bot_id, fingerprint):
        return row
    logger.info("Cached file_id for {} is for older file content", asset_key)
    return None


async def preload(bot_id: int, asset_keys: list[str]) -> None:
    """Read bot_id's rows of asset_keys not in memory yet, in one query."""
    missing = [asset_key for asset_key in asset_keys
               if (bot_id, asset_key) not in _rows and not _missed_lately((bot_id, asset_key))]
    if not missing:
        return
    try:
        rows = await read_in_db_thread(lambda: list(ImageAsset.lookup_many(bot_id, missing)))
    except peewee.PeeweeException as error:
        _log_read_failure("Cannot read the cached file_ids: {}", error)
        return
    for row in rows:
        _keep((bot_id, row.asset_key), row)
    found = {row.asset_key for row in rows}
    _missed({(bot_id, asset_key) for asset_key in missing if asset_key not in found})


async def _read_once(key: Key) -> ImageAsset | None:
    reading = _reading.get(key)
    if reading is None:
        reading = _reading[key] = asyncio.ensure_future(_read(key))
        reading.add_done_callback(lambda _: _reading.pop(key, None))
    # Shielded: a lookup given up on does not cancel the read the others wait for.
    return await asyncio.shield(reading)


async def _read(key: Key) -> ImageAsset | None:
    try:
        row = await read_in_db_thread(ImageAsset.lookup, *key)
    except peewee.PeeweeException as error:
        # Without the row the image is uploaded again: slower, but the user gets it.
        _log_read_failure("Cannot read the cached file_id of {}: {}", key[1], error)
        return None
    if row is None:
        _missed({key})
        return _rows.get(key)  # remembered meanwhile, maybe
    return _keep(key, row)


def _log_read_failure(message: str, *args: object) -> None:
    # While the database is away the outage is logged once; each read that fails meanwhile
    # needs no line of its own.
    log = logger.debug if is_unreachable(args[-1]) else logger.warning
    log(message, *args)


def adopt(row: ImageAsset) -> None:
    """Keep a row another process cached (read past this memory) as its bot's and image's row."""
    key = (row.bot_id, row.asset_key)
    _rows[key] = row
    _keys_by_bot.setdefault(row.bot_id, set()).add(row.asset_key)
    _misses.pop(key, None)


def _missed(keys: set[Key]) -> None:
    now = time.monotonic()
    for key in keys:
        _misses[key] = now


def _missed_lately(key: Key) -> bool:
    missed_at = _misses.get(key)
    return missed_at is not None and time.monotonic() - missed_at < MISS_SECONDS


def remember(
    asset_key: str, file_id: str, file_unique_id: str, bot_id: int, fingerprint: str
) -> asyncio.Task[bool]:
    """Cache bot_id's new file_id: in memory at once, in the database in the background.

    The write is kept until the database takes it; the task says when it did. An upload's
    claim this process holds on the image is let go of in the same transaction.
    """
    now = utcnow()
    _rows[(bot_id, asset_key)] = ImageAsset(
        asset_key=asset_key, file_id=file_id, file_unique_id=file_unique_id, bot_id=bot_id,
        fingerprint=fingerprint, created_at=now, refreshed_at=now,
    )
    _keys_by_bot.setdefault(bot_id, set()).add(asset_key)
    _misses.pop((bot_id, asset_key), None)
    query = ImageAsset.store(asset_key, file_id, file_unique_id, bot_id, fingerprint)
    key = write_key(bot_id, asset_key)

    def write(release: Callable[[], None] | None) -> asyncio.Task[bool]:
        return writes.queue_write(partial(_store, query, release),
                                  f"store the file_id of {asset_key}", key=key)

    task = uploadclaims.hand_over(bot_id, asset_key, write)
    _storing[key] = file_id
    task.add_done_callback(lambda _: _stored(key, file_id))
    return task


def _stored(key: tuple[str, int, str], file_id: str) -> None:
    if _storing.get(key) == file_id:
        del _storing[key]


def _store(query: peewee.Insert, release: Callable[[], None] | None) -> None:
    with database.atomic():
        query.execute()
        if release is not None:
            release()


def forget(bot_id: int, asset_key: str, file_id: str) -> None:
    """Drop bot_id's cached file_id of asset_key, if it is still file_id (Telegram refused it)."""
    key = (bot_id, asset_key)
    row = _rows.get(key)
    if row is None or row.file_id == file_id:
        _rows.pop(key, None)
        _keys_by_bot.get(bot_id, set()).discard(asset_key)
        # Until its delete is done the database still holds the refused row: do not read it.
        _missed({key})
    writing = write_key(bot_id, asset_key)
    if _storing.get(writing, file_id) != file_id:
        return  # a newer file_id's write is on its way: it replaces the refused one anyway
    # The delete matches file_id too: a newer file_id another process cached meanwhile stays.
    query = ImageAsset.forget(bot_id, asset_key, file_id)
    writes.queue_write(query.execute, f"forget the refused file_id of {asset_key}", key=writing)


def write_key(bot_id: int, asset_key: str) -> tuple[str, int, str]:
    """The key of the writes of one bot's file_id for one image: the newest of them wins."""
    return ("file_id", bot_id, asset_key)


async def settle(timeout: float | None = None) -> None:
    """Wait until the writes queued so far are done (or timeout seconds have passed)."""
    await writes.settle(timeout)
