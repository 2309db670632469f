"""Peewee migrations -- 005_several_bots.py.

Several bots on one database: every row that belongs to a bot carries its id. `bot_id` is added
to subscriptions, seen_images and send_counts; the unique keys become (bot_id, chat_id),
(bot_id, chat_id, asset_key), (bot_id, name) and, on image_assets, (bot_id, asset_key); the
daily round's index becomes (bot_id, active, next_at).

Existing rows go to the database's only bot, the one bot_id image_assets holds. If it holds
none or several, they get 0, "not claimed yet": the first bot that starts adopts them
(cosmobot.storage.adoption). The image_assets rows keep the bot they were cached for.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed:
what it generated would not run, and was rewritten:
- it added bot_id as NOT NULL with no value for the rows already there: the field's default
  now says which bot they go to, read when the migration runs (peewee-migrate adds the column,
  fills it with the default, then makes it NOT NULL; the column keeps no default);
- it changed asset_key and chat_id to drop their unique flag, which drops the index, then
  dropped the index again: the indexes are dropped once, by the names peewee gave them when
  it made them (after the model, `subscription_chat_id`, where drop_index would look for one
  named after the table);
- it missed that send_counts' primary key becomes (bot_id, name): that table (a few rows)
  is rebuilt, its rows kept;
- it picked up the abstract BaseModel, removed here;
- its rollback dropped bot_id before the indexes that use it.
Rollback: the older schema holds one row per chat, per chat and image, per image and per total;
where several bots have one, the oldest row is kept, and the totals are summed.

The models are frozen here on purpose: migrations never import cosmobot.storage.models.
"""

import peewee as pw
from peewee_migrate import Migrator

# The bot of the rows already there: the one bot image_assets names, else 0 (not claimed yet).
OWNER = ("(SELECT CASE WHEN COUNT(DISTINCT bot_id) = 1 THEN MIN(bot_id) ELSE 0 END "
         "FROM image_assets)")
# Where send_counts' rows wait while the table is rebuilt.
KEPT_COUNTS = "send_counts_kept"
# The indexes 001 to 003 made, by the names peewee gave them: (table, name, columns, unique).
OLD_INDEXES = [
    ("image_assets", "imageasset_asset_key", ("asset_key",), True),
    ("subscriptions", "subscription_chat_id", ("chat_id",), True),
    ("subscriptions", "subscription_active_next_at", ("active", "next_at"), False),
    ("seen_images", "seenimage_chat_id_asset_key", ("chat_id", "asset_key"), True),
]
# The rows the older schema keeps where several bots have one: the oldest.
ONE_PER_KEY = {
    "subscriptions": "chat_id",
    "seen_images": "chat_id, asset_key",
    "image_assets": "asset_key",
}


def owner_of_existing_rows(database: pw.Database):
    """The default that gives the rows already there to their bot, read when it is applied."""
    return lambda: database.execute_sql(f"SELECT {OWNER}").fetchone()[0]


def drop_old_index(migrator: Migrator, table: str, name: str, columns: tuple[str, ...]):
    """drop_index, for an index whose name drop_index cannot work out."""
    with migrator.fake():  # the frozen model forgets the index; its SQL is left out
        migrator.drop_index(table, *columns)
    migrator.sql(f"DROP INDEX {name}")


def add_old_index(migrator: Migrator, table: str, name: str, columns: tuple[str, ...],
                  unique: bool):
    """add_index, under the name the index had before, so that 005 can drop it again."""
    with migrator.fake():
        migrator.add_index(table, *columns, unique=unique)
    kind = "UNIQUE INDEX" if unique else "INDEX"
    migrator.sql(f"CREATE {kind} {name} ON {table} ({', '.join(columns)})")


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Give every row its bot, and make each bot's keys unique per bot."""
    for table, name, columns, _ in OLD_INDEXES:
        drop_old_index(migrator, table, name, columns)
    migrator.add_index("image_assets", "bot_id", "asset_key", unique=True)
    for table in ("subscriptions", "seen_images"):
        migrator.add_fields(table, bot_id=pw.BigIntegerField(default=owner_of_existing_rows(database)))
    migrator.add_index("subscriptions", "bot_id", "chat_id", unique=True)
    migrator.add_index("subscriptions", "bot_id", "active", "next_at", unique=False)
    migrator.add_index("seen_images", "bot_id", "chat_id", "asset_key", unique=True)

    migrator.sql(f"CREATE TABLE {KEPT_COUNTS} AS SELECT name, value FROM send_counts")
    migrator.remove_model("send_counts")

    @migrator.create_model
    class SendCount(pw.Model):
        bot_id = pw.BigIntegerField()
        name = pw.CharField(max_length=32)
        value = pw.BigIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])

        class Meta:
            table_name = "send_counts"
            primary_key = pw.CompositeKey("bot_id", "name")

    migrator.sql(f"INSERT INTO send_counts (bot_id, name, value) "
                 f"SELECT {OWNER}, name, value FROM {KEPT_COUNTS}")
    migrator.sql(f"DROP TABLE {KEPT_COUNTS}")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop bot_id and the keys with it; keep one row per key, as the older schema can."""
    migrator.sql(f"CREATE TABLE {KEPT_COUNTS} AS "
                 "SELECT name, SUM(value) AS value FROM send_counts GROUP BY name")
    migrator.remove_model("send_counts")

    @migrator.create_model
    class SendCount(pw.Model):
        name = pw.CharField(max_length=32, primary_key=True)
        value = pw.BigIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])

        class Meta:
            table_name = "send_counts"

    migrator.sql(f"INSERT INTO send_counts (name, value) SELECT name, value FROM {KEPT_COUNTS}")
    migrator.sql(f"DROP TABLE {KEPT_COUNTS}")

    migrator.drop_index("subscriptions", "bot_id", "chat_id")
    migrator.drop_index("subscriptions", "bot_id", "active", "next_at")
    migrator.drop_index("seen_images", "bot_id", "chat_id", "asset_key")
    migrator.drop_index("image_assets", "bot_id", "asset_key")
    for table, key in ONE_PER_KEY.items():
        migrator.sql(f"DELETE FROM {table} WHERE id NOT IN "
                     f"(SELECT MIN(id) FROM {table} GROUP BY {key})")
    migrator.remove_fields("subscriptions", "bot_id")
    migrator.remove_fields("seen_images", "bot_id")
    for table, name, columns, unique in OLD_INDEXES:
        add_old_index(migrator, table, name, columns, unique)
