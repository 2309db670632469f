"""Pruning rows no chat can use any more, so the tables follow the chats that use the bot.

Two kinds, both after IDLE_DAYS untouched, each bot its own:
- the shuffle bag of a chat that has seen nothing since from the bot and has no active
  subscription to it: a chat that blocked the bot, or left it, never reads it again;
- an inactive subscription (a chat that blocked the bot or sent /stop), unchanged since.

A chat that comes back simply starts a new round, or subscribes anew.

It runs in the background, in small batches: each batch is one short transaction on the
database thread, with a pause after it, so the bot's own queries never wait long behind it
(on SQLite its writes share one lock with the whole bot). Both walks go in key order over
the existing indexes: shuffle_bags (bot_id, chat_id) and the subscriptions' primary key.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import peewee
from loguru import logger

from cosmobot.clock import utcnow
from cosmobot.storage.database import database, in_db_thread
from cosmobot.storage.models import ShuffleBag, Subscription

IDLE_DAYS = 90
# Rows looked at per batch: a batch deletes at most this many subscriptions or bags (one row
# per chat).
BATCH_SIZE = 1000
PAUSE_SECONDS = 0.2


@dataclass
class PruneReport:
    """What one pruning run removed."""

    bags: int = 0  # chats whose shuffle bag was dropped
    subscriptions: int = 0

    def summary(self) -> str:
        """One line for the log."""
        return (f"Pruned what no chat can use any more (untouched for {IDLE_DAYS} days): the "
                f"shuffle bags of {self.bags} chats and {self.subscriptions} inactive "
                "subscriptions")


@dataclass(frozen=True)
class _Batch:
    """One batch's outcome: the last key it looked at (None: the walk is done), what it removed."""

    last: int | None
    rows: int = 0


async def prune_stale(bot_id: int, stopping: Callable[[], bool] = lambda: False,
                      batch_size: int = BATCH_SIZE, pause: float = PAUSE_SECONDS) -> PruneReport:
    """Delete bot_id's rows untouched for IDLE_DAYS that no chat can use; log once what went.

    Once stopping() is true, no further batch starts.
    """
    cutoff = utcnow() - dt.timedelta(days=IDLE_DAYS)
    report = PruneReport()
    walk = (bot_id, cutoff, batch_size, pause, stopping)
    try:
        async for batch in _batches(_prune_bag_batch, *walk):
            report.bags += batch.rows
        async for batch in _batches(_prune_subscription_batch, *walk):
            report.subscriptions += batch.rows
    except peewee.PeeweeException as error:
        # The next run goes on; nothing is lost by pruning later.
        logger.warning("Pruning stopped early: {}", error)
    if report.bags or report.subscriptions:
        logger.info("{}", report.summary())
    return report


async def _batches(prune_batch: Callable[[int, int | None, dt.datetime, int], _Batch],
                   bot_id: int, cutoff: dt.datetime, batch_size: int, pause: float,
                   stopping: Callable[[], bool]) -> AsyncIterator[_Batch]:
    """Run prune_batch on the database thread, batch after batch, until the walk is done."""
    last = None
    while not stopping():
        batch = await in_db_thread(prune_batch, bot_id, last, cutoff, batch_size)
        yield batch
        if batch.last is None:
            return
        last = batch.last
        await asyncio.sleep(pause)  # the bot's own queries go first


def _prune_bag_batch(bot_id: int, after: int | None, cutoff: dt.datetime,
                     limit: int) -> _Batch:
    """Look at bot_id's next bags; drop those of chats idle since cutoff and not subscribed."""
    # In index order with a limit: a plain range scan of the index, whatever the planner's
    # statistics say.
    mine = ShuffleBag.bot_id == bot_id
    rows = ShuffleBag.select(ShuffleBag.chat_id).where(mine).order_by(ShuffleBag.chat_id)
    if after is not None:
        rows = rows.where(ShuffleBag.chat_id > after)
    chats = [chat_id for (chat_id,) in rows.limit(limit).tuples()]
    if not chats:
        return _Batch(None)
    subscribed = Subscription.select(Subscription.chat_id).where(
        (Subscription.bot_id == bot_id) & Subscription.active & Subscription.chat_id.in_(chats))
    # The range holds the chats listed (and any bag made since, which is not idle); PostgreSQL
    # keeps to the index for a range even before it has statistics on the table.
    idle = (mine & ShuffleBag.chat_id.between(chats[0], chats[-1])
            & (ShuffleBag.updated_at < cutoff) & ShuffleBag.chat_id.not_in(subscribed))
    with database.atomic():
        deleted = ShuffleBag.delete().where(idle).execute()
    return _Batch(chats[-1] if len(chats) == limit else None, deleted)


def _prune_subscription_batch(bot_id: int, after: int | None, cutoff: dt.datetime,
                              limit: int) -> _Batch:
    """Delete bot_id's next inactive subscriptions unchanged since cutoff."""
    stale = (Subscription.select(Subscription.id)
             .where((Subscription.bot_id == bot_id) & ~Subscription.active
                    & (Subscription.updated_at < cutoff) & (Subscription.id > (after or 0)))
             .order_by(Subscription.id)
             .limit(limit))
    with database.atomic():
        ids = [row.id for row in stale]
        rows = Subscription.delete().where(Subscription.id.in_(ids)).execute() if ids else 0
    return _Batch(ids[-1] if len(ids) == limit else None, rows=rows)
