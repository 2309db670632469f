"""Daily subscriptions: /daily, /stop and /status as plain functions, and their rows.

The functions named like queries (`subscribe`, `unsubscribe`, ...) are synchronous peewee
calls meant for the database threads (`in_db_thread`, `read_in_db_thread` for reads); the
async ones answer a command and return the reply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import peewee

from cosmobot.clock import utcnow
from cosmobot.schedule import localtime
from cosmobot.storage.database import database, in_db_thread, read_in_db_thread
from cosmobot.storage.models import ShuffleBag, Subscription
from cosmobot.texts import text

DEFAULT_TIME = dt.time(9, 0)
# How a chat's next image is told: its local date and time, and the zone.
DATE_FORMAT = "%Y-%m-%d"


@dataclass(frozen=True)
class DailyRequest:
    """What /daily asked for: a time of day and a zone, or nothing (None, None)."""

    at: dt.time | None
    zone: str | None


def parse_daily(args: Sequence[str]) -> DailyRequest:
    """Read /daily's arguments: none, "HH:MM" or "HH:MM ZONE"; ValueError for anything else."""
    if not args:
        return DailyRequest(None, None)
    if len(args) > 2:
        raise ValueError("too many arguments")
    at = localtime.parse_time(args[0])
    return DailyRequest(at, localtime.parse_zone(args[1]) if len(args) == 2 else None)


def next_image_at(at: dt.time, zone: str, now: dt.datetime,
                  delivered_on: dt.date | None) -> dt.datetime:
    """Return when the chat's next image is due: at `at` local, after now, on a new day."""
    candidate = localtime.next_local(at, zone, now)
    # A chat that had today's image already waits for tomorrow's, whatever its new time.
    while delivered_on is not None and localtime.local_date(candidate, zone) <= delivered_on:
        candidate = localtime.next_local(at, zone, candidate)
    return candidate


# ---- rows (run these on the database thread) -------------------------------------------------


def subscribe(bot_id: int, chat_id: int, chat_type: str, language: str, at: dt.time, zone: str,
              now: dt.datetime) -> Subscription:
    """Subscribe the chat to bot_id's image, or change its time and zone; return its row."""
    with database.atomic():
        old = Subscription.of_chat(bot_id, chat_id)
        delivered_on = last_day_served(old, zone) if old else None
        values = {
            Subscription.chat_type: chat_type, Subscription.language: language,
            Subscription.local_time: localtime.format_time(at), Subscription.zone: zone,
            Subscription.active: True, Subscription.attempts: 0, Subscription.set_aside: None,
            Subscription.delivered_on: delivered_on,
            Subscription.next_at: next_image_at(at, zone, now, delivered_on),
            Subscription.updated_at: utcnow(),
        }
        row = {Subscription.bot_id: bot_id, Subscription.chat_id: chat_id, **values}
        Subscription.insert(row).on_conflict(
            conflict_target=[Subscription.bot_id, Subscription.chat_id], update=values).execute()
        return Subscription.of_chat(bot_id, chat_id)


def last_day_served(row: Subscription, zone: str) -> dt.date | None:
    """Return the last local day in zone on which the chat had its image."""
    if row.zone == zone or row.delivered_at is None:
        return row.delivered_on
    # A new zone: the day, there, of the instant the image came. Tokyo's 09:00 is still the
    # day before in Los Angeles, so that day (not the next) has had it.
    return localtime.local_date(row.delivered_at, zone)


def unsubscribe(bot_id: int, chat_id: int) -> bool:
    """Stop the chat's daily image from bot_id; False if it had none."""
    query = Subscription.update(active=False, updated_at=utcnow()).where(
        (Subscription.bot_id == bot_id) & (Subscription.chat_id == chat_id) & Subscription.active)
    return query.execute() > 0


def active_subscription(bot_id: int, chat_id: int) -> Subscription | None:
    """Return the chat's subscription to bot_id if it is active."""
    row = Subscription.of_chat(bot_id, chat_id)
    return row if row is not None and row.active else None


def move_chat(bot_id: int, old_chat_id: int, new_chat_id: int) -> bool:
    """Move the group's subscription to bot_id to the supergroup it became; False if none moved.

    The group's shuffle bag with bot_id (its round so far) moves too. If the supergroup
    somehow has a subscription (or a bag) of its own already, those are kept.
    """
    with database.atomic():
        try:
            with database.atomic():  # a savepoint: only the bag's move is undone if it fails
                ShuffleBag.update(chat_id=new_chat_id).where(
                    ShuffleBag.of_chat(bot_id, old_chat_id)).execute()
        except peewee.IntegrityError:
            pass  # the supergroup's own bag holds the key
        old = (Subscription.bot_id == bot_id) & (Subscription.chat_id == old_chat_id)
        if Subscription.of_chat(bot_id, new_chat_id) is not None:
            Subscription.delete().where(old).execute()
            return False
        query = Subscription.update(chat_id=new_chat_id, chat_type="supergroup",
                                    updated_at=utcnow())
        return query.where(old).execute() > 0


# ---- commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatContext:
    """Who asks, where, and what the bot needs to answer them."""

    bot_id: int  # the bot asked: a chat has a subscription to each bot it subscribed to
    chat_id: int
    chat_type: str
    language: str
    default_zone: str
    now: dt.datetime
    # Asks Telegram whether the sender may manage the chat; called only when it matters.
    may_manage: Callable[[], Awaitable[bool]]


async def daily(chat: ChatContext, args: Sequence[str]) -> str:
    """Answer /daily: subscribe or change the time, or say what the chat is subscribed to."""
    try:
        request = parse_daily(args)
    except ValueError:
        return text(chat.language, "daily_usage")
    current = await read_in_db_thread(active_subscription, chat.bot_id, chat.chat_id)
    if current is not None and request.at is None:
        return describe(current, chat.language, chat.now, "daily_status")
    if not await chat.may_manage():
        return text(chat.language, "admins_only")
    at = request.at or DEFAULT_TIME
    zone = request.zone or (current.zone if current else chat.default_zone)
    if request.zone is None and current is not None and localtime.unreadable_zone(zone):
        return describe(current, chat.language, chat.now, "daily_status")  # asks for a zone
    row = await in_db_thread(subscribe, chat.bot_id, chat.chat_id, chat.chat_type, chat.language,
                             at, zone, chat.now)
    return describe(row, chat.language, chat.now, "daily_subscribed")


async def stop(chat: ChatContext) -> str:
    """Answer /stop: unsubscribe the chat."""
    if await read_in_db_thread(active_subscription, chat.bot_id, chat.chat_id) is None:
        return text(chat.language, "daily_not_subscribed", zone=chat.default_zone)
    if not await chat.may_manage():
        return text(chat.language, "admins_only")
    await in_db_thread(unsubscribe, chat.bot_id, chat.chat_id)
    return text(chat.language, "daily_stopped")


async def status(chat: ChatContext) -> str:
    """Answer /status: the chat's subscription and when its next image comes."""
    current = await read_in_db_thread(active_subscription, chat.bot_id, chat.chat_id)
    if current is None:
        return text(chat.language, "daily_not_subscribed", zone=chat.default_zone)
    return describe(current, chat.language, chat.now, "daily_status")


def describe(row: Subscription, language: str, now: dt.datetime, key: str) -> str:
    """Return the text `key` about a subscription: its time, zone and next image.

    A row the round set aside, or cannot serve, gets what to do instead.
    """
    if row.set_aside or localtime.unreadable(row.local_time, row.zone):
        return text(language, "daily_set_aside", time=row.local_time, zone=row.zone)
    due = max(row.next_at, now)  # a chat due now gets its image in this round or the next
    local = localtime.to_local(due, row.zone)
    return text(language, key, time=row.local_time, zone=row.zone,
                date=local.strftime(DATE_FORMAT), next_time=local.strftime("%H:%M"))
