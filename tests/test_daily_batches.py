"""The daily round's claims and deliveries written a group at a time, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import peewee
import pytest
import pytest_asyncio
from telegram import Bot

from cosmobot.schedule import daily, daybook, outcomes
from cosmobot.schedule.outcomes import Outcome, Result
from cosmobot.schedule.subscriptions import subscribe, unsubscribe
from cosmobot.storage import writes
from cosmobot.storage.database import database, in_db_thread
from cosmobot.storage.models import Subscription
from cosmobot.storage.process import OWNER
from tests.factories import BOT_ID, TOKEN

pytestmark = [pytest.mark.timeout(60)]

DAY = dt.datetime(2026, 6, 1)
NINE = dt.time(9, 0)


@pytest.fixture(autouse=True)
def _no_outcomes_left_over(monkeypatch):
    monkeypatch.setattr(outcomes, "_unrecorded", {})
    monkeypatch.setattr(daily, "_sending", set())


@pytest_asyncio.fixture
async def bot(fake_api):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        yield bot


def subscribed(chat_id: int, at: dt.time = NINE, zone: str = "UTC") -> Subscription:
    subscribe(BOT_ID, chat_id, "private", "en", at, zone, DAY)
    return row(chat_id)


def row(chat_id: int) -> Subscription:
    return Subscription.get(Subscription.chat_id == chat_id)


class Statements:
    """The SQL the database is sent while counting, from every thread."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self._lock = threading.Lock()

    def claims(self) -> list[str]:
        """The UPDATEs that mark chats (a mark is set first; a row cleared sets it last)."""
        return [sql for sql in self.sql
                if sql.startswith("UPDATE") and 'SET "sending_since" = ' in sql]


@pytest.fixture
def statements(monkeypatch):
    seen = Statements()
    execute_sql = type(database.obj).execute_sql

    def counted(self, sql, params=None, *args, **kwargs):
        with seen._lock:
            seen.sql.append(sql)
        return execute_sql(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(type(database.obj), "execute_sql", counted)
    return seen


@pytest.mark.asyncio
async def test_one_statement_claims_a_group_of_chats(db, library, bot, fake_api, statements):
    for chat_id in range(1, 21):
        subscribed(chat_id)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 20
    assert all(len([m for m in fake_api.sent_to(c) if "photo" in m]) == 1 for c in range(1, 21))
    assert len(statements.claims()) == 1, statements.sql


@pytest.mark.asyncio
async def test_sends_start_in_groups_and_never_more_than_the_limit(db, library, bot, fake_api,
                                                                   monkeypatch):
    monkeypatch.setattr(daily, "MAX_IN_FLIGHT", 4)
    monkeypatch.setattr(daily, "CLAIM_GROUP", 2)
    claim_many, groups, most = daybook.claim_many, [], [0]

    def counting(ids, *args, **kwargs):
        groups.append(len(ids))
        most[0] = max(most[0], len(daily._sending) + len(ids))
        return claim_many(ids, *args, **kwargs)

    monkeypatch.setattr(daybook, "claim_many", counting)
    for chat_id in range(1, 11):
        subscribed(chat_id)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 10 and sum(groups) == 10
    assert groups[0] == 4 and all(size >= 2 for size in groups[1:-1]), groups
    assert most[0] <= 4


@pytest.mark.asyncio
async def test_the_round_waits_for_a_group_of_free_sends_before_claiming(monkeypatch):
    monkeypatch.setattr(daily, "MAX_IN_FLIGHT", 4)
    monkeypatch.setattr(daily, "CLAIM_GROUP", 2)
    sends, freed = {"a", "b", "c"}, asyncio.Event()
    waiting = asyncio.create_task(daily._room_for_sends(sends, freed))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # one free: too few for a group
    sends.discard("a")
    freed.set()
    assert await asyncio.wait_for(waiting, 5) == 2
    assert await daily._room_for_sends(set(), freed) == 4


def lagging_write(monkeypatch) -> tuple[threading.Event, asyncio.Task]:
    """A background write the database refuses (locked) until the event is set."""
    monkeypatch.setattr(writes, "RETRY_FIRST_SECONDS", 0.02)
    monkeypatch.setattr(writes, "RETRY_MAX_SECONDS", 0.02)
    held = threading.Event()

    def locked_until_set() -> None:
        if not held.is_set():
            raise peewee.OperationalError("database is locked")

    return held, writes.queue_write(locked_until_set, "a write that waits out a lock")


@pytest.mark.asyncio
async def test_the_round_claims_no_chat_while_writes_lag_behind(db, library, bot, fake_api,
                                                                monkeypatch):
    monkeypatch.setattr(daily, "MAX_WRITES_BEHIND", 0)
    subscribed(1)
    held, lagging = lagging_write(monkeypatch)
    round_ = asyncio.create_task(daily.deliver_due(bot, DAY.replace(hour=9, minute=1)))
    await asyncio.sleep(0.5)
    assert row(1).sending_since is None and not fake_api.calls("sendPhoto")
    held.set()
    assert await lagging
    assert (await round_).delivered == 1


@pytest.mark.asyncio
async def test_a_stopping_round_does_not_wait_for_lagging_writes(db, library, bot,
                                                                 fake_api, monkeypatch):
    monkeypatch.setattr(daily, "MAX_WRITES_BEHIND", 0)
    subscribed(1)
    held, lagging = lagging_write(monkeypatch)
    stop = asyncio.Event()
    round_ = asyncio.create_task(daily.deliver_due(bot, DAY.replace(hour=9, minute=1),
                                                   stopping=stop.is_set))
    await asyncio.sleep(0.3)
    stop.set()
    report = await asyncio.wait_for(round_, 5)
    held.set()
    await lagging
    assert report.delivered == 0 and row(1).sending_since is None


def test_a_group_claim_marks_only_active_unmarked_chats(db):
    free, stopped, taken = (subscribed(chat_id).id for chat_id in (1, 2, 3))
    unsubscribe(BOT_ID, 2)
    at = DAY.replace(hour=9, minute=1)
    assert daybook.claim(taken, at - dt.timedelta(seconds=1), DAY.date(), owner="another")
    assert daybook.claim_many([free, stopped, taken], at, DAY.date()) == {free}
    assert (row(1).sending_owner, row(1).sending_day, row(1).sending_since) == (
        OWNER, DAY.date(), at)
    assert row(2).sending_since is None and row(3).sending_owner == "another"
    assert daybook.claim_many([], at, DAY.date()) == set()


def test_deliveries_are_recorded_in_one_read_and_one_write(db, statements):
    tokyo, paris = subscribed(1, zone="Asia/Tokyo"), subscribed(2, zone="Europe/Paris")
    third = subscribed(3, dt.time(7, 30), zone="Europe/Paris")
    ids = (tokyo.id, paris.id, third.id)
    for id_, at in zip(ids, (DAY.replace(hour=1), DAY.replace(hour=8), DAY.replace(hour=6))):
        daybook.claim(id_, at, DAY.date())
    statements.sql.clear()
    daybook.record_deliveries([
        daybook.Delivery(tokyo.id, DAY.date(), "Asia/Tokyo", DAY.replace(hour=1, second=1)),
        daybook.Delivery(paris.id, DAY.date(), "Europe/Paris", DAY.replace(hour=8, second=2)),
        daybook.Delivery(third.id, DAY.date(), "Europe/Paris", DAY.replace(hour=6, second=3)),
    ])
    queries = [sql for sql in statements.sql if sql.split()[0] in ("SELECT", "UPDATE")]
    assert [sql.split()[0] for sql in queries] == ["SELECT", "UPDATE"], statements.sql
    # Each row its own: when it was sent, and its own next time in its own zone.
    assert [(row(c).delivered_on, row(c).delivered_at, row(c).next_at, row(c).sending_since)
            for c in (1, 2, 3)] == [
        (DAY.date(), DAY.replace(hour=1, second=1), dt.datetime(2026, 6, 2, 0, 0), None),
        (DAY.date(), DAY.replace(hour=8, second=2), dt.datetime(2026, 6, 2, 7, 0), None),
        (DAY.date(), DAY.replace(hour=6, second=3), dt.datetime(2026, 6, 2, 5, 30), None),
    ]


def test_a_delivery_to_a_row_gone_meanwhile_records_the_others(db):
    kept, gone = subscribed(1).id, subscribed(2).id
    Subscription.delete().where(Subscription.id == gone).execute()
    daybook.record_deliveries([daybook.Delivery(gone, DAY.date(), "UTC", DAY.replace(hour=9)),
                               daybook.Delivery(kept, DAY.date(), "UTC", DAY.replace(hour=9))])
    assert row(1).delivered_on == DAY.date()


def delivered(chat_id: int, subscription_id: int) -> Outcome:
    return Outcome(subscription_id, chat_id, DAY.date(), "UTC", DAY.replace(hour=9),
                   Result.DELIVERED)


@pytest.mark.asyncio
async def test_deliveries_that_come_in_while_one_is_written_go_in_the_next(db, monkeypatch):
    ids = [subscribed(chat_id).id for chat_id in range(1, 6)]
    written, release = [], threading.Event()
    write_deliveries = outcomes.write_deliveries

    def slow_first(batch):
        written.append([outcome.chat_id for outcome in batch])
        if len(written) == 1:
            release.wait(10)  # the first transaction is slow: the others wait for it
        return write_deliveries(batch)

    monkeypatch.setattr(outcomes, "write_deliveries", slow_first)
    deliveries = outcomes.Deliveries()
    first = asyncio.create_task(deliveries.record(delivered(1, ids[0])))
    while not written:
        await asyncio.sleep(0.01)
    later = [asyncio.create_task(deliveries.record(delivered(c, ids[c - 1]))) for c in (2, 3, 4)]
    await asyncio.sleep(0.1)
    assert not any(task.done() for task in [first, *later])  # each waits for its own
    release.set()
    await asyncio.gather(first, *later)
    assert written == [[1], [2, 3, 4]]
    assert [row(c).delivered_on for c in (1, 2, 3, 4, 5)] == [DAY.date()] * 4 + [None]


@pytest.mark.asyncio
async def test_a_group_of_deliveries_the_database_refuses_is_kept_for_the_next_round(
        db, monkeypatch):
    monkeypatch.setattr(outcomes, "RECORD_DELAYS", (0.01,))
    ids = [subscribed(chat_id).id for chat_id in (1, 2)]
    for id_ in ids:
        daybook.claim(id_, DAY.replace(hour=9), DAY.date())

    def refusing(batch):
        raise peewee.OperationalError("database is locked")

    monkeypatch.setattr(outcomes, "write_deliveries", refusing)
    deliveries = outcomes.Deliveries()
    await asyncio.gather(*(deliveries.record(delivered(c, ids[c - 1])) for c in (1, 2)))
    assert outcomes.unrecorded() == set(ids)
    assert row(1).sending_owner == OWNER  # still marked: this process's, not a killed one's
    await outcomes.record_kept()
    assert not outcomes.unrecorded() and await in_db_thread(
        lambda: [row(c).delivered_on for c in (1, 2)]) == [DAY.date()] * 2
