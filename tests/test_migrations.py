"""Migrations apply on an empty database, match the models, and roll back."""

import ast
import datetime as dt

from peewee_migrate.auto import diff_many

from cosmobot.storage.database import apply_migrations, migration_router, pending_migrations
from cosmobot.storage.models import (
    BotSetting,
    ImageAsset,
    ImageNumber,
    PacingSlot,
    SendCount,
    ShuffleBag,
    Subscription,
    UploadClaim,
)

MIGRATIONS = [
    "001_add_image_assets_table",
    "002_add_subscriptions",
    "003_add_seen_images_and_send_counts",
    "004_add_daily_round_bookkeeping",
    "005_several_bots",
    "006_add_cross_process_tables",
    "007_bot_settings",
    "008_shuffle_bags_of_fixed_size",
]
MODELS = [ImageAsset, Subscription, SendCount, UploadClaim, PacingSlot, BotSetting, ImageNumber,
          ShuffleBag]
TABLES = ["image_assets", "subscriptions", "send_counts", "upload_claims", "pacing_slots",
          "bot_settings", "image_numbers", "shuffle_bags"]
# The tables each migration adds, in order (008 drops seen_images, and its rollback makes it).
ADDED = [["image_assets"], ["subscriptions"], ["seen_images", "send_counts"], [], [],
         ["upload_claims", "pacing_slots"], ["bot_settings"], ["image_numbers", "shuffle_bags"]]
BOOKKEEPING = {"delivered_at", "sending_owner", "sending_day", "set_aside"}


def test_migrations_apply_on_an_empty_database(empty_db):
    assert pending_migrations() == MIGRATIONS
    assert apply_migrations() == MIGRATIONS
    assert pending_migrations() == []
    assert set(TABLES) <= set(empty_db.get_tables())


def indexes(db, table: str) -> dict[tuple[str, ...], bool]:
    """The table's indexes but its primary key's (PostgreSQL lists it, SQLite does not)."""
    return {tuple(index.columns): index.unique for index in db.get_indexes(table)
            if not index.name.endswith("_pkey")}


def test_each_bot_has_one_row_per_image(empty_db):
    apply_migrations()
    assert indexes(empty_db, "image_assets") == {("bot_id", "asset_key"): True}


def test_nothing_is_left_to_migrate_against_the_models(empty_db):
    apply_migrations()
    router = migration_router()
    frozen = list(router.migrator.orm)
    assert [model._meta.table_name for model in frozen] == TABLES
    assert diff_many(MODELS, frozen, router.migrator) == []


def test_rollback_drops_the_tables_one_migration_at_a_time(empty_db):
    apply_migrations()
    for applied in range(len(MIGRATIONS), 0, -1):
        migration_router().rollback()
        tables = set(empty_db.get_tables())
        assert not set(ADDED[applied - 1]) & tables
        assert all(set(added) <= tables for added in ADDED[:applied - 1])
        assert pending_migrations() == MIGRATIONS[applied - 1:]
    assert apply_migrations() == MIGRATIONS


def test_a_bot_setting_is_one_row_per_bot_and_name(db):
    BotSetting.put(1, "webhook", "a").execute()
    BotSetting.put(1, "webhook", "b").execute()
    BotSetting.put(2, "webhook", "c").execute()
    assert (BotSetting.read(1, "webhook"), BotSetting.read(2, "webhook")) == ("b", "c")
    assert BotSetting.read(3, "webhook") is None and BotSetting.select().count() == 2


def test_subscriptions_are_unique_by_bot_and_chat_and_indexed_for_each_bots_round(db):
    assert indexes(db, "subscriptions") == {
        ("bot_id", "chat_id"): True, ("bot_id", "active", "next_at"): False}


def test_subscription_defaults_are_kept_by_the_database(db):
    db.execute_sql(
        "INSERT INTO subscriptions (bot_id, chat_id, chat_type, language, local_time, zone, "
        "next_at) VALUES (1, 7, 'private', 'en', '09:00', 'UTC', '2026-01-01 09:00:00')"
    )
    row = Subscription.get(Subscription.chat_id == 7)
    assert (row.active, row.attempts) == (True, 0)
    assert row.created_at is not None and row.updated_at is not None


def test_a_chat_has_one_bag_with_each_bot_and_each_bots_image_one_number(empty_db):
    apply_migrations()
    assert indexes(empty_db, "shuffle_bags") == {("bot_id", "chat_id"): True}
    assert indexes(empty_db, "image_numbers") == {
        ("bot_id", "asset_key"): True, ("bot_id", "number"): True}
    assert "seen_images" not in empty_db.get_tables()


def test_database_side_defaults_are_kept(empty_db):
    apply_migrations()
    empty_db.execute_sql("INSERT INTO shuffle_bags (bot_id, chat_id, seed) VALUES (1, 1, 5)")
    empty_db.execute_sql("INSERT INTO send_counts (bot_id, name) VALUES (1, 'uploads')")
    bag = ShuffleBag.get()
    assert (bag.leg_start, bag.leg_end, bag.step, bag.ahead, bag.shown, bag.version) == (
        0, 0, 0, "", 0, 0)
    assert bag.updated_at is not None and bag.last_number is None
    assert SendCount.totals(1) == {"uploads": 0}


def test_migrations_do_not_import_the_application_models():
    for path in migration_router().migrate_dir.glob("[0-9]*.py"):
        tree = ast.parse(path.read_text())
        imported = [
            alias.name if isinstance(node, ast.Import) else node.module
            for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        ]
        assert not [name for name in imported if name and name.startswith("cosmobot")], path


def columns(db, table: str) -> set[str]:
    return {column.name for column in db.get_columns(table)}


def test_rolling_back_the_bookkeeping_keeps_the_subscriptions(empty_db):
    migration_router().run("004_add_daily_round_bookkeeping")
    empty_db.execute_sql(
        "INSERT INTO subscriptions (chat_id, chat_type, language, local_time, zone, next_at, "
        "set_aside) VALUES (7, 'private', 'en', '09:00', 'UTC', '2026-01-01 09:00:00', 'why')")
    migration_router().rollback()
    assert not BOOKKEEPING & columns(empty_db, "subscriptions")
    assert empty_db.execute_sql("SELECT chat_id, zone FROM subscriptions").fetchall() == [
        (7, "UTC")]
    assert apply_migrations() == MIGRATIONS[3:]
    assert BOOKKEEPING <= columns(empty_db, "subscriptions")


def test_subscriptions_of_an_older_schema_learn_when_their_image_went_out(empty_db):
    migration_router().run("003_add_seen_images_and_send_counts")
    rows = [  # chat, time, zone, delivered_on
        (1, "07:00", "Asia/Tokyo", "2026-06-02"),  # 07:00 in Tokyo is 22:00 UTC the day before
        (2, "09:30", "-04:00", "2026-06-01"),
        (3, "09:30", "America/Los_Angeles", "2026-06-01"),
        (4, "09:30", "Mars/Olympus_Mons", "2026-06-01"),  # unreadable: left for the round
        (5, "09:30", "UTC", None),  # never had an image
    ]
    for chat, local_time, zone, delivered_on in rows:
        empty_db.execute_sql(
            "INSERT INTO subscriptions (chat_id, chat_type, language, local_time, zone, next_at, "
            "delivered_on, sending_since) VALUES (?, 'private', 'en', ?, ?, "
            "'2026-06-02 09:30:00', ?, NULL)".replace("?", empty_db.param),
            (chat, local_time, zone, delivered_on))
    assert apply_migrations() == MIGRATIONS[3:]
    migrated = {row.chat_id: row for row in Subscription.select()}
    assert {chat: row.delivered_at for chat, row in migrated.items()} == {
        1: dt.datetime(2026, 6, 1, 22, 0), 2: dt.datetime(2026, 6, 1, 13, 30),
        3: dt.datetime(2026, 6, 1, 16, 30), 4: None, 5: None,
    }
    assert migrated[1].delivered_on == dt.date(2026, 6, 2)
    assert all(row.set_aside is None and row.sending_owner is None for row in migrated.values())


def test_the_cross_process_tables_join_a_database_with_rows_and_leave_them(empty_db):
    migration_router().run("005_several_bots")  # a database made at 005's schema
    empty_db.execute_sql(
        "INSERT INTO subscriptions (bot_id, chat_id, chat_type, language, local_time, zone, "
        "next_at, sending_since, sending_owner) VALUES (42, 7, 'private', 'en', '09:00', 'UTC', "
        "'2026-01-01 09:00:00', '2026-01-01 09:00:05', 'old-process')")
    empty_db.execute_sql(
        "INSERT INTO image_assets (asset_key, file_id, file_unique_id, bot_id, fingerprint) "
        "VALUES ('cosmic/a.jpg', 'AgAC', 'unique', 42, 'f')")
    empty_db.execute_sql("INSERT INTO send_counts (bot_id, name, value) VALUES (42, 'uploads', 3)")
    assert apply_migrations() == MIGRATIONS[5:]  # 006, and what came after it
    row = Subscription.get(Subscription.chat_id == 7)
    # A mark from before leases has none: its owner is gone by now, so it has expired.
    assert (row.bot_id, row.sending_owner, row.sending_until) == (42, "old-process", None)
    assert [r.id for r in Subscription.lease_expired(42, dt.datetime(2026, 1, 1, 9, 0, 6))] == [
        row.id]
    assert ImageAsset.lookup(42, "cosmic/a.jpg").file_id == "AgAC"
    assert {"upload_claims", "pacing_slots"} <= set(empty_db.get_tables())
    while "006_add_cross_process_tables" in migration_router().done:  # 006 last
        migration_router().rollback()
    assert "sending_until" not in columns(empty_db, "subscriptions")
    assert not {"upload_claims", "pacing_slots"} & set(empty_db.get_tables())
    assert empty_db.execute_sql(
        "SELECT bot_id, chat_id, sending_owner FROM subscriptions").fetchall() == [
        (42, 7, "old-process")]
    assert empty_db.execute_sql("SELECT bot_id, file_id FROM image_assets").fetchall() == [
        (42, "AgAC")]
    assert SendCount.totals(42) == {"uploads": 3}
    assert apply_migrations() == MIGRATIONS[5:]  # and it comes back


def test_claims_and_slots_are_keyed_by_bot_and_image_or_chat(db):
    now = 1000.0
    assert UploadClaim.take(1, "cosmic/a.jpg", "me", now, now + 20).execute() == 1
    assert UploadClaim.take(2, "cosmic/a.jpg", "other", now, now + 20).execute() == 1
    assert UploadClaim.take(1, "cosmic/a.jpg", "other", now, now + 20).execute() == 0
    assert [list(PacingSlot.book(bot, "chat:7", now, 1.0).execute()) for bot in (1, 2)] == [
        [(now + 1.0,)], [(now + 1.0,)]]
