"""Peewee migrations -- 006_add_cross_process_tables.py.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed: the
abstract BaseModel it picked up was removed, and the number was made 006 (005 belongs to the
bot_id columns of several bots on one database).

What several processes of one bot share:
- upload_claims: which process uploads an image for a bot right now, and until when (seconds
  since the epoch), so the others wait for its file_id instead of uploading it too;
- pacing_slots: when a bot may next send to a chat, or at all, so that its processes together
  keep within Telegram's limits;
- subscriptions.sending_until: the lease of a daily send's mark; only an expired mark is
  another process's to settle.

The models are frozen here on purpose: migrations never import cosmobot.storage.models.
"""

import peewee as pw
from peewee_migrate import Migrator


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create upload_claims and pacing_slots; add the lease of a send's mark."""
    migrator.add_fields("subscriptions", sending_until=pw.DateTimeField(null=True))

    @migrator.create_model
    class UploadClaim(pw.Model):
        bot_id = pw.BigIntegerField()
        asset_key = pw.CharField(max_length=255)
        owner = pw.CharField(max_length=64)
        expires_at = pw.DoubleField()

        class Meta:
            table_name = "upload_claims"
            primary_key = pw.CompositeKey("bot_id", "asset_key")

    @migrator.create_model
    class PacingSlot(pw.Model):
        bot_id = pw.BigIntegerField()
        key = pw.CharField(max_length=64)
        next_at = pw.DoubleField()

        class Meta:
            table_name = "pacing_slots"
            primary_key = pw.CompositeKey("bot_id", "key")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop pacing_slots and upload_claims, and the lease of a send's mark."""
    migrator.remove_model("pacing_slots")
    migrator.remove_model("upload_claims")
    migrator.remove_fields("subscriptions", "sending_until")
