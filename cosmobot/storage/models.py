"""Database models."""

from __future__ import annotations

import datetime as dt

import peewee

from cosmobot.clock import utcnow
from cosmobot.storage.database import database


class BaseModel(peewee.Model):
    class Meta:
        database = database


class ImageAsset(BaseModel):
    """A Telegram file_id cached for one image file, so the image is uploaded only once.

    A file_id is only valid for the bot that received it, and only describes the bytes that
    were uploaded: each bot has a row of its own per image, used only while its fingerprint
    still matches the file.
    """

    asset_key = peewee.CharField(max_length=255)
    file_id = peewee.CharField(max_length=255)
    file_unique_id = peewee.CharField(max_length=64)
    bot_id = peewee.BigIntegerField()
    fingerprint = peewee.CharField(max_length=64)
    # The migration also gives both a database-side default of "now, in UTC".
    created_at = peewee.DateTimeField(default=utcnow)
    refreshed_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "image_assets"
        indexes = ((("bot_id", "asset_key"), True),)

    def is_valid_for(self, bot_id: int, fingerprint: str) -> bool:
        """Whether this cached file_id may be sent by bot_id for a file with fingerprint."""
        return self.bot_id == bot_id and self.fingerprint == fingerprint

    @classmethod
    def lookup(cls, bot_id: int, asset_key: str) -> ImageAsset | None:
        """Return bot_id's cached row for asset_key, if any."""
        return cls.get_or_none((cls.bot_id == bot_id) & (cls.asset_key == asset_key))

    @classmethod
    def lookup_many(cls, bot_id: int, asset_keys: list[str]) -> peewee.Select:
        """Return bot_id's cached rows of asset_keys."""
        return cls.select().where((cls.bot_id == bot_id) & cls.asset_key.in_(asset_keys))

    @classmethod
    def store(
        cls, asset_key: str, file_id: str, file_unique_id: str, bot_id: int, fingerprint: str
    ) -> peewee.Insert:
        """Return an upsert that records (or replaces) bot_id's file_id for asset_key."""
        now = utcnow()
        values = {
            cls.file_id: file_id,
            cls.file_unique_id: file_unique_id,
            cls.fingerprint: fingerprint,
            cls.refreshed_at: now,
        }
        row = {cls.bot_id: bot_id, cls.asset_key: asset_key, cls.created_at: now, **values}
        return cls.insert(row).on_conflict(
            conflict_target=[cls.bot_id, cls.asset_key], update=values
        )

    @classmethod
    def forget(cls, bot_id: int, asset_key: str, file_id: str) -> peewee.Delete:
        """Return a delete of bot_id's row for asset_key, only while it still holds file_id."""
        # Matching the file_id too keeps a concurrent writer's fresh id from being dropped.
        return cls.delete().where((cls.bot_id == bot_id) & (cls.asset_key == asset_key)
                                  & (cls.file_id == file_id))


class Subscription(BaseModel):
    """A chat's subscription to one bot's cosmic image a day at its local time of day.

    next_at is the UTC instant the next image is due; each bot's daily round reads its
    subscriptions by (bot_id, active, next_at), so that index is all it needs however many
    chats subscribe. A chat may subscribe to several bots, one row each.
    """

    bot_id = peewee.BigIntegerField()
    chat_id = peewee.BigIntegerField()
    chat_type = peewee.CharField(max_length=16)
    language = peewee.CharField(max_length=8)
    local_time = peewee.CharField(max_length=5)  # "HH:MM" in zone
    zone = peewee.CharField(max_length=64)  # an IANA name, "UTC" or an offset like "+05:30"
    active = peewee.BooleanField(default=True)
    next_at = peewee.DateTimeField()
    # The local day (in zone) whose image the chat had last, so no chat gets two on one day.
    delivered_on = peewee.DateField(null=True)
    # When that image went out: a chat that moves zones had its image on this instant's day.
    delivered_at = peewee.DateTimeField(null=True)
    # Failed tries at the image now due; bounded, then the chat waits for the next day.
    attempts = peewee.SmallIntegerField(default=0)
    # Set while an image is on its way: a row still marked after a crash had a send in flight.
    sending_since = peewee.DateTimeField(null=True)
    # Which process marked it, and the local day whose image is on its way.
    sending_owner = peewee.CharField(max_length=64, null=True)
    sending_day = peewee.DateField(null=True)
    # The mark's lease: until then its owner may still be sending; only an expired mark (its
    # owner died or was deposed) is another process's to settle.
    sending_until = peewee.DateTimeField(null=True)
    # Why the round cannot serve the row (its zone or time cannot be read); None while it can.
    set_aside = peewee.CharField(max_length=255, null=True)
    # The migration also gives both a database-side default of "now, in UTC".
    created_at = peewee.DateTimeField(default=utcnow)
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "subscriptions"
        indexes = (
            (("bot_id", "chat_id"), True),
            (("bot_id", "active", "next_at"), False),
        )

    @classmethod
    def of_chat(cls, bot_id: int, chat_id: int) -> Subscription | None:
        """Return chat_id's subscription to bot_id, active or not."""
        return cls.get_or_none((cls.bot_id == bot_id) & (cls.chat_id == chat_id))

    @classmethod
    def due(cls, bot_id: int, now: dt.datetime, limit: int) -> peewee.ModelSelect:
        """Return up to limit of bot_id's servable rows due at now, not on their way, oldest 1st."""
        return (cls.select()
                .where(cls.is_due(bot_id, now) & cls.sending_since.is_null())
                .order_by(cls.next_at, cls.id)
                .limit(limit))

    @classmethod
    def is_due(cls, bot_id: int, now: dt.datetime) -> peewee.Expression:
        """Return the condition of bot_id's active subscription due at now, not set aside."""
        return (cls.bot_id == bot_id) & cls.active & cls.set_aside.is_null() & (cls.next_at <= now)

    @classmethod
    def in_flight(cls, bot_id: int) -> peewee.ModelSelect:
        """Return bot_id's subscriptions marked as having an image on its way."""
        return (cls.select().where((cls.bot_id == bot_id) & cls.sending_since.is_null(False))
                .order_by(cls.id))

    @classmethod
    def lease_expired(cls, bot_id: int, now: dt.datetime) -> peewee.ModelSelect:
        """Return bot_id's marked subscriptions whose lease ended before now (or that have none)."""
        # A mark made before leases existed has none: its owner is gone by now.
        expired = cls.sending_until.is_null() | (cls.sending_until < now)
        return cls.in_flight(bot_id).where(expired)


class ImageNumber(BaseModel):
    """A bot's number for one of its images, given in the order the bot first found them.

    A number is never given again, nor taken back from an image that was removed: the shuffle
    bags of every chat refer to the images by these numbers.
    """

    bot_id = peewee.BigIntegerField()
    asset_key = peewee.CharField(max_length=255)
    number = peewee.IntegerField()

    class Meta:
        table_name = "image_numbers"
        indexes = ((("bot_id", "asset_key"), True), (("bot_id", "number"), True))

    @classmethod
    def of_bot(cls, bot_id: int, first: int = 0) -> peewee.ModelSelect:
        """Return bot_id's (key, number) rows numbered first or later."""
        return (cls.select(cls.asset_key, cls.number)
                .where((cls.bot_id == bot_id) & (cls.number >= first)))


class ShuffleBag(BaseModel):
    """Where a chat is in its round through one bot's images (its shuffle bag), in one row.

    The round goes through the bot's image numbers in legs: first the numbers there were
    when it began, then those given since, each leg in the order seed shuffles it into.
    What the chat has seen this round is the steps taken, the numbers of earlier legs, and
    the few numbers it was shown out of that order (`ahead`, comma-separated). See
    cosmobot.storage.bagstate.
    """

    bot_id = peewee.BigIntegerField()
    chat_id = peewee.BigIntegerField()
    seed = peewee.BigIntegerField()
    # The leg under way: the image numbers from leg_start up to leg_end, and the steps taken.
    # The migration also gives these and the other counts a database-side default of 0.
    leg_start = peewee.IntegerField(default=0)
    leg_end = peewee.IntegerField(default=0)
    step = peewee.IntegerField(default=0)
    ahead = peewee.TextField(default="")
    last_number = peewee.IntegerField(null=True)  # the image shown last, for the round's edge
    shown = peewee.IntegerField(default=0)  # images seen this round
    # Raised by every change: a write is made only on the version it was worked out from.
    version = peewee.IntegerField(default=0)
    # The migration also gives it a database-side default of "now, in UTC".
    updated_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "shuffle_bags"
        indexes = ((("bot_id", "chat_id"), True),)

    @classmethod
    def of_chat(cls, bot_id: int, chat_id: int) -> peewee.Expression:
        """Return the condition of chat_id's bag with bot_id."""
        return (cls.bot_id == bot_id) & (cls.chat_id == chat_id)


class SendCount(BaseModel):
    """A running total over a bot's whole life: photos sent by file_id, or uploaded."""

    bot_id = peewee.BigIntegerField()
    name = peewee.CharField(max_length=32)
    # The migration also gives it a database-side default of 0.
    value = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "send_counts"
        primary_key = peewee.CompositeKey("bot_id", "name")

    @classmethod
    def add(cls, bot_id: int, name: str, amount: int) -> peewee.Insert:
        """Return an upsert adding amount to bot_id's total called name."""
        return cls.insert({cls.bot_id: bot_id, cls.name: name, cls.value: amount}).on_conflict(
            conflict_target=[cls.bot_id, cls.name], update={cls.value: cls.value + amount}
        )

    @classmethod
    def totals(cls, bot_id: int) -> dict[str, int]:
        """Return every total of bot_id by name."""
        return {row.name: row.value for row in cls.select().where(cls.bot_id == bot_id)}


class UploadClaim(BaseModel):
    """A process's claim on uploading one image for one bot: the others wait for its file_id.

    expires_at is in seconds since the epoch on the system clock, which every process shares.
    The owner renews the claim while it uploads; the claim of one that died simply expires.
    """

    bot_id = peewee.BigIntegerField()
    asset_key = peewee.CharField(max_length=255)
    owner = peewee.CharField(max_length=64)
    expires_at = peewee.DoubleField()

    class Meta:
        table_name = "upload_claims"
        primary_key = peewee.CompositeKey("bot_id", "asset_key")

    @classmethod
    def take(cls, bot_id: int, asset_key: str, owner: str, now: float,
             until: float) -> peewee.Insert:
        """Return an upsert taking the claim if free, expired or owner's; it counts 1 if taken."""
        return cls.insert(bot_id=bot_id, asset_key=asset_key, owner=owner,
                          expires_at=until).on_conflict(
            conflict_target=[cls.bot_id, cls.asset_key],
            update={cls.owner: owner, cls.expires_at: until},
            where=(cls.expires_at < now) | (cls.owner == owner),
        ).as_rowcount()

    @classmethod
    def renew(cls, bot_id: int, asset_key: str, owner: str, until: float) -> peewee.Update:
        """Return an update moving owner's claim on to until (nothing if it is owner's no more)."""
        return cls.update(expires_at=until).where(cls.of(bot_id, asset_key) & (cls.owner == owner))

    @classmethod
    def release(cls, bot_id: int, asset_key: str, owner: str) -> peewee.Delete:
        """Return a delete of owner's claim (a claim taken over meanwhile stays)."""
        return cls.delete().where(cls.of(bot_id, asset_key) & (cls.owner == owner))

    @classmethod
    def holder(cls, bot_id: int, asset_key: str) -> UploadClaim | None:
        """Return the claim on the image, live or expired, if any."""
        return cls.get_or_none(cls.of(bot_id, asset_key))

    @classmethod
    def of(cls, bot_id: int, asset_key: str) -> peewee.Expression:
        return (cls.bot_id == bot_id) & (cls.asset_key == asset_key)


class PacingSlot(BaseModel):
    """When one bot may next send a message to a chat, or at all: kept for all its processes.

    next_at is in seconds since the epoch on the system clock, which every process shares.
    """

    bot_id = peewee.BigIntegerField()
    key = peewee.CharField(max_length=64)  # a chat, or the bot's overall slot
    next_at = peewee.DoubleField()

    class Meta:
        table_name = "pacing_slots"
        primary_key = peewee.CompositeKey("bot_id", "key")

    @classmethod
    def book(cls, bot_id: int, key: str, now: float, interval: float,
             latest: float | None = None) -> peewee.Insert:
        """Return an upsert booking the slot's next free moment and returning the moment after.

        The booked moment is the slot's next one, or now if that has passed; with latest, the
        slot is booked only if that moment is no later than latest (else no row comes back).
        """
        start = peewee.Case(None, [(cls.next_at > now, cls.next_at)], now)
        return cls.insert(bot_id=bot_id, key=key, next_at=now + interval).on_conflict(
            conflict_target=[cls.bot_id, cls.key],
            update={cls.next_at: start + interval},
            where=None if latest is None else cls.next_at <= latest,
        ).returning(cls.next_at).tuples()

    @classmethod
    def next_free(cls, bot_id: int, key: str) -> peewee.ModelSelect:
        """Return a query of the slot's next free moment (no row if it was never booked)."""
        return cls.select(cls.next_at).where((cls.bot_id == bot_id) & (cls.key == key))

    @classmethod
    def move(cls, bot_id: int, key: str, booked: float, to: float) -> peewee.Update:
        """Return an update moving the slot's next moment from booked to `to`, unless booked on
        since."""
        return cls.update(next_at=to).where(
            (cls.bot_id == bot_id) & (cls.key == key) & (cls.next_at == booked))

    @classmethod
    def hold(cls, bot_id: int, key: str, until: float) -> peewee.Insert:
        """Return an upsert keeping the slot shut until until (Telegram named a wait)."""
        later = peewee.Case(None, [(cls.next_at > until, cls.next_at)], until)
        return cls.insert(bot_id=bot_id, key=key, next_at=until).on_conflict(
            conflict_target=[cls.bot_id, cls.key], update={cls.next_at: later})

    @classmethod
    def stale(cls, before: float) -> peewee.Delete:
        """Return a delete of the slots free since before: they pace nothing any more."""
        return cls.delete().where(cls.next_at < before)


class BotSetting(BaseModel):
    """A small named value a bot keeps across restarts and processes (e.g. its webhook's)."""

    bot_id = peewee.BigIntegerField()
    name = peewee.CharField(max_length=64)
    value = peewee.TextField()

    class Meta:
        table_name = "bot_settings"
        primary_key = peewee.CompositeKey("bot_id", "name")

    @classmethod
    def put(cls, bot_id: int, name: str, value: str) -> peewee.Insert:
        """Return an upsert setting bot_id's value called name."""
        return cls.insert({cls.bot_id: bot_id, cls.name: name, cls.value: value}).on_conflict(
            conflict_target=[cls.bot_id, cls.name], update={cls.value: value}
        )

    @classmethod
    def read(cls, bot_id: int, name: str) -> str | None:
        """Return bot_id's value called name, if it has one."""
        row = cls.get_or_none((cls.bot_id == bot_id) & (cls.name == name))
        return row.value if row else None
