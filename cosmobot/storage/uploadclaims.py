"""Single flight across processes: one upload of an image for a bot, whichever process asks.

In one process the sender's lock per image makes one upload; this makes one across the
processes of a bot on one database (a standby, webhook workers, `cosmobot warm` beside the
bot). A process about to upload takes the image's claim in upload_claims, with one upsert that
takes only a free or expired claim; it renews the claim while it uploads and lets go of it in
the transaction that stores the new file_id. The others poll the database for that row, past
their memory of it, until it appears or the claim expires (its owner died), then take the
claim themselves. SQLite and PostgreSQL take the same path.

If the database cannot be reached, or does not take the claim within a second (a write lock
held elsewhere), the process uploads without a claim: a second upload is a smaller harm than a
user kept waiting for a picture.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

import peewee
from loguru import logger

from cosmobot.clock import wall_seconds
from cosmobot.storage.database import in_db_thread, queue_in_db_thread, read_in_db_thread
from cosmobot.storage.models import ImageAsset, UploadClaim
from cosmobot.storage.outage import is_unreachable
from cosmobot.storage.process import OWNER

# How long a claim holds without being renewed: a process that died blocks the image no
# longer than this. Its owner renews it every RENEW_SECONDS while it uploads.
CLAIM_SECONDS = 20.0
RENEW_SECONDS = 5.0
# How often a process waiting for another's upload looks for its file_id.
POLL_SECONDS = 0.1
# How long an upload waits for the database to take its claim before it goes on without one.
TAKE_WAIT_SECONDS = 1.0

Usable = Callable[[ImageAsset], bool]
_numbers = itertools.count(1)


class _Claim:
    """This process's claim on uploading one image for one bot."""

    def __init__(self, bot_id: int, asset_key: str) -> None:
        self.bot_id, self.asset_key = bot_id, asset_key
        # One owner per claim: letting go of an older one never frees a newer one's.
        self.owner = f"{OWNER}/{next(_numbers)}"
        self.held = False  # taken in the database (not when it could not be reached)
        self.written: asyncio.Task[bool] | None = None  # the write that lets go of it

    async def take_or_find(self, usable: Usable) -> ImageAsset | None:
        """Take the claim (None), or return the usable row another process cached meanwhile."""
        while True:
            try:
                row, claim = await read_in_db_thread(self._row_and_claim)
                if row is not None and usable(row):
                    return row
                if _is_free(claim) and await self._take_in_time():
                    return await self._row_cached_before_taking(usable)
            except (peewee.PeeweeException, TimeoutError) as error:
                # An outage is logged once, as it starts; anything else is worth a line.
                log = logger.debug if is_unreachable(error) else logger.warning
                log("Uploading {} without a claim: {}", self.asset_key, error)
                return None
            await asyncio.sleep(POLL_SECONDS)

    async def _row_cached_before_taking(self, usable: Usable) -> ImageAsset | None:
        # The owner before may have stored its row and let go between the read and the take.
        self.held = True
        row = await read_in_db_thread(ImageAsset.lookup, self.bot_id, self.asset_key)
        if row is not None and usable(row):
            await self.release()
            return row
        return None

    def _row_and_claim(self) -> tuple[ImageAsset | None, UploadClaim | None]:
        return (ImageAsset.lookup(self.bot_id, self.asset_key),
                UploadClaim.holder(self.bot_id, self.asset_key))

    async def _take_in_time(self) -> bool:
        """Take the claim if it is free; TimeoutError if the database keeps the upload waiting."""
        taking = queue_in_db_thread(self._take)
        try:
            return await asyncio.wait_for(asyncio.shield(taking), TAKE_WAIT_SECONDS)
        except TimeoutError:
            taking.add_done_callback(self._let_go_if_taken)
            raise TimeoutError(f"the claim was not taken within {TAKE_WAIT_SECONDS:.0f} s")

    def _let_go_if_taken(self, taking: asyncio.Future) -> None:
        # Taken after the upload went on without it: let go, or others would wait for nothing.
        if not taking.cancelled() and taking.exception() is None and taking.result():
            queue_in_db_thread(self.release_query().execute).add_done_callback(_ignore)

    def _take(self) -> bool:
        now = wall_seconds()
        query = UploadClaim.take(self.bot_id, self.asset_key, self.owner, now,
                                 now + CLAIM_SECONDS)
        return query.execute() > 0

    async def renew(self, until: asyncio.Future | None = None) -> None:
        """Renew the claim every RENEW_SECONDS until cancelled, or until `until` is done."""
        while True:
            if until is None:
                await asyncio.sleep(RENEW_SECONDS)
            elif (await asyncio.wait([until], timeout=RENEW_SECONDS))[0]:
                return
            with suppress(peewee.PeeweeException):
                await in_db_thread(self._renew)

    def _renew(self) -> None:
        until = wall_seconds() + CLAIM_SECONDS
        UploadClaim.renew(self.bot_id, self.asset_key, self.owner, until).execute()

    async def release(self) -> None:
        """Let go of the claim (if the database cannot take it, the claim simply expires)."""
        if not self.held:
            return
        self.held = False
        try:
            await in_db_thread(self.release_query().execute)
        except peewee.PeeweeException as error:
            logger.debug("Could not let go of the upload claim on {}: {}", self.asset_key, error)

    def release_query(self) -> peewee.Delete:
        return UploadClaim.release(self.bot_id, self.asset_key, self.owner)

    def release_with_write(self) -> None:
        """Let go of the claim in the transaction of its file_id's write (on its thread)."""
        self.release_query().execute()
        self.held = False

    async def hold_until_written(self) -> None:
        """Keep the claim until the file_id's write, which lets go of it, lands."""
        await self.renew(until=self.written)
        if self.written.cancelled():
            return  # given up on as the process stops: the claim expires on its own
        # A newer write of the image's (a refused file_id forgotten) may have taken its place.
        await self.release()


def _ignore(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: a claim left behind simply expires


def _is_free(claim: UploadClaim | None) -> bool:
    return claim is None or claim.expires_at < wall_seconds()


# Claims held by uploads under way in this process, by bot and image.
_held: dict[tuple[int, str], _Claim] = {}
_background: set[asyncio.Task] = set()


@asynccontextmanager
async def upload_turn(bot_id: int, asset_key: str,
                      usable: Usable) -> AsyncIterator[ImageAsset | None]:
    """Yield the usable row another process cached while this one waited, or None: upload.

    While the block uploads, the claim is renewed; after it, the claim is let go of with the
    new file_id's write, and renewed until that write lands (or let go of at once if nothing
    was cached). Use it under the process's own lock on the image.
    """
    claim = _Claim(bot_id, asset_key)
    found = await claim.take_or_find(usable)
    if found is not None or not claim.held:
        yield found
        return
    _held[(bot_id, asset_key)] = claim
    renewing = asyncio.create_task(claim.renew())
    try:
        yield None
    finally:
        del _held[(bot_id, asset_key)]
        renewing.cancel()
        await _after_upload(claim)


async def _after_upload(claim: _Claim) -> None:
    if claim.written is None or claim.written.done():
        await claim.release()  # nothing cached (the upload failed), or it landed already
        return
    # In the background: the user who asked has the photo; the write may wait for a lock.
    task = asyncio.create_task(claim.hold_until_written())
    _background.add(task)
    task.add_done_callback(_background.discard)


def hand_over(bot_id: int, asset_key: str,
              write: Callable[[Callable[[], None] | None], asyncio.Task[bool]]
              ) -> asyncio.Task[bool]:
    """Queue the image's new file_id with write(release) and return the write's task.

    release lets go of this process's claim on the image, to be called in the write's
    transaction; None when it holds none (an upload without a claim).
    """
    claim = _held.get((bot_id, asset_key))
    task = write(claim.release_with_write if claim is not None else None)
    if claim is not None:
        claim.written = task
    return task
