"""The sender: sends images by cached Telegram file_id, uploading each file only once.

Module-level on purpose: one library and one set of upload locks per process, shared by
every handler and job.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
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
from telegram.error import BadRequest

from cosmobot import photo
from cosmobot.assets import AssetLibrary
from cosmobot.models import ImageAsset
from cosmobot.retry import with_retries

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

# Telegram's answers to a file_id it no longer accepts (revoked, foreign, corrupted).
STALE_FILE_ID_ERRORS = (
    "wrong file identifier",
    "wrong remote file identifier",
    "file reference",
    "wrong type of the web page content",
    "failed to get http url content",
)

_library = AssetLibrary(Path("assets/images"))
# One lock per image: concurrent first sends of it make a single upload (single flight).
_upload_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)


def configure(library: AssetLibrary) -> None:
    """Use library from now on, and forget locks bound to an older event loop."""
    global _library
    _library = library
    _upload_locks.clear()


def library() -> AssetLibrary:
    """Return the library the sender uses."""
    return _library


def random_cosmic_key(exclude: str | None = None) -> str | None:
    """Return a random key among the cosmic images, or None if none are installed."""
    return _library.random_cosmic_key(exclude)


async def send_image(
    bot: Bot,
    chat_id: int,
    asset_key: str,
    caption: str | None = None,
    reply_markup: ReplyMarkup | None = None,
) -> Message | None:
    """Send the image at asset_key; None if no such file lies under the assets root."""
    path = _library.resolve(asset_key)
    if path is None:
        logger.warning("No image {!r} under {}", asset_key, _library.root)
        return None
    fingerprint = _library.fingerprint(path)
    send = _Send(bot, chat_id, asset_key, caption, reply_markup)
    rejected = None
    cached = _usable_row(asset_key, bot.id, fingerprint)
    if cached is not None:
        message = await send.by_file_id(cached)
        if message is not None:
            return message
        rejected = cached.file_id
    async with _upload_locks[asset_key]:
        # Whoever held the lock before us may have uploaded this image already.
        cached = _usable_row(asset_key, bot.id, fingerprint)
        if cached is not None and cached.file_id != rejected:
            message = await send.by_file_id(cached)
            if message is not None:
                return message
        return await send.upload(path, fingerprint)


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
            if not _is_stale_file_id(error):
                raise
            logger.warning("Telegram rejected the cached file_id for {}: {}", self.key, error)
            ImageAsset.forget(self.key, row.file_id).execute()
            return None
        logger.info("Cache hit: {} sent to {} by file_id", self.key, self.chat_id)
        return message

    async def upload(self, path: Path, fingerprint: str) -> Message:
        """Upload the file, then remember the file_id Telegram gave it."""
        logger.info("Cache miss: uploading {} for {}", self.key, self.chat_id)
        # Off the event loop: re-encoding an oversized image takes a while.
        info = await asyncio.to_thread(photo.probe, path)
        data = await asyncio.to_thread(photo.upload_bytes, path, info)
        upload = InputFile(data, filename=path.name)
        message = await with_retries(
            lambda: self.bot.send_photo(self.chat_id, upload, **self.options)
        )
        largest = message.photo[-1]
        ImageAsset.store(
            self.key, largest.file_id, largest.file_unique_id, self.bot.id, fingerprint
        ).execute()
        logger.info("Cached file_id for {}", self.key)
        return message


def _is_stale_file_id(error: BadRequest) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in STALE_FILE_ID_ERRORS)
