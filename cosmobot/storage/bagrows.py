"""A chat's shuffle bag as one row of shuffle_bags: read, written compare-and-set, looked at.

On the database thread. The read and the write a pick makes are written out in SQL once:
built by peewee, each would cost several times the query itself. What was last read or
written of a chat's row is kept (see `known`), so that a pick can start from it and go to the
database for its compare-and-set only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache
from typing import Any, NamedTuple

import peewee

from cosmobot.clock import utcnow
from cosmobot.storage.bagstate import BagState, new_seed
from cosmobot.storage.database import database
from cosmobot.storage.models import ImageNumber, ShuffleBag

# Chats whose rows are kept as last seen; beyond, those picked for least lately are forgotten.
KNOWN_CHATS = 10_000
# SQLite's synchronous NORMAL: in WAL mode a commit is written, and flushed with the next
# checkpoint or the next commit that flushes.
SQLITE_NO_FLUSH = 1
# The columns of a bag's state, in the order BagRow holds them.
_STATE_COLUMNS = ("seed", "leg_start", "leg_end", "step", "ahead", "last_number", "shown")


class BagRow(NamedTuple):
    """A chat's row as read: its state, and the version a write must find to replace it."""

    seed: int
    leg_start: int
    leg_end: int
    step: int
    ahead: str
    last_number: int | None
    shown: int
    version: int


# (bot, chat) -> (version, state) of the row as this process last read or wrote it, in the
# database _known_in (another one opened since knows none of them).
_known: OrderedDict[tuple[int, int], tuple[int, BagState]] = OrderedDict()
_known_in: object = None
_known_lock = threading.Lock()  # kept on the database threads, looked at on the event loop


@cache
def _sql(param: str) -> tuple[str, str, str]:
    """The read, the compare-and-set and the first write of a chat's row, with param."""
    table, where = ShuffleBag._meta.table_name, f"bot_id = {param} AND chat_id = {param}"
    read = f"SELECT {', '.join(_STATE_COLUMNS)}, version FROM {table} WHERE {where}"
    values = ", ".join(f"{column} = {param}" for column in (*_STATE_COLUMNS, "updated_at"))
    update = (f"UPDATE {table} SET {values}, version = version + 1 "
              f"WHERE {where} AND version = {param}")
    columns = ("bot_id", "chat_id", *_STATE_COLUMNS, "updated_at", "version")
    # Written only if the chat has no row yet: one written meanwhile is somebody else's pick.
    insert = (f"INSERT INTO {table} ({', '.join(columns)}) "
              f"VALUES ({', '.join([param] * len(columns))}) ON CONFLICT DO NOTHING")
    return read, update, insert


def read_row(bot_id: int, chat_id: int) -> BagRow | None:
    """The chat's row with bot_id; None if it has none yet."""
    read, _, _ = _sql(database.param)
    row = database.execute_sql(read, (bot_id, chat_id)).fetchone()
    row = None if row is None else BagRow(*row)
    _remember(bot_id, chat_id, None if row is None else (row.version, state_of(row)))
    return row


def set_if_unchanged(bot_id: int, chat_id: int, version: int | None, state: BagState) -> bool:
    """Write state as the chat's row if the row is still at version (None: there is no row)."""
    values = (state.seed, state.leg_start, state.leg_end, state.step,
              ",".join(map(str, sorted(state.ahead))), state.last, state.shown,
              ShuffleBag.updated_at.db_value(utcnow()))
    _, update, insert = _sql(database.param)
    if version is None:
        written = _unflushed(insert, (bot_id, chat_id, *values, 1)).rowcount == 1
    else:
        written = _unflushed(update, (*values, bot_id, chat_id, version)).rowcount == 1
    if written:
        _remember(bot_id, chat_id, ((version or 0) + 1, state))
    return written


def _unflushed(sql: str, params: tuple) -> Any:
    """Run a write whose commit does not wait for the disk, and return its cursor.

    A pick waits for its claim, and a flush to disk (an fsync, PostgreSQL's WAL flush, shared
    with everything the server writes) cost it 0.3 to 2 ms. The claim is visible to every
    other connection at once all the same; only a crash of the machine or of the database
    server can lose it, and with it no more than a repeat of an image.
    """
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        # One query of two statements is one transaction: the setting ends with it.
        return database.execute_sql(f"SET LOCAL synchronous_commit TO OFF; {sql}", params)
    flushing = database.execute_sql("PRAGMA synchronous").fetchone()[0]
    database.execute_sql(f"PRAGMA synchronous = {SQLITE_NO_FLUSH}")
    try:
        return database.execute_sql(sql, params)
    finally:
        database.execute_sql(f"PRAGMA synchronous = {int(flushing)}")


def known(bot_id: int, chat_id: int) -> tuple[int, BagState] | None:
    """The version and state of the chat's row as this process last read or wrote it.

    Another process may have changed it since: a compare-and-set on that version then fails.
    """
    with _known_lock:
        return _known_rows().get((bot_id, chat_id))


def forget_known() -> None:
    """Forget every row kept (for a new start)."""
    with _known_lock:
        _known.clear()


def _remember(bot_id: int, chat_id: int, row: tuple[int, BagState] | None) -> None:
    with _known_lock:
        known = _known_rows()
        known.pop((bot_id, chat_id), None)
        if row is not None:
            known[(bot_id, chat_id)] = row
            while len(known) > KNOWN_CHATS:
                known.popitem(last=False)


def _known_rows() -> OrderedDict[tuple[int, int], tuple[int, BagState]]:
    """The rows kept, once forgotten if another database was opened since (under the lock)."""
    global _known_in
    if database.obj is not _known_in:
        _known.clear()
        _known_in = database.obj
    return _known


def state_of(row: BagRow | None) -> BagState:
    """The state a row holds; a new round's if there is none."""
    if row is None:
        return BagState(new_seed())
    ahead = frozenset(int(number) for number in row.ahead.split(",")) if row.ahead else frozenset()
    return BagState(row.seed, row.leg_start, row.leg_end, row.step, ahead, row.last_number,
                    row.shown)


def seen_keys(bot_id: int, chat_id: int) -> set[str]:
    """The keys bot_id has shown chat_id this round, read from the database (O(collection))."""
    row = read_row(bot_id, chat_id)
    if row is None:
        return set()
    keys = {number: key for key, number in ImageNumber.of_bot(bot_id).tuples()}
    count = max(keys, default=-1) + 1
    return {keys[number] for number in state_of(row).seen_numbers(count) if number in keys}
