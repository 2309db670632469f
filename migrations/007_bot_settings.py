"""Peewee migrations -- 007_bot_settings.py.

bot_settings: small named values a bot keeps across restarts and processes, one row per bot
and name. The webhook's leader keeps there what it last registered with Telegram, so a new
leader registers again only when the URL or the secret changed.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed:
it picked up the abstract BaseModel, removed here.

The models are frozen here on purpose: migrations never import cosmobot.storage.models.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create bot_settings."""

    @migrator.create_model
    class BotSetting(pw.Model):
        bot_id = pw.BigIntegerField()
        name = pw.CharField(max_length=64)
        value = pw.TextField()

        class Meta:
            table_name = "bot_settings"
            primary_key = pw.CompositeKey("bot_id", "name")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop bot_settings."""
    migrator.remove_model("bot_settings")
