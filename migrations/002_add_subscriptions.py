"""Peewee migrations -- 002_add_subscriptions.py.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed: the
abstract BaseModel it picked up was removed, and database-side defaults, which the generator
drops, were added: "now, in UTC" for the timestamps (as in 001), and those of `active` and
`attempts`, so rows written by hand or by other tools mean the same.

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
    """Create subscriptions, unique by chat, indexed by (active, next_at) for the round."""
    now_utc = utc_now_default(database)

    @migrator.create_model
    class Subscription(pw.Model):
        id = pw.AutoField()
        chat_id = pw.BigIntegerField(unique=True)
        chat_type = pw.CharField(max_length=16)
        language = pw.CharField(max_length=8)
        local_time = pw.CharField(max_length=5)
        zone = pw.CharField(max_length=64)
        active = pw.BooleanField(default=True, constraints=[pw.SQL("DEFAULT TRUE")])
        next_at = pw.DateTimeField()
        delivered_on = pw.DateField(null=True)
        attempts = pw.SmallIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
        sending_since = pw.DateTimeField(null=True)
        created_at = pw.DateTimeField(constraints=[now_utc])
        updated_at = pw.DateTimeField(constraints=[now_utc])

        class Meta:
            table_name = "subscriptions"
            indexes = [(("active", "next_at"), False)]


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop subscriptions."""
    migrator.remove_model("subscriptions")
