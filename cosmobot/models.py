"""Database models."""

from __future__ import annotations

import datetime as dt

import peewee

from cosmobot.database import database


def utcnow() -> dt.datetime:
    """Return the current UTC time as a naive datetime, as both databases store it."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(peewee.Model):
    class Meta:
        database = database


class ImageAsset(BaseModel):
    """A Telegram file_id cached for one image file, so the image is uploaded only once.

    A file_id is only valid for the bot that received it, and only describes the bytes that
    were uploaded; so a row is used only when its bot_id and fingerprint still match.
    """

    asset_key = peewee.CharField(max_length=255, unique=True)
    file_id = peewee.CharField(max_length=255)
    file_unique_id = peewee.CharField(max_length=64)
    bot_id = peewee.BigIntegerField()
    fingerprint = peewee.CharField(max_length=64)
    # The migration also gives both a database-side default of "now, in UTC".
    created_at = peewee.DateTimeField(default=utcnow)
    refreshed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "image_assets"

    def is_valid_for(self, bot_id: int, fingerprint: str) -> bool:
        """Whether this cached file_id may be sent by bot_id for a file with fingerprint."""
        return self.bot_id == bot_id and self.fingerprint == fingerprint

    @classmethod
    def lookup(cls, asset_key: str) -> ImageAsset | None:
        """Return the cached row for asset_key, if any."""
        return cls.get_or_none(cls.asset_key == asset_key)

    @classmethod
    def store(
        cls, asset_key: str, file_id: str, file_unique_id: str, bot_id: int, fingerprint: str
    ) -> peewee.Insert:
        """Return an upsert that records (or replaces) the file_id for asset_key."""
        now = utcnow()
        values = {
            cls.file_id: file_id,
            cls.file_unique_id: file_unique_id,
            cls.bot_id: bot_id,
            cls.fingerprint: fingerprint,
            cls.refreshed_at: now,
        }
        return cls.insert({cls.asset_key: asset_key, cls.created_at: now, **values}).on_conflict(
            conflict_target=[cls.asset_key], update=values
        )

    @classmethod
    def forget(cls, asset_key: str, file_id: str) -> peewee.Delete:
        """Return a delete of asset_key's row, only while it still holds file_id."""
        # Matching the file_id too keeps a concurrent writer's fresh id from being dropped.
        return cls.delete().where((cls.asset_key == asset_key) & (cls.file_id == file_id))
