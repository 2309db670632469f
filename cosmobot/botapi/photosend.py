"""One send of one image to one chat: by its cached file_id, or by uploading the file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any

from loguru import logger
from telegram import Bot, InputFile, Message
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

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
# Sends a bot without a rate limiter has on their way at once. A hundred at once are slower
# than twenty at a time: the HTTP client's pool works per waiting request and connection.
# A bot with a rate limiter is left to it: a send waiting there for its chat's turn must not
# hold up other chats' sends.
SENDS_IN_FLIGHT = 20
_in_flight: dict[int, asyncio.Semaphore] = {}
_background_tasks: set[asyncio.Task] = set()


class PhotoSend:
    """One send of one image to one chat, by file_id or by upload."""

    def __init__(self, bot: Bot, chat_id: int, key: str, fingerprint: str,
                 options: dict[str, Any], library: AssetLibrary,
                 prepare: Callable[[Path], Awaitable[bytes]], chat_action: bool = True) -> None:
        self.bot, self.chat_id, self.key, self.fingerprint = bot, chat_id, key, fingerprint
        self.options, self.library, self.prepare = options, library, prepare
        self.chat_action = chat_action
        self._action_shown = False

    def show_uploading(self) -> None:
        """Show "sending a photo..." in the chat, in the background, once for this send."""
        if self.chat_action and not self._action_shown:
            self._action_shown = True
            _in_background(_show_uploading(self.bot, self.chat_id))

    async def by_file_id(self, row: ImageAsset) -> Message | None:
        """Send by the cached file_id; None (and the row dropped) if Telegram rejects it."""
        try:
            message = await with_retries(
                lambda: self._send_photo(row.file_id)
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
                lambda: self._send_photo(upload),
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

    async def _send_photo(self, photo: str | InputFile) -> Message:
        async with _slot(self.bot):
            return await self.bot.send_photo(self.chat_id, photo, **self.options)


def reset() -> None:
    """Forget the slots of sends in flight: they belong to the event loop that made them."""
    _in_flight.clear()


def _slot(bot: Bot) -> asyncio.Semaphore | nullcontext:
    if getattr(bot, "rate_limiter", None) is not None:
        return nullcontext()
    return _in_flight.setdefault(bot.id, asyncio.Semaphore(SENDS_IN_FLIGHT))


async def _show_uploading(bot: Bot, chat_id: int) -> None:
    # "sending a photo..." in the chat while the user waits; a nicety, so never fatal.
    with suppress(TelegramError):
        await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO, read_timeout=5)


def _in_background(coroutine: Coroutine) -> None:
    task = asyncio.create_task(coroutine)
    # The event loop keeps only weak references to tasks: hold this one until it is done.
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)


def _has_marker(error: BadRequest, markers: tuple[str, ...]) -> bool:
    text = error.message.lower()
    return any(marker in text for marker in markers)
