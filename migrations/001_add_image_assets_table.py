"""Peewee migrations -- 001_add_image_assets_table.py.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed:
the abstract BaseModel it picked up was removed, and the database-side defaults for the
timestamps, which the generator drops, were restored. They are UTC on both databases, as the
values the application writes are: PostgreSQL's CURRENT_TIMESTAMP would follow the session's
time zone in a `timestamp` column.

The model is frozen here on purpose: migrations never import cosmobot.storage.models.
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
    """Create image_assets with a unique index on asset_key."""
    now_utc = utc_now_default(database)

    @migrator.create_model
    class ImageAsset(pw.Model):
        id = pw.AutoField()
        asset_key = pw.CharField(max_length=255, unique=True)
        file_id = pw.CharField(max_length=255)
        file_unique_id = pw.CharField(max_length=64)
        bot_id = pw.BigIntegerField()
        fingerprint = pw.CharField(max_length=64)
        created_at = pw.DateTimeField(constraints=[now_utc])
        refreshed_at = pw.DateTimeField(constraints=[now_utc])

        class Meta:
            table_name = "image_assets"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop image_assets."""
    migrator.remove_model("image_assets")
