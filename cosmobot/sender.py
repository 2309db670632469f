"""The sender: sends images by cached Telegram file_id, uploading each file only once.

Also the public API for other python-telegram-bot applications: setup() once, then
send_image() / send_random_cosmic() with their own caption and markup, and shutdown() at the
end (README: "Use the sender in your own bot").

Module-level on purpose: one library and one set of upload locks per process, shared by
every handler and job.

Only the upload of a new image holds that image's lock. Everyone who queued behind it then
sends by the new file_id at the same time, each at their own chat's pace. Under that lock the
upload also takes the image's claim in the database (storage.uploadclaims), so that other
processes of the bot wait for its file_id instead of uploading the image too.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import peewee
from loguru import logger
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import NetworkError, RetryAfter, TelegramError

from cosmobot import filehash, texts
from cosmobot.botapi import photosend
from cosmobot.botapi.photosend import PhotoSend
from cosmobot.botapi.retry import MAX_RETRY_AFTER_SECONDS, is_unavailable, retry_after_seconds
from cosmobot.images import photo
from cosmobot.images.assets import COSMIC, AssetLibrary
from cosmobot.storage import filecache, sendcounts, shufflebag, uploadclaims, writes
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import ImageAsset

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

_library: AssetLibrary | None = None
# One lock per bot and image: concurrent first sends of it make a single upload (single
# flight). Each bot uploads for itself: a file_id is of no use to another bot.
_upload_locks: defaultdict[tuple[int, str], asyncio.Lock] = defaultdict(asyncio.Lock)
# When the last upload of each bot's image failed because Telegram was unavailable, and why.
# Text only: a stored exception would keep its frames, and with them the upload's bytes, alive.
_upload_failures: dict[tuple[int, str], tuple[float, str]] = {}
# Decoding a large image takes memory several times its file size: one at a time.
PREPARE_SLOTS = 1
# Rounds of "upload, or send by the file_id someone else just got" before giving up.
NEW_IMAGE_ROUNDS = 3
_prepare_slots = asyncio.Semaphore(PREPARE_SLOTS)
# A user waiting for another's upload of the image sees "sending a photo..." after this many
# seconds only: a herd of 100 would otherwise make 100 extra requests as its photos go out.
WAITER_ACTION_DELAY_SECONDS = 1.0


class SharedUploadFailed(NetworkError):
    """The upload a request waited for failed; the uploader's request logged the details."""


class SetupError(RuntimeError):
    """setup() could not open or migrate the database, or find the images."""


def setup(database_url: str, assets_dir: str | os.PathLike[str]) -> AssetLibrary:
    """Make the sender ready for a bot of your own and return its scanned image library.

    Opens the database at database_url (`sqlite:///file.db`, `postgresql://...`), applies
    cosmobot's migrations and scans the images in assets_dir/cosmic. Calling it again starts
    over. It configures no logging and reads neither `.env` nor the environment.
    """
    root = Path(assets_dir)
    if not (root / COSMIC).is_dir():
        raise SetupError(f"No {COSMIC}/ folder in {root.resolve()}: give the assets folder")
    close_database()  # a second setup() replaces the first one's connections
    try:
        open_database(database_url)
        apply_migrations()
    except (peewee.PeeweeException, RuntimeError) as error:  # RuntimeError: unknown scheme
        raise SetupError(f"Cannot open or migrate cosmobot's database: {error}") from None
    library = AssetLibrary(root)
    library.scan()
    configure(library)
    sendcounts.restart()
    return library


async def shutdown(timeout: float | None = 10) -> None:
    """Finish the file_id writes still on their way (up to timeout s), then close the database.

    Writes still waiting after that (for a lock held elsewhere, say) are named in a warning.
    """
    await writes.finish(timeout)
    await sendcounts.flush()
    close_database()


def configure(library: AssetLibrary | None) -> None:
    """Use library from now on, and forget state bound to an older event loop."""
    global _library, _prepare_slots
    _library = library
    _upload_locks.clear()
    _upload_failures.clear()
    _prepare_slots = asyncio.Semaphore(PREPARE_SLOTS)
    filehash.reset()
    photosend.reset()
    filecache.reset()
    shufflebag.reset()


def library() -> AssetLibrary:
    """Return the library the sender uses."""
    if _library is None:
        raise RuntimeError("cosmobot.sender.configure() must be called before sending")
    return _library


def random_cosmic_key(exclude: str | None = None) -> str | None:
    """Return a random key among the cosmic images, or None if none are installed."""
    return library().random_cosmic_key(exclude)


def image_caption(asset_key: str, language: str = "en") -> str:
    """Return cosmobot's caption for an image: its title and the credit its licence may ask for."""
    return texts.caption(library().metadata(asset_key), language)


async def send_image(
    bot: Bot,
    chat_id: int,
    asset_key: str,
    caption: str | None = None,
    reply_markup: ReplyMarkup | None = None,
    *,
    chat_action: bool = True,
    upload_only: bool = False,
    **options: Any,
) -> Message | ImageAsset | None:
    """Send the image at asset_key; None if there is no usable image file for it.

    chat_action=False leaves out "sending a photo..." during an upload (for a chat nobody
    watches). upload_only=True (the cache warm-up) sends nothing when the image has a cached
    file_id, also one another process cached meanwhile, and returns its row instead. Further
    keyword arguments (message_thread_id, say) go to Bot.send_photo.
    """
    path = library().resolve(asset_key)
    if path is None:
        if library().get(asset_key) is not None:
            library().discard(asset_key, "the file is gone")
        else:
            logger.warning("No image {!r} under {}", asset_key, library().root)
        return None
    try:
        fingerprint = await _fingerprint(path)
    except OSError as error:
        library().discard(asset_key, f"cannot read it ({error})")
        return None
    send = PhotoSend(bot, chat_id, asset_key, fingerprint,
                     {"caption": caption, "reply_markup": reply_markup, **options},
                     library(), _prepare, chat_action)
    rejected = None
    cached = await filecache.lookup(asset_key, bot.id, fingerprint)
    if cached is not None:
        if upload_only:
            return cached
        message = await send.by_file_id(cached)
        if message is not None:
            return message
        rejected = cached.file_id
    return await _send_new(send, path, rejected, upload_only)


async def is_cached(bot: Bot, asset_key: str) -> bool:
    """Whether bot can send the installed image at asset_key by a cached file_id."""
    return await cached_file_id(bot, asset_key) is not None


async def cached_file_id(bot: Bot, asset_key: str) -> str | None:
    """The file_id bot can send the installed image at asset_key by, without uploading it."""
    path = library().resolve(asset_key)
    if path is None:
        return None
    try:
        fingerprint = await _fingerprint(path)
    except OSError:
        return None
    row = await filecache.lookup(asset_key, bot.id, fingerprint)
    return row.file_id if row is not None else None


async def send_random_cosmic(
    bot: Bot,
    chat_id: int,
    caption: str | None = None,
    reply_markup: ReplyMarkup | None = None,
    **options: Any,
) -> Message | None:
    """Send a random cosmic image; None if none are installed."""
    key = random_cosmic_key()
    if key is None:
        return None
    return await send_image(bot, chat_id, key, caption, reply_markup, **options)


async def _send_new(send: PhotoSend, path: Path, rejected: str | None,
                    upload_only: bool = False) -> Message | ImageAsset | None:
    """Upload the image once for everyone, then send by its new file_id if someone else did."""
    flood: RetryAfter | None = None
    for _ in range(NEW_IMAGE_ROUNDS):
        try:
            outcome = await _upload_or_find_shown(send, path, rejected)
        except RetryAfter as error:
            # This chat is flood-limited: wait outside the lock, then look again (someone
            # else may have uploaded meanwhile).
            if retry_after_seconds(error) > MAX_RETRY_AFTER_SECONDS:
                raise
            flood = error
            await asyncio.sleep(retry_after_seconds(error))
            continue
        if not isinstance(outcome, ImageAsset) or upload_only:
            return outcome
        message = await send.by_file_id(outcome)
        if message is not None:
            return message
        rejected = outcome.file_id  # refused at once: the next round uploads anew
    raise flood or SharedUploadFailed(f"Telegram refused every new file_id of {send.key}")


async def _upload_or_find_shown(
    send: PhotoSend, path: Path, rejected: str | None
) -> Message | ImageAsset | None:
    """_upload_or_find(), with "sending a photo..." shown should it keep the user waiting."""
    waiting = asyncio.get_running_loop().call_later(WAITER_ACTION_DELAY_SECONDS,
                                                    send.show_uploading)
    try:
        return await _upload_or_find(send, path, rejected)
    finally:
        waiting.cancel()


async def _upload_or_find(
    send: PhotoSend, path: Path, rejected: str | None
) -> Message | ImageAsset | None:
    """Under the image's lock: the row someone else just cached, or our own upload's message."""
    queued_at = time.monotonic()
    flight = (send.bot.id, send.key)
    async with _upload_locks[flight]:
        _raise_if_failed_since(flight, queued_at)
        cached = await filecache.lookup(send.key, send.bot.id, send.fingerprint)
        if cached is not None and cached.file_id != rejected:
            return cached

        def usable(row: ImageAsset) -> bool:
            return row.is_valid_for(send.bot.id, send.fingerprint) and row.file_id != rejected

        async with uploadclaims.upload_turn(send.bot.id, send.key, usable) as found:
            if found is not None:  # another process uploaded it while this one waited
                filecache.adopt(found)
                return found
            return await _upload(send, path, flight)


async def _upload(send: PhotoSend, path: Path, flight: tuple[int, str]) -> Message | None:
    send.show_uploading()
    try:
        return await send.upload(path)
    except TelegramError as failure:
        if is_unavailable(failure) and not isinstance(failure, RetryAfter):
            _upload_failures[flight] = (time.monotonic(), f"{failure}")
        raise


def _raise_if_failed_since(flight: tuple[int, str], since: float) -> None:
    failed_at, reason = _upload_failures.get(flight, (0.0, ""))
    if failed_at >= since:
        # Telegram just failed this very upload; repeating it for everyone in the queue
        # would only keep them all waiting. A new, short exception for each of them.
        raise SharedUploadFailed(f"The upload of {flight[1]} failed moments ago: {reason}")


async def _fingerprint(path: Path) -> str:
    return await filehash.fingerprint(library(), path)


async def _prepare(path: Path) -> bytes:
    async with _prepare_slots:
        # Off the event loop: a full decode, and maybe a re-encode, takes a while.
        return await asyncio.to_thread(photo.prepare_upload, path)
