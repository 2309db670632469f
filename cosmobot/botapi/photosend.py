"""One send of one image to one chat: by its cached file_id, or by uploading the file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from loguru import logger
from telegram import Bot, InputFile, Message
from telegram.error import BadRequest

from cosmobot.botapi.retry import with_retries
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import filecache, sendcounts
from cosmobot.storage.models import ImageAsset

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


class PhotoSend:
    """One send of one image to one chat, by file_id or by upload."""

    def __init__(self, bot: Bot, chat_id: int, key: str, fingerprint: str,
                 options: dict[str, Any], library: AssetLibrary,
                 prepare: Callable[[Path], Awaitable[bytes]], chat_action: bool = True) -> None:
        self.bot, self.chat_id, self.key, self.fingerprint = bot, chat_id, key, fingerprint
        self.options, self.library, self.prepare = options, library, prepare
        self.chat_action = chat_action

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
            filecache.forget(self.bot.id, self.key, row.file_id)
            return None
        logger.info("Cache hit: {} sent to {} by file_id", self.key, self.chat_id)
        sendcounts.count(self.bot.id, sendcounts.FILE_ID_SENDS)
        return message

    async def upload(self, path: Path) -> Message | None:
        """Upload the file and remember its file_id; None if the file is no usable image."""
        logger.info("Cache miss: uploading {} for {}", self.key, self.chat_id)
        try:
            upload = InputFile(await self.prepare(path), filename=path.name)
        except OSError as error:
            self.library.discard(self.key, f"not a valid image ({error})")
            return None
        try:
            # A 429 is waited out by the caller, after it let go of the image's lock.
            message = await with_retries(
                lambda: self.bot.send_photo(self.chat_id, upload, **self.options),
                wait_out_floods=False,
            )
        except BadRequest as error:
            if not _has_marker(error, REJECTED_IMAGE_ERRORS):
                raise
            self.library.discard(self.key, f"Telegram refused it as a photo ({error})")
            return None
        sendcounts.count(self.bot.id, sendcounts.UPLOADS)
        largest = message.photo[-1]
        filecache.remember(
            self.key, largest.file_id, largest.file_unique_id, self.bot.id, self.fingerprint
        )
        logger.info("Cached file_id for {}", self.key)
        return message


def _has_marker(error: BadRequest, markers: tuple[str, ...]) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in markers)
