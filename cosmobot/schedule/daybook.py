"""The daily round's rows: the day a chat is due for, the mark of a send, and what became of it.

Each bot's round reads and settles its own subscriptions only. Everything here but
`served_day` is a synchronous peewee call meant for `database.in_db_thread`. The rules these
keep are in `cosmobot.schedule.daily`'s note.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from loguru import logger
from peewee import Case, Field, fn

from cosmobot.clock import utcnow
from cosmobot.schedule import localtime
from cosmobot.schedule.subscriptions import move_chat, next_image_at
from cosmobot.storage.database import database
from cosmobot.storage.models import Subscription
from cosmobot.storage.process import OWNER

# Subscriptions read from the database at a time.
BATCH_SIZE = 200
# Tries at one day's image before the chat waits for the next day.
MAX_ATTEMPTS = 3
# How long after a failed try the chat is due again (a later round).
RETRY_DELAY = dt.timedelta(minutes=2)
# How long after local midnight a chat reached late still gets the day before's image.
LATE_GRACE = dt.timedelta(hours=3)
# How long a send's mark holds unless its owner renews it (every LEASE_RENEW_SECONDS while
# its round runs, so a send slower than this, a 429's wait or an upload, keeps its mark). A
# new leader settles a dead leader's marks once they expire: short enough for its first
# rounds after a takeover, long enough that three renewals in a row must fail (a database
# slow for that long has made the leader step down, see storage.leadership) before a live
# process's mark is taken for a dead one's. Settling a live one's early would count a send that
# may yet fail; it never sends twice.
SEND_LEASE = dt.timedelta(seconds=20)
LEASE_RENEW_SECONDS = 5.0

ONE_DAY = dt.timedelta(days=1)
MIDNIGHT = dt.time(0, 0)
UNMARKED = {"sending_since": None, "sending_owner": None, "sending_day": None,
            "sending_until": None}


def served_day(row: Subscription, at: dt.datetime) -> dt.date | None:
    """Return the local day whose image the chat gets at `at`, or None if it gets none now.

    ValueError if the row's time of day or zone cannot be read.
    """
    time_of_day = localtime.parse_time(row.local_time)
    today = localtime.local_date(at, row.zone)
    if localtime.instant_of(today, time_of_day, row.zone) <= at:
        day = today
    elif at < localtime.instant_of(today, MIDNIGHT, row.zone) + LATE_GRACE:
        day = today - ONE_DAY  # reached after midnight: the day before's image, if not had
    else:
        return None
    return day if row.delivered_on is None or day > row.delivered_on else None


def due_batch(bot_id: int, now: dt.datetime) -> list[Subscription]:
    """Return the next batch of bot_id's due subscriptions."""
    return list(Subscription.due(bot_id, now, BATCH_SIZE))


def count_due(bot_id: int, now: dt.datetime) -> int:
    """Return how many subscriptions bot_id's round would serve at now."""
    return Subscription.select().where(Subscription.is_due(bot_id, now)).count()


@dataclass(frozen=True)
class SubscriberCounts:
    active: int
    inactive: int
    set_aside: int


def subscriber_counts(bot_id: int) -> SubscriberCounts:
    """Return how many of bot_id's subscriptions are active, inactive, and active but set aside."""
    mine = Subscription.bot_id == bot_id
    by_state = dict(Subscription.select(Subscription.active, fn.COUNT(Subscription.id))
                    .where(mine).group_by(Subscription.active).tuples())
    set_aside = Subscription.select().where(
        mine & Subscription.active & Subscription.set_aside.is_null(False)).count()
    return SubscriberCounts(by_state.get(True, 0), by_state.get(False, 0), set_aside)


def count_done(bot_id: int, now: dt.datetime) -> int:
    """Return how many of bot_id's active chats had their image on their own local day at now."""
    # Chats in one zone share a local date: group by zone, not by chat.
    recent = (Subscription.select(Subscription.zone, Subscription.delivered_on,
                                  fn.COUNT(Subscription.id))
              .where((Subscription.bot_id == bot_id) & Subscription.active
                     & (Subscription.delivered_on >= now.date() - ONE_DAY))
              .group_by(Subscription.zone, Subscription.delivered_on).tuples())
    done = 0
    for zone, day, count in recent:
        try:
            done += count if day == localtime.local_date(now, zone) else 0
        except ValueError:
            continue  # a zone that cannot be read has no today to count in (set aside)
    return done


def claim(subscription_id: int, at: dt.datetime, day: dt.date, owner: str = OWNER) -> bool:
    """Mark day's image as on its way to the chat; False if another round has it, or it stopped."""
    query = Subscription.update(sending_since=at, sending_owner=owner, sending_day=day,
                                sending_until=at + SEND_LEASE).where(
        (Subscription.id == subscription_id) & Subscription.active
        & Subscription.sending_since.is_null())
    return query.execute() > 0


def claim_many(subscription_ids: Collection[int], at: dt.datetime, day: dt.date,
               owner: str = OWNER) -> set[int]:
    """Mark day's image as on its way to each chat in two statements; return the ids marked.

    Those another round has, or that stopped, are not marked.
    """
    if not subscription_ids:
        return set()
    ids = list(subscription_ids)
    Subscription.update(sending_since=at, sending_owner=owner, sending_day=day,
                        sending_until=at + SEND_LEASE).where(
        Subscription.id.in_(ids) & Subscription.active
        & Subscription.sending_since.is_null()).execute()
    # A mark this owner made at this moment is this claim's: one process runs one round.
    return set(Subscription.select(Subscription.id).where(
        Subscription.id.in_(ids) & (Subscription.sending_owner == owner)
        & (Subscription.sending_since == at)).scalars())


def wait_for_next(subscription_id: int, at: dt.datetime) -> None:
    """Schedule a chat with nothing to send at `at` for its next day without an image."""
    row = Subscription.get_or_none(Subscription.id == subscription_id)
    if row is None:
        return
    # Read again: /daily may have changed the time since the round read the row.
    time_of_day = localtime.parse_time(row.local_time)
    next_at = next_image_at(time_of_day, row.zone, at, row.delivered_on)
    Subscription.update(next_at=next_at, attempts=0, updated_at=utcnow()).where(
        Subscription.id == subscription_id).execute()


def set_aside(subscription_id: int, reason: str) -> None:
    """Take a row the round cannot serve out of the round, saying why."""
    Subscription.update(set_aside=reason[:255], updated_at=utcnow(), **UNMARKED).where(
        Subscription.id == subscription_id).execute()


@dataclass(frozen=True)
class Delivery:
    """A chat had day's image (day in zone), sent at `at`."""

    subscription_id: int
    day: dt.date
    zone: str
    at: dt.datetime


def record_delivery(subscription_id: int, day: dt.date, zone: str, at: dt.datetime) -> None:
    """Record that the chat had day's image (day in zone), sent at `at`."""
    record_deliveries([Delivery(subscription_id, day, zone, at)])


def record_deliveries(deliveries: Sequence[Delivery]) -> None:
    """Record deliveries in one transaction: a read and an update for them all, as a rule."""
    with database.atomic():
        rows = {row.id: row for row in Subscription.select().where(
            Subscription.id.in_([delivery.subscription_id for delivery in deliveries]))}
        finished: dict[int, tuple[dt.date, dt.datetime, dt.datetime]] = {}
        for delivery in deliveries:
            row = rows.get(delivery.subscription_id)
            if row is None:
                continue
            # The chat moved zones while the image was on its way: it had it on that day there.
            done_on = delivery.day if row.zone == delivery.zone else localtime.local_date(
                delivery.at, row.zone)
            try:
                finished[row.id] = (done_on, delivery.at, _next_image(row, done_on))
            except ValueError:  # a time that cannot be read: set aside, on its own
                _finish(row, done_on, delivered_on=done_on, delivered_at=delivery.at)
        if finished:
            _finish_all(finished)


def _finish_all(finished: dict[int, tuple[dt.date, dt.datetime, dt.datetime]]) -> None:
    """Clear the rows' marks and tries, with their delivered_on, delivered_at and next_at."""
    columns = (Subscription.delivered_on, Subscription.delivered_at, Subscription.next_at)
    values = {column.name: _per_row(column, {id_: row[n] for id_, row in finished.items()})
              for n, column in enumerate(columns)}
    Subscription.update(attempts=0, updated_at=utcnow(), **UNMARKED, **values).where(
        Subscription.id.in_(list(finished))).execute()


def _per_row(column: Field, values: dict[int, object]) -> object:
    """The value all rows share, or a CASE giving each row its own."""
    if len(set(values.values())) == 1:
        return next(iter(values.values()))
    return Case(Subscription.id, [(id_, column.to_value(value)) for id_, value in values.items()])


def record_failure(subscription_id: int, day: dt.date, at: dt.datetime) -> int:
    """Count a failed try at day's image and return the tries so far.

    The chat is due again after RETRY_DELAY, or, after the last try, on the day after.
    """
    with database.atomic():
        row = Subscription.get_or_none(Subscription.id == subscription_id)
        if row is None:
            return MAX_ATTEMPTS
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            _finish(row, day)  # the day is given up on: nothing was delivered
            return attempts
        Subscription.update(attempts=attempts, next_at=at + RETRY_DELAY, updated_at=utcnow(),
                            **UNMARKED).where(Subscription.id == subscription_id).execute()
        return attempts


def deactivate(subscription_id: int) -> None:
    """Stop a subscription whose chat the bot can no longer write to."""
    Subscription.update(active=False, updated_at=utcnow(), **UNMARKED).where(
        Subscription.id == subscription_id).execute()


def follow_migration(bot_id: int, subscription_id: int, old_chat_id: int,
                     new_chat_id: int) -> bool:
    """Move bot_id's row to the supergroup its group became, if the migration update has not.

    False when there is nothing to send there: the supergroup had a subscription of its own,
    which gets its own image.
    """
    move_chat(bot_id, old_chat_id, new_chat_id)
    row = Subscription.get_or_none(Subscription.id == subscription_id)
    return row is not None and row.chat_id == new_chat_id


def renew_leases(bot_id: int, now: dt.datetime, owner: str = OWNER) -> int:
    """Move the lease of owner's marks of bot_id on to SEND_LEASE from now; return how many."""
    return Subscription.update(sending_until=now + SEND_LEASE).where(
        (Subscription.bot_id == bot_id) & (Subscription.sending_owner == owner)
        & Subscription.sending_since.is_null(False)).execute()


def settle_interrupted(bot_id: int, accounted: Collection[int], now: dt.datetime) -> None:
    """Take bot_id's expired marks no send of this process accounts for as delivered (see daily).

    A mark whose lease runs on is left alone, whoever made it: its process may be sending.
    """
    for row in Subscription.lease_expired(bot_id, now):
        if row.id in accounted:
            continue
        logger.warning("The daily image to chat {} was on its way when the bot was killed "
                       "(marked by {}); counted as delivered", row.chat_id, row.sending_owner)
        try:
            day = row.sending_day or localtime.local_date(row.sending_since, row.zone)
        except ValueError as error:
            set_aside(row.id, str(error))
            continue
        _finish(row, day, delivered_on=day, delivered_at=row.sending_since)


def _finish(row: Subscription, day: dt.date, **values: object) -> None:
    """Clear the row's mark and tries; its next image is its time on the day after day.

    That time may have passed (a restart the morning after a send cut off at night): the row
    is then due at once, and the round gives it that day's image if it still may.
    """
    try:
        values["next_at"] = _next_image(row, day)
    except ValueError as error:
        values["set_aside"] = str(error)[:255]
    Subscription.update(attempts=0, updated_at=utcnow(), **UNMARKED, **values).where(
        Subscription.id == row.id).execute()


def _next_image(row: Subscription, day: dt.date) -> dt.datetime:
    """When the chat's image for the day after day is due; ValueError if it cannot be read."""
    time_of_day = localtime.parse_time(row.local_time)  # as it is now: /daily may change it
    return localtime.instant_of(day + ONE_DAY, time_of_day, row.zone)
