"""Rows no bot has claimed yet, adopted by the first bot that starts on the database.

Migration 005 gives the rows a database already had to its only bot, the one its cached
images name. When it cannot tell (no image cached yet, or images of several bots), they get
bot id 0, UNCLAIMED: the subscriptions, shuffle bags and totals of whichever bot ran before.
The first bot that starts on the database takes them, so they are served again, by it.

A bag names images by its bot's numbers (cosmobot.storage.numbering), so the bags go with the
numbers, to a bot that has numbered no image yet; with a bot that has, they stay unclaimed
(pruned in time), and their chats simply start new rounds.
"""

from __future__ import annotations

import functools
import operator

import peewee
from loguru import logger

from cosmobot.storage.database import MIGRATION_LOCK_CLASS, database, in_db_thread
from cosmobot.storage.models import ImageNumber, SendCount, ShuffleBag, Subscription

UNCLAIMED = 0

# Each table whose rows belong to a bot, with the columns that make a row unique per bot.
OWNED = (
    (Subscription, ("chat_id",)),
    (SendCount, ("name",)),
)
# The same, for the rows adopted only with the numbers (see above).
NUMBERED = (
    (ImageNumber, ("asset_key",)),
    (ShuffleBag, ("chat_id",)),
)


async def adopt_at_start(bot_id: int) -> None:
    """Adopt the unclaimed rows for a bot that starts; if the database fails, say so and go on."""
    try:
        await in_db_thread(adopt_unclaimed, bot_id)
    except peewee.PeeweeException as error:
        # They wait, unserved, for the next start: no reason to keep this one from running.
        logger.warning("Could not adopt the rows no bot has claimed yet ({}); the next start "
                       "tries again", error)


def adopt_unclaimed(bot_id: int) -> int:
    """Give bot_id the rows no bot has claimed yet; return how many (on the database thread).

    One UPDATE per table, in one transaction: two bots starting at once never split them.
    """
    with database.atomic():
        if isinstance(database.obj, peewee.PostgresqlDatabase):
            # The end of a migration, and as exempt from the query timeout: a big database's
            # rows take a while (800,000 take about 7 s).
            database.execute_sql("SET LOCAL statement_timeout = 0")
            # Concurrent scans may take rows in different orders: the bots take turns instead
            # (SQLite's one writer at a time does the same).
            database.execute_sql("SELECT pg_advisory_xact_lock(%s, 0)", (MIGRATION_LOCK_CLASS,))
        owned = OWNED if _has_numbers(bot_id) else OWNED + NUMBERED
        adopted = {model._meta.table_name: _adopt(model, key, bot_id) for model, key in owned}
    if any(adopted.values()):
        logger.info("Bot {} adopted the rows no bot had claimed yet: {}", bot_id,
                    ", ".join(f"{count} in {table}" for table, count in adopted.items()))
    return sum(adopted.values())


def _has_numbers(bot_id: int) -> bool:
    return ImageNumber.select().where(ImageNumber.bot_id == bot_id).exists()


def _adopt(model: type[peewee.Model], key: tuple[str, ...], bot_id: int) -> int:
    # A row bot_id has already (made while the adoption failed, say) stays: the key is unique.
    mine = model.alias()
    same_key = [getattr(mine, column) == getattr(model, column) for column in key]
    clash = mine.select(peewee.SQL("1")).where(
        (mine.bot_id == bot_id) & functools.reduce(operator.and_, same_key))
    query = model.update(bot_id=bot_id).where(
        (model.bot_id == UNCLAIMED) & ~peewee.fn.EXISTS(clash))
    return query.execute()
