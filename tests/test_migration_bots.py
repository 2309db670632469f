"""Migration 005 on a database made at 004's schema, with rows in it: each row keeps its bot."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from cosmobot.storage import adoption
from cosmobot.storage.adoption import UNCLAIMED, adopt_unclaimed
from cosmobot.storage.bagrows import seen_keys
from cosmobot.storage.database import (
    apply_migrations,
    close_database,
    migration_router,
    open_database,
)
from cosmobot.storage.models import ImageAsset, ImageNumber, SendCount, ShuffleBag, Subscription
from tests.dblocks import lock_waits
from tests.factories import BOT_ID, OTHER_BOT_ID

BEFORE = "004_add_daily_round_bookkeeping"
SEVERAL_BOTS = "005_several_bots"
FIXED_BAGS = "008_shuffle_bags_of_fixed_size"
CROSS_PROCESS = "006_add_cross_process_tables"  # comes after, and keeps the rows as they are
BOT_SETTINGS = "007_bot_settings"  # and this too
ORION, VEGA = "cosmic/orion.jpg", "cosmic/vega.jpg"
NOON = dt.datetime(2026, 6, 1, 12, 0)
OWNED = (Subscription, ShuffleBag, ImageNumber, SendCount)


def insert(db: peewee.Database, table: str, **values: object) -> None:
    """Insert a row by hand, as the older schema takes it (no model knows that schema)."""
    columns = ", ".join(values)
    marks = ", ".join([db.param] * len(values))
    db.execute_sql(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(values.values()))


def cached(db: peewee.Database, key: str, bot_id: int, file_id: str) -> None:
    insert(db, "image_assets", asset_key=key, file_id=file_id, file_unique_id=f"u-{file_id}",
           bot_id=bot_id, fingerprint="f" * 64)


def subscribed(db: peewee.Database, chat_id: int, **values: object) -> None:
    insert(db, "subscriptions", chat_id=chat_id, chat_type="private", language="en",
           local_time="09:00", zone="Europe/Berlin", next_at=NOON, **values)


def rows_of_a_running_bot(db: peewee.Database) -> None:
    """A few chats subscribed (one image on its way), their shuffle bags, the totals."""
    subscribed(db, 1, delivered_on=NOON.date())
    subscribed(db, 2, sending_since=NOON, sending_owner="77-abc", sending_day=NOON.date())
    subscribed(db, -100, active=False)
    for chat_id, key in ((1, VEGA), (1, ORION), (2, ORION)):
        insert(db, "seen_images", chat_id=chat_id, asset_key=key)
    insert(db, "send_counts", name="uploads", value=3)
    insert(db, "send_counts", name="file_id_sends", value=40)


def bots_of(model: type[peewee.Model]) -> set[int]:
    return {row.bot_id for row in model.select(model.bot_id)}


def test_the_rows_go_to_the_databases_only_bot(empty_db):
    migration_router().run(BEFORE)
    cached(empty_db, ORION, BOT_ID, "AgAC-orion")
    cached(empty_db, VEGA, BOT_ID, "AgAC-vega")
    rows_of_a_running_bot(empty_db)
    assert apply_migrations() == [SEVERAL_BOTS, CROSS_PROCESS, BOT_SETTINGS, FIXED_BAGS]
    assert all(bots_of(model) == {BOT_ID} for model in (ImageAsset, *OWNED))
    assert ImageAsset.lookup(BOT_ID, ORION).file_id == "AgAC-orion"
    assert ImageAsset.lookup(BOT_ID, VEGA).file_id == "AgAC-vega"
    first, second = Subscription.of_chat(BOT_ID, 1), Subscription.of_chat(BOT_ID, 2)
    assert (first.zone, first.delivered_on, first.active) == ("Europe/Berlin", NOON.date(), True)
    assert (second.sending_owner, second.sending_day) == ("77-abc", NOON.date())
    assert Subscription.in_flight(BOT_ID).count() == 1
    assert not Subscription.of_chat(BOT_ID, -100).active
    assert seen_keys(BOT_ID, 1) == {VEGA, ORION} and seen_keys(BOT_ID, 2) == {ORION}
    last = ShuffleBag.get(ShuffleBag.of_chat(BOT_ID, 1)).last_number
    assert ImageNumber.get((ImageNumber.bot_id == BOT_ID) & (ImageNumber.number == last)
                           ).asset_key == ORION  # the one it saw last
    assert SendCount.totals(BOT_ID) == {"uploads": 3, "file_id_sends": 40}
    assert adopt_unclaimed(OTHER_BOT_ID) == 0  # nothing is left for another bot


def test_rows_of_several_bots_wait_for_the_first_bot_that_starts(empty_db, log_lines):
    migration_router().run(BEFORE)
    cached(empty_db, ORION, BOT_ID, "AgAC-orion")  # a token changed once: whose are the rows?
    cached(empty_db, VEGA, OTHER_BOT_ID, "AgAC-vega")
    rows_of_a_running_bot(empty_db)
    apply_migrations()
    assert (bots_of(ImageAsset), ImageAsset.lookup(OTHER_BOT_ID, VEGA).file_id) == (
        {BOT_ID, OTHER_BOT_ID}, "AgAC-vega")
    assert all(bots_of(model) == {UNCLAIMED} for model in OWNED)
    assert adopt_unclaimed(OTHER_BOT_ID) == 3 + 2 + 2 + 2
    assert all(bots_of(model) == {OTHER_BOT_ID} for model in OWNED)
    assert adopt_unclaimed(BOT_ID) == 0
    assert SendCount.totals(OTHER_BOT_ID) == {"uploads": 3, "file_id_sends": 40}
    assert seen_keys(OTHER_BOT_ID, 1) == {VEGA, ORION}  # each chat's round goes on with it
    assert [line for line in log_lines if "adopted" in line] == [
        f"INFO Bot {OTHER_BOT_ID} adopted the rows no bot had claimed yet: 3 in subscriptions, "
        "2 in send_counts, 2 in image_numbers, 2 in shuffle_bags\n"]


def test_bags_wait_unclaimed_rather_than_go_to_a_bot_that_numbered_its_own_images(empty_db):
    migration_router().run(BEFORE)
    rows_of_a_running_bot(empty_db)
    apply_migrations()
    ImageNumber.create(bot_id=BOT_ID, asset_key=VEGA, number=0)  # its own numbers: not these
    assert adopt_unclaimed(BOT_ID) == 3 + 2
    assert bots_of(ShuffleBag) == bots_of(ImageNumber) - {BOT_ID} == {UNCLAIMED}


def test_a_database_with_no_image_cached_leaves_its_rows_unclaimed(empty_db):
    migration_router().run(BEFORE)
    rows_of_a_running_bot(empty_db)
    apply_migrations()
    assert all(bots_of(model) == {UNCLAIMED} for model in OWNED)


def test_adopting_keeps_the_rows_the_bot_has_already(db):
    Subscription.create(bot_id=UNCLAIMED, chat_id=1, chat_type="private", language="en",
                        local_time="07:00", zone="UTC", next_at=NOON)
    Subscription.create(bot_id=UNCLAIMED, chat_id=2, chat_type="private", language="en",
                        local_time="07:00", zone="UTC", next_at=NOON)
    Subscription.create(bot_id=BOT_ID, chat_id=1, chat_type="private", language="en",
                        local_time="09:00", zone="UTC", next_at=NOON)
    SendCount.add(UNCLAIMED, "uploads", 5).execute()
    SendCount.add(BOT_ID, "uploads", 1).execute()
    assert adopt_unclaimed(BOT_ID) == 1  # the unique key holds: only chat 2 could be taken
    assert Subscription.of_chat(BOT_ID, 1).local_time == "09:00"
    assert Subscription.of_chat(BOT_ID, 2).local_time == "07:00"
    assert SendCount.totals(BOT_ID) == {"uploads": 1}


def columns(db: peewee.Database, table: str) -> set[str]:
    return {column.name for column in db.get_columns(table)}


def test_rolling_back_keeps_one_row_per_chat_image_and_total(empty_db):
    migration_router().run(CROSS_PROCESS)  # seen_images as 005 left it; the models' columns
    for bot_id, file_id, total in ((BOT_ID, "AgAC-mine", 2), (OTHER_BOT_ID, "AgAC-theirs", 3)):
        ImageAsset.store(ORION, file_id, "u", bot_id, "f" * 64).execute()
        Subscription.create(bot_id=bot_id, chat_id=1, chat_type="private", language="en",
                            local_time="09:00", zone="UTC", next_at=NOON)
        insert(empty_db, "seen_images", bot_id=bot_id, chat_id=1, asset_key=ORION)
        SendCount.add(bot_id, "uploads", total).execute()
    while SEVERAL_BOTS in migration_router().done:  # the later migrations first, then 005
        migration_router().rollback()
    assert not {"bot_id"} & (columns(empty_db, "subscriptions") | columns(empty_db, "seen_images"))
    assert empty_db.execute_sql("SELECT file_id FROM image_assets").fetchall() == [("AgAC-mine",)]
    assert empty_db.execute_sql("SELECT chat_id FROM subscriptions").fetchall() == [(1,)]
    assert empty_db.execute_sql("SELECT chat_id, asset_key FROM seen_images").fetchall() == [
        (1, ORION)]
    assert empty_db.execute_sql("SELECT name, value FROM send_counts").fetchall() == [
        ("uploads", 5)]
    with pytest.raises(peewee.IntegrityError):  # the older schema's keys are back
        with empty_db.atomic():
            subscribed(empty_db, 1)
    # Forward again: the one bot's.
    assert apply_migrations() == [SEVERAL_BOTS, CROSS_PROCESS, BOT_SETTINGS, FIXED_BAGS]
    assert all(bots_of(model) == {BOT_ID} for model in (ImageAsset, *OWNED))


def test_adopting_a_big_databases_rows_is_not_cut_short_by_the_query_timeout(
        postgres_url, monkeypatch):
    open_database(postgres_url)
    apply_migrations()
    ShuffleBag.insert_many([(UNCLAIMED, chat, chat) for chat in range(40_000)],
                           fields=[ShuffleBag.bot_id, ShuffleBag.chat_id, ShuffleBag.seed]
                           ).execute()
    close_database()
    # A query timeout much shorter than the adoption of 40,000 rows takes.
    lock_waits(monkeypatch, 50)
    open_database(postgres_url)
    try:
        assert adopt_unclaimed(BOT_ID) == 40_000
    finally:
        close_database()


@pytest.mark.asyncio
async def test_a_bot_starts_even_if_the_database_will_not_let_it_adopt(db, monkeypatch,
                                                                       log_lines):
    def failing(bot_id):
        raise peewee.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(adoption, "adopt_unclaimed", failing)
    await adoption.adopt_at_start(BOT_ID)
    assert any(line.startswith("WARNING Could not adopt") and "next start" in line
               for line in log_lines)
