"""The sender: sends images by cached Telegram file_id, uploading each file only once.

Module-level on purpose: one library and one set of upload locks per process, shared by
every handler and job.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Coroutine
from contextlib import suppress
from pathlib import Path

from loguru import logger
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

from cosmobot import photo
from cosmobot.assets import AssetLibrary
from cosmobot.models import ImageAsset
from cosmobot.retry import is_unavailable, with_retries

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

# Telegram's answers to a file_id it no longer accepts (revoked, foreign, corrupted).
STALE_FILE_ID_ERRORS = (
    "wrong file identifier",
    "wrong remote file identifier",
    "file reference",
    "wrong type of the web page content",
    "failed to get http url content",
)
# Telegram's answers to an uploaded file it cannot use as a photo.
REJECTED_IMAGE_ERRORS = ("image_process_failed", "photo_invalid_dimensions", "too big for a photo")

_library: AssetLibrary | None = None
# One lock per image: concurrent first sends of it make a single upload (single flight).
_upload_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
# The last upload of each image that failed because Telegram was unavailable, and when.
_upload_failures: dict[str, tuple[float, TelegramError]] = {}
_background_tasks: set[asyncio.Task] = set()


def configure(library: AssetLibrary | None) -> None:
    """Use library from now on, and forget locks bound to an older event loop."""
    global _library
    _library = library
    _upload_locks.clear()
    _upload_failures.clear()


def library() -> AssetLibrary:
    """Return the library the sender uses."""
    if _library is None:
        raise RuntimeError("cosmobot.sender.configure() must be called before sending")
    return _library


def random_cosmic_key(exclude: str | None = None) -> str | None:
    """Return a random key among the cosmic images, or None if none are installed."""
    return library().random_cosmic_key(exclude)


async def send_image(
    bot: Bot,
    chat_id: int,
    asset_key: str,
    caption: str | None = None,
    reply_markup: ReplyMarkup | None = None,
) -> Message | None:
    """Send the image at asset_key; None if there is no usable image file for it."""
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
    send = _Send(bot, chat_id, asset_key, caption, reply_markup)
    rejected = None
    cached = _usable_row(asset_key, bot.id, fingerprint)
    if cached is not None:
        message = await send.by_file_id(cached)
        if message is not None:
            return message
        rejected = cached.file_id
    return await _upload_once(send, path, fingerprint, rejected)


async def send_random_cosmic(
    bot: Bot,
    chat_id: int,
    caption: str | None = None,
    reply_markup: ReplyMarkup | None = None,
) -> Message | None:
    """Send a random cosmic image; None if none are installed."""
    key = random_cosmic_key()
    if key is None:
        return None
    return await send_image(bot, chat_id, key, caption=caption, reply_markup=reply_markup)


async def _upload_once(
    send: _Send, path: Path, fingerprint: str, rejected: str | None
) -> Message | None:
    """Upload under the image's lock, unless whoever held it before us settled the matter."""
    queued_at = time.monotonic()
    _in_background(_show_uploading(send.bot, send.chat_id))
    async with _upload_locks[send.key]:
        failed_at, error = _upload_failures.get(send.key, (0.0, None))
        if error is not None and failed_at >= queued_at:
            # Telegram just failed this very upload; repeating it for everyone in the queue
            # would only keep them all waiting.
            raise error
        cached = _usable_row(send.key, send.bot.id, fingerprint)
        if cached is not None and cached.file_id != rejected:
            message = await send.by_file_id(cached)
            if message is not None:
                return message
        try:
            return await send.upload(path, fingerprint)
        except TelegramError as failure:
            if is_unavailable(failure):
                _upload_failures[send.key] = (time.monotonic(), failure)
            raise


async def _show_uploading(bot: Bot, chat_id: int) -> None:
    # "sending a photo..." in the chat while the user waits; a nicety, so never fatal.
    with suppress(TelegramError):
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO, read_timeout=5)


def _in_background(coroutine: Coroutine) -> None:
    task = asyncio.create_task(coroutine)
    # The event loop keeps only weak references to tasks: hold this one until it is done.
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)


async def _fingerprint(path: Path) -> str:
    # Hashing a new file version reads it whole: do that off the event loop.
    cached = library().cached_fingerprint(path)
    return cached or await asyncio.to_thread(library().fingerprint, path)


def _usable_row(asset_key: str, bot_id: int, fingerprint: str) -> ImageAsset | None:
    row = ImageAsset.lookup(asset_key)
    if row is None or row.is_valid_for(bot_id, fingerprint):
        return row
    logger.info("Cached file_id for {} is for another bot or older file content", asset_key)
    return None


class _Send:
    """One send of one image to one chat, by file_id or by upload."""

    def __init__(self, bot: Bot, chat_id: int, key: str, caption, reply_markup) -> None:
        self.bot, self.chat_id, self.key = bot, chat_id, key
        self.options = {"caption": caption, "reply_markup": reply_markup}

    async def by_file_id(self, row: ImageAsset) -> Message | None:
        """Send by the cached file_id; None (and the row dropped) if Telegram rejects it."""
        try:
            message = await with_retries(
                lambda: self.bot.send_photo(self.chat_id, row.file_id, **self.options)
            )
        except BadRequest as error:
            if not _has_marker(error, STALE_FILE_ID_ERRORS):
                raise
            logger.warning("Telegram rejected the cached file_id for {}: {}", self.key, error)
            ImageAsset.forget(self.key, row.file_id).execute()
            return None
        logger.info("Cache hit: {} sent to {} by file_id", self.key, self.chat_id)
        return message

    async def upload(self, path: Path, fingerprint: str) -> Message | None:
        """Upload the file and remember its file_id; None if the file is no usable image."""
        logger.info("Cache miss: uploading {} for {}", self.key, self.chat_id)
        try:
            # Off the event loop: a full decode, and maybe a re-encode, takes a while.
            data = await asyncio.to_thread(photo.prepare_upload, path)
        except OSError as error:
            library().discard(self.key, f"not a valid image ({error})")
            return None
        upload = InputFile(data, filename=path.name)
        try:
            message = await with_retries(
                lambda: self.bot.send_photo(self.chat_id, upload, **self.options)
            )
        except BadRequest as error:
            if not _has_marker(error, REJECTED_IMAGE_ERRORS):
                raise
            library().discard(self.key, f"Telegram refused it as a photo ({error})")
            return None
        largest = message.photo[-1]
        ImageAsset.store(
            self.key, largest.file_id, largest.file_unique_id, self.bot.id, fingerprint
        ).execute()
        logger.info("Cached file_id for {}", self.key)
        return message


def _has_marker(error: BadRequest, markers: tuple[str, ...]) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in markers)
