"""Peewee migrations -- 001_add_image_assets_table.py.

Created with `pw_migrate create --auto --auto-source cosmobot.models`, then reviewed:
the abstract BaseModel it picked up was removed, and the database-side defaults for the
timestamps, which the generator drops, were restored.

The model is frozen here on purpose: migrations never import cosmobot.models.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create image_assets with a unique index on asset_key."""

    @migrator.create_model
    class ImageAsset(pw.Model):
        id = pw.AutoField()
        asset_key = pw.CharField(max_length=255, unique=True)
        file_id = pw.CharField(max_length=255)
        file_unique_id = pw.CharField(max_length=64)
        bot_id = pw.BigIntegerField()
        fingerprint = pw.CharField(max_length=64)
        created_at = pw.DateTimeField(constraints=[pw.SQL("DEFAULT CURRENT_TIMESTAMP")])
        refreshed_at = pw.DateTimeField(constraints=[pw.SQL("DEFAULT CURRENT_TIMESTAMP")])

        class Meta:
            table_name = "image_assets"


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop image_assets."""
    migrator.remove_model("image_assets")
