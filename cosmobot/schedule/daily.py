"""The daily round: send the day's image to every subscriber whose time has come.

The database drives it: each round reads the due subscriptions in small batches, oldest
first, so 100,000 subscribers never sit in memory at once.

Exactly once per chat and local day, across restarts. Before a chat's send the row is marked
(`sending_since`), and after it the outcome is recorded and the mark cleared. A stopping bot
takes no new chats, lets the sends in flight finish and records them, so a SIGTERM loses and
repeats nothing; the next start goes on with the rest of the round.

The one ambiguous case is a process killed outright (SIGKILL, power loss) while a send is in
flight: whether Telegram got it is unknown. A row found still marked is taken as delivered
(at most once): the send had left, and usually arrived; a second picture in a group is a
visible fault, a missed one a small loss; and a bot that crashes in a loop must not send the
same chats a picture on every restart. `retry.with_retries` makes the same choice for a read
timeout. The log names each such chat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from loguru import logger
from peewee import fn
from telegram import Bot
from telegram.error import ChatMigrated, TelegramError

from cosmobot.bot import ratelimit
from cosmobot.bot.delivery import deliver_cosmic
from cosmobot.bot.retry import chat_is_gone
from cosmobot.schedule import localtime
from cosmobot.schedule.subscriptions import move_chat, next_image_at
from cosmobot.storage.database import database, in_db_thread
from cosmobot.clock import utcnow
from cosmobot.storage.models import Subscription

# Subscriptions read from the database at a time.
BATCH_SIZE = 200
# Sends in flight at once; the rate limiter paces them to Telegram's limits.
MAX_IN_FLIGHT = 30
# Tries at one day's image before the chat waits for the next day.
MAX_ATTEMPTS = 3
# How long after a failed try the chat is due again (a later round).
RETRY_DELAY = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class DayFigures:
    """What /stats says of the subscriptions today."""

    active: int
    inactive: int
    done: int  # chats that had today's image, in their own local day
    due: int
    failed: int  # failed tries today (UTC) since the bot started
    next_round_at: dt.datetime | None


# Failed tries by UTC date, since start: only today's is kept.
_failures: dict[dt.date, int] = {}
# When the repeating job runs the next round (set by the job).
next_round_at: dt.datetime | None = None


@dataclass
class RoundReport:
    """What one round did."""

    delivered: int = 0
    deactivated: int = 0
    failed: int = 0
    skipped: int = 0  # a day missed while the bot was down, or a day's image already had
    still_due: int = 0

    def __str__(self) -> str:
        return (f"{self.delivered} delivered, {self.deactivated} deactivated, "
                f"{self.failed} failed, {self.skipped} skipped, {self.still_due} still due")


async def deliver_due(bot: Bot, now: dt.datetime,
                      stopping: Callable[[], bool] = lambda: False) -> RoundReport:
    """Send today's image to every subscriber due at now (naive UTC); stop early if stopping()."""
    report = RoundReport()
    await in_db_thread(settle_interrupted, now)
    slots = asyncio.Semaphore(MAX_IN_FLIGHT)
    sends: set[asyncio.Task] = set()

    def finished(task: asyncio.Task) -> None:
        sends.discard(task)
        slots.release()

    try:
        while not stopping() and (batch := await in_db_thread(due_batch, now)):
            for row in batch:
                await slots.acquire()
                task = None if stopping() else await _start(bot, row, now, report)
                if task is None:
                    slots.release()
                    continue
                sends.add(task)
                task.add_done_callback(finished)
    finally:
        # However the round ends, the sends in flight finish and are recorded.
        await asyncio.gather(*sends, return_exceptions=True)
    report.still_due = await in_db_thread(count_due, now)
    return report


async def _start(bot: Bot, row: Subscription, now: dt.datetime,
                 report: RoundReport) -> asyncio.Task | None:
    """Start the chat's send, or settle a chat with nothing to send today; the task or None."""
    today = localtime.local_date(now, row.zone)
    todays_time = localtime.instant_of(today, localtime.parse_time(row.local_time), row.zone)
    # Only today's image, once its time has come: a bot down for a week sends one, not seven.
    if todays_time > now or row.delivered_on == today:
        await in_db_thread(finish_day, row.id, now, False)
        report.skipped += 1
        return None
    if not await in_db_thread(claim, row.id, now):
        return None  # stopped or changed since it was read
    return asyncio.create_task(_send(bot, row, now, report))


async def _send(bot: Bot, row: Subscription, now: dt.datetime, report: RoundReport) -> None:
    """Send the chat its image and record the outcome."""
    try:
        try:
            await deliver_cosmic(bot, row.chat_id, row.language, **ratelimit.bulk_options(bot))
        except ChatMigrated as migrated:
            if not await _follow_migration(row.chat_id, migrated.new_chat_id):
                return
            await deliver_cosmic(bot, migrated.new_chat_id, row.language,
                                 **ratelimit.bulk_options(bot))
    except TelegramError as error:
        if chat_is_gone(error):
            logger.info("Chat {} is gone ({}); its daily image stops", row.chat_id, error)
            await in_db_thread(deactivate, row.id)
            report.deactivated += 1
            return
        await _failed(row, now, report, error)
        return
    except Exception as error:  # a broken image, a database fault: retried all the same
        await _failed(row, now, report, error)
        return
    await in_db_thread(finish_day, row.id, now, True)
    report.delivered += 1


async def _follow_migration(old_chat_id: int, new_chat_id: int) -> bool:
    logger.info("Group {} is now supergroup {}; its subscription moves", old_chat_id, new_chat_id)
    return await in_db_thread(move_chat, old_chat_id, new_chat_id)


async def _failed(row: Subscription, now: dt.datetime, report: RoundReport,
                  error: Exception) -> None:
    report.failed += 1
    count = _failures.get(now.date(), 0) + 1
    _failures.clear()
    _failures[now.date()] = count
    attempts = await in_db_thread(record_failure, row.id, now)
    if attempts >= MAX_ATTEMPTS:
        logger.opt(exception=error).error(
            "Daily image to chat {} failed {} times; trying again tomorrow", row.chat_id, attempts)
    else:
        logger.warning("Daily image to chat {} failed ({}: {}); trying again in a later round",
                       row.chat_id, type(error).__name__, error)


async def run_round(bot: Bot, stopping: Callable[[], bool] = lambda: False) -> RoundReport | None:
    """Run a round now unless one is running; None if one was."""
    if _round_lock.locked():
        return None
    async with _round_lock:
        report = await deliver_due(bot, utcnow(), stopping)
    if report.delivered or report.deactivated or report.failed:
        logger.info("Daily round: {}", report)
    return report


_round_lock = asyncio.Lock()


# ---- rows (these run on the database thread) ----------------------------------------------


def due_batch(now: dt.datetime) -> list[Subscription]:
    """Return the next batch of due subscriptions."""
    return list(Subscription.due(now, BATCH_SIZE))


def count_due(now: dt.datetime) -> int:
    """Return how many active subscriptions are due at now."""
    return Subscription.select().where(Subscription.active & (Subscription.next_at <= now)).count()


def day_figures(now: dt.datetime) -> DayFigures:
    """Return today's figures; one grouped query per count, whatever the number of chats."""
    active = dict(Subscription.select(Subscription.active, fn.COUNT(Subscription.id))
                  .group_by(Subscription.active).tuples())
    # Chats in one zone share a local date: group by zone, not by chat.
    recent = (Subscription.select(Subscription.zone, Subscription.delivered_on,
                                  fn.COUNT(Subscription.id))
              .where(Subscription.active
                     & (Subscription.delivered_on >= now.date() - dt.timedelta(days=1)))
              .group_by(Subscription.zone, Subscription.delivered_on).tuples())
    done = sum(count for zone, day, count in recent if day == localtime.local_date(now, zone))
    return DayFigures(
        active=active.get(True, 0), inactive=active.get(False, 0), done=done,
        due=count_due(now), failed=_failures.get(now.date(), 0), next_round_at=next_round_at,
    )


def claim(subscription_id: int, now: dt.datetime) -> bool:
    """Mark the subscription's image as on its way; False if it is not free to send."""
    query = Subscription.update(sending_since=now).where(
        (Subscription.id == subscription_id) & Subscription.active
        & Subscription.sending_since.is_null())
    return query.execute() > 0


def finish_day(subscription_id: int, now: dt.datetime, done_today: bool) -> None:
    """Schedule the chat's next image; done_today: it had today's."""
    row = Subscription.get_or_none(Subscription.id == subscription_id)
    if row is None:
        return
    done_on = localtime.local_date(now, row.zone) if done_today else row.delivered_on
    _schedule_next(row, now, skip_through=done_on, delivered_on=done_on)


def _schedule_next(row: Subscription, now: dt.datetime, skip_through: dt.date | None,
                   delivered_on: dt.date | None) -> None:
    """Set the chat's next image to its time after now, on a day after skip_through."""
    at = localtime.parse_time(row.local_time)  # as it is now: /daily may have changed it
    Subscription.update(
        next_at=next_image_at(at, row.zone, now, skip_through), delivered_on=delivered_on,
        attempts=0, sending_since=None, updated_at=utcnow(),
    ).where(Subscription.id == row.id).execute()


def record_failure(subscription_id: int, now: dt.datetime) -> int:
    """Count a failed try; due again after RETRY_DELAY, or tomorrow after the last one."""
    with database.atomic():
        row = Subscription.get_or_none(Subscription.id == subscription_id)
        if row is None:
            return MAX_ATTEMPTS
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            # Today is given up on: the next try is tomorrow, and nothing was delivered.
            today = localtime.local_date(now, row.zone)
            _schedule_next(row, now, skip_through=today, delivered_on=row.delivered_on)
            return attempts
        Subscription.update(attempts=attempts, next_at=now + RETRY_DELAY, sending_since=None,
                            updated_at=utcnow()).where(Subscription.id == subscription_id).execute()
        return attempts


def deactivate(subscription_id: int) -> None:
    """Stop a subscription whose chat the bot can no longer write to."""
    Subscription.update(active=False, sending_since=None, updated_at=utcnow()).where(
        Subscription.id == subscription_id).execute()


def settle_interrupted(now: dt.datetime) -> None:
    """Take the sends a killed process left in flight as delivered (see the module note)."""
    for row in Subscription.in_flight():
        logger.warning("The daily image to chat {} was on its way when the bot was killed; "
                       "counted as delivered", row.chat_id)
        done_on = localtime.local_date(row.sending_since, row.zone)
        _schedule_next(row, now, skip_through=done_on, delivered_on=done_on)
