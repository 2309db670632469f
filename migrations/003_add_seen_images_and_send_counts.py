"""Peewee migrations -- 003_add_seen_images_and_send_counts.py.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed: the
abstract BaseModel it picked up was removed, the number was made 003 (002 belongs to the
subscriptions), and the database-side defaults, which the generator drops, were restored:
seen_at is "now, in UTC" on both databases, as in 001, and a total starts at 0.

The models are frozen here on purpose: migrations never import cosmobot.storage.models.
"""

import peewee as pw
from peewee_migrate import Migrator


def utc_now_default(database: pw.Database) -> pw.SQL:
    """The column default for "now, in UTC" on this database."""
    target = database.obj if isinstance(database, pw.DatabaseProxy) else database
    if isinstance(target, pw.PostgresqlDatabase):
        return pw.SQL("DEFAULT (now() AT TIME ZONE 'utc')")
    return pw.SQL("DEFAULT CURRENT_TIMESTAMP")  # SQLite's is UTC already


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create seen_images (each chat's shuffle bag) and send_counts (lifetime totals)."""

    @migrator.create_model
    class SeenImage(pw.Model):
        id = pw.BigAutoField()
        chat_id = pw.BigIntegerField()
        asset_key = pw.CharField(max_length=255)
        seen_at = pw.DateTimeField(constraints=[utc_now_default(database)])

        class Meta:
            table_name = "seen_images"
            indexes = [(("chat_id", "asset_key"), True)]

    @migrator.create_model
    class SendCount(pw.Model):
        name = pw.CharField(max_length=32, primary_key=True)
        value = pw.BigIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])

        class Meta:
            table_name = "send_counts"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop send_counts and seen_images."""
    migrator.remove_model("send_counts")
    migrator.remove_model("seen_images")
