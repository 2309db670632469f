"""Peewee migrations -- 004_add_daily_round_bookkeeping.py.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed: the
abstract BaseModel it picked up was removed, and existing rows are filled in: a chat that had an
image gets `delivered_at`, the instant of its time of day on `delivered_on` in its zone (when
the round would have sent it), so a chat that moves zones knows which of its new days had one.

The columns, all nullable, on subscriptions:
- delivered_at: when the chat's last image went out;
- sending_owner, sending_day: which process marked a send in flight, and for which local day;
- set_aside: why the round cannot serve the row (a zone or time that cannot be read).

The model is frozen here on purpose, and so is the little zone arithmetic: migrations never
import cosmobot.
"""

import datetime as dt
import re
from importlib import resources
from zoneinfo import ZoneInfo

import peewee as pw
from peewee_migrate import Migrator

OFFSET = re.compile(r"^([+-])(\d{1,2}):?(\d{2})?$")
ZONE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")


def zone_of(name: str) -> dt.tzinfo:
    """The zone a subscription names: "UTC", an offset like "+05:30", or an IANA name."""
    if name == "UTC":
        return dt.timezone.utc
    offset = OFFSET.match(name)
    if offset:
        delta = dt.timedelta(hours=int(offset[2]), minutes=int(offset[3] or 0))
        return dt.timezone(-delta if offset[1] == "-" else delta)
    if not ZONE_NAME.match(name):
        raise ValueError(name)
    with resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


def instant_of(day: dt.date, local_time: str, zone: str) -> dt.datetime | None:
    """The naive UTC instant of "HH:MM" on day in zone; None if either cannot be read."""
    try:
        hour, minute = (int(part) for part in local_time.split(":"))
        local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone_of(zone))
    except (ValueError, OSError):
        return None  # the round sets such a row aside; the chat's next /daily mends it
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def fill_delivered_at(subscription: pw.Model) -> None:
    """Give every row that had an image the instant of its time on that day."""
    groups = (subscription.select(subscription.zone, subscription.local_time,
                                  subscription.delivered_on)
              .where(subscription.delivered_on.is_null(False))
              .group_by(subscription.zone, subscription.local_time, subscription.delivered_on)
              .tuples())
    for zone, local_time, day in list(groups):
        at = instant_of(day, local_time, zone)
        if at is not None:
            subscription.update(delivered_at=at).where(
                (subscription.zone == zone) & (subscription.local_time == local_time)
                & (subscription.delivered_on == day)).execute()


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Add delivered_at, the send mark's owner and day, and set_aside; fill delivered_at."""
    subscription = migrator.add_fields(
        "subscriptions",
        delivered_at=pw.DateTimeField(null=True),
        sending_owner=pw.CharField(max_length=64, null=True),
        sending_day=pw.DateField(null=True),
        set_aside=pw.CharField(max_length=255, null=True),
    )
    migrator.run(fill_delivered_at, subscription)


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Drop the columns 004 added."""
    migrator.remove_fields(
        "subscriptions", "delivered_at", "sending_owner", "sending_day", "set_aside")
