"""The daily round: send the day's image to every subscriber whose time has come.

The database drives it: each round reads the due subscriptions in small batches, oldest
first, so 100,000 subscribers never sit in memory at once. A round may take longer than the
interval between rounds (100,000 chats take about an hour at Telegram's pace); no second
round starts meanwhile, and each chat is judged at the moment the round reaches it.

Which day's image. A chat's image for its local day D may go out from its time on D until
three hours after the midnight that ends D (LATE_GRACE), and never once D+1's time has come:
a chat reached after midnight only because the round had many chats before it still gets D's
image, recorded as D's, and D+1's comes at its time. A bot that was down sends one image, for
the latest day whose time has come, and only within those bounds: a week down sends one, not
seven; down from 09:00 until 08:00 the next morning, the chat waits for that day's 09:00.
Never two images for one day: the chat's `delivered_on` is the last day that had one.

Once per chat and day, across restarts. Before a chat's send the row is marked
(`sending_since`, with this process as its owner and the day), and after it the outcome is
recorded (with retries, see `outcomes`) and the mark cleared. A stopping bot takes no new
chats, lets the sends in flight finish and records them, so a SIGTERM loses and repeats
nothing; the next start goes on with the rest of the round.

The one ambiguous case is a process killed outright (SIGKILL, power loss) while a send is in
flight: whether Telegram got it is unknown. A mark carries a lease (`sending_until`), which
its process renews while its round runs, however long a send takes: once it has expired, a
mark that no send of this live process accounts for is taken as delivered (at most once), by
whichever process runs the round (the leader: a new one settles a dead leader's marks in its
first rounds after their lease ran out); until then it is left alone, for its process may
still be sending. The send had left, and usually arrived; a second picture in a group is a
visible fault, a missed one a small loss; and a bot that crashes in a loop must not send the
same chats a picture on every restart. `retry.with_retries` makes the same choice for a read
timeout. The log names each such chat. The next image is that day's next one, even if its
time passed while the bot was down.

While the database cannot be reached the round pauses: it takes no new chat, the sends on
their way finish and keep their outcomes in memory (see `outcomes`), and the next round after
the database is back records them first, then goes on.

A row the round cannot serve (a zone the tzdata package no longer has, a time that cannot be
read) is set aside with the reason, logged once, and left out of later rounds until the chat
sends /daily again; every other chat is served.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import peewee
from loguru import logger
from telegram import Bot
from telegram.error import ChatMigrated, TelegramError

from cosmobot.botapi import ratelimit
from cosmobot.botapi.retry import chat_is_gone
from cosmobot.clock import utcnow
from cosmobot.delivery import deliver_cosmic
from cosmobot.schedule import daybook, outcomes
from cosmobot.schedule.outcomes import Outcome, Result
from cosmobot.storage import writes
from cosmobot.storage.database import in_db_thread, read_in_db_thread
from cosmobot.storage.models import Subscription
from cosmobot.storage.outage import is_unreachable

# Sends in flight at once; the rate limiter paces them to Telegram's limits.
MAX_IN_FLIGHT = 30
# Chats claimed together, in one statement, once that many sends have finished: the others
# in flight keep the pace meanwhile.
CLAIM_GROUP = 5
# Background writes (each send's "seen" record) on their way past which the round claims no
# more chats: where the database writes slower than the bot sends (a raised limit, a slow
# disk), they would pile up in memory, and every user's /cosmic would wait behind them.
MAX_WRITES_BEHIND = 2 * MAX_IN_FLIGHT
WRITES_POLL_SECONDS = 0.02
MAX_ATTEMPTS = daybook.MAX_ATTEMPTS

# Each bot's failed tries on one UTC date, since start: only the latest date is kept.
_failures: dict[int, tuple[dt.date, int]] = {}
# When the repeating job runs the next round (set by the job).
next_round_at: dt.datetime | None = None
# The subscriptions whose image this process is sending right now.
_sending: set[int] = set()


@dataclass
class RoundReport:
    """What one round did."""

    delivered: int = 0
    deactivated: int = 0
    failed: int = 0
    skipped: int = 0  # a day missed while the bot was down, or a day's image already had
    set_aside: int = 0  # rows whose zone or time cannot be read
    still_due: int = 0

    def __str__(self) -> str:
        return (f"{self.delivered} delivered, {self.deactivated} deactivated, "
                f"{self.failed} failed, {self.skipped} skipped, {self.set_aside} set aside, "
                f"{self.still_due} still due")


async def deliver_due(bot: Bot, now: dt.datetime,
                      stopping: Callable[[], bool] = lambda: False) -> RoundReport:
    """Send today's image to bot's subscribers due at now (naive UTC); stop early if stopping()."""
    report = RoundReport()
    clock = _round_clock(now)
    await outcomes.record_kept()  # before anything else: they may free chats for this round
    await in_db_thread(daybook.settle_interrupted, bot.id, _sending | outcomes.unrecorded(),
                       clock())
    sends: set[asyncio.Task] = set()
    freed = asyncio.Event()
    deliveries = outcomes.Deliveries()
    renewing = asyncio.create_task(_renew_leases(bot.id, clock))

    def finished(task: asyncio.Task) -> None:
        sends.discard(task)
        freed.set()

    try:
        while not stopping() and (
                batch := await read_in_db_thread(daybook.due_batch, bot.id, clock())):
            rows = list(batch)
            while rows:
                room = await _room_for_sends(sends, freed, stopping)
                if stopping():
                    break
                group, rows = rows[:room], rows[room:]
                for task in await _start(bot, group, Tally(report, clock, deliveries)):
                    sends.add(task)
                    task.add_done_callback(finished)
    finally:
        # However the round ends, the sends in flight finish and are recorded.
        await asyncio.gather(*sends, return_exceptions=True)
        renewing.cancel()
    report.still_due = await read_in_db_thread(daybook.count_due, bot.id, clock())
    return report


async def _renew_leases(bot_id: int, clock: Callable[[], dt.datetime]) -> None:
    """Keep this process's marks leased while the round runs: it is alive, they are its."""
    while True:
        await asyncio.sleep(daybook.LEASE_RENEW_SECONDS)
        try:
            await in_db_thread(daybook.renew_leases, bot_id, clock())
        except peewee.PeeweeException as error:
            # Away or slow: the lease runs on a while yet, and the next renewal tries again.
            logger.debug("Could not renew the daily round's leases: {}", error)


def _round_clock(start: dt.datetime) -> Callable[[], dt.datetime]:
    """Return a clock that starts at `start` and runs on with the round."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    return lambda: start + dt.timedelta(seconds=loop.time() - began)


async def _room_for_sends(sends: set[asyncio.Task], freed: asyncio.Event,
                          stopping: Callable[[], bool] = lambda: False) -> int:
    """Wait until CLAIM_GROUP more sends may start (or none is in flight), and the background
    writes are not far behind (or stopping()); return how many sends may start."""
    while len(sends) > MAX_IN_FLIGHT - min(CLAIM_GROUP, MAX_IN_FLIGHT):
        freed.clear()
        await freed.wait()
    while writes.on_their_way() > MAX_WRITES_BEHIND and not stopping():
        await asyncio.sleep(WRITES_POLL_SECONDS)
    return MAX_IN_FLIGHT - len(sends)


async def _start(bot: Bot, rows: list[Subscription], tally: Tally) -> list[asyncio.Task]:
    """Start the sends of the chats with an image due now, settling the others; their tasks."""
    at = tally.clock()
    due: dict[dt.date, list[Subscription]] = {}
    for row in rows:
        day = await _served_day(row, at, tally.report)
        if day is not None:
            due.setdefault(day, []).append(row)
    tasks = []
    for day, chats in due.items():
        claimed = await in_db_thread(daybook.claim_many, [row.id for row in chats], at, day)
        # Not claimed: another round has it, or it stopped since it was read.
        tasks += [_start_send(bot, row, day, tally) for row in chats if row.id in claimed]
    return tasks


async def _served_day(row: Subscription, at: dt.datetime, report: RoundReport) -> dt.date | None:
    """The day whose image the chat gets now; None, once settled, if it gets none."""
    try:
        day = daybook.served_day(row, at)
    except ValueError as error:
        logger.error("The daily image to chat {} is set aside: {} ({} {}); it comes again "
                     "after /daily HH:MM ZONE", row.chat_id, error, row.local_time, row.zone)
        await in_db_thread(daybook.set_aside, row.id, str(error))
        report.set_aside += 1
        return None
    if day is None:
        await in_db_thread(daybook.wait_for_next, row.id, at)
        report.skipped += 1
    return day


def _start_send(bot: Bot, row: Subscription, day: dt.date, tally: Tally) -> asyncio.Task:
    _sending.add(row.id)
    task = asyncio.create_task(_send(bot, row, day, tally))
    task.add_done_callback(lambda _: _sending.discard(row.id))
    return task


@dataclass(frozen=True)
class Tally:
    """Where a send counts its outcome, the round's clock it reads the time from, and where
    it records a delivery."""

    report: RoundReport
    clock: Callable[[], dt.datetime]
    deliveries: outcomes.Deliveries

    def outcome(self, row: Subscription, day: dt.date, result: Result) -> Outcome:
        return Outcome(row.id, row.chat_id, day, row.zone, self.clock(), result)


async def _send(bot: Bot, row: Subscription, day: dt.date, tally: Tally) -> None:
    """Send the chat day's image and record the outcome."""
    try:
        if not await _deliver(bot, row):
            return
    except Exception as error:
        if isinstance(error, TelegramError) and chat_is_gone(error):
            logger.info("Chat {} is gone ({}); its daily image stops", row.chat_id, error)
            await outcomes.record(tally.outcome(row, day, Result.GONE))
            tally.report.deactivated += 1
            return
        # A broken image or a database fault too: retried all the same.
        await _failed(row, day, tally, error)
        return
    await tally.deliveries.record(tally.outcome(row, day, Result.DELIVERED))
    tally.report.delivered += 1


async def _deliver(bot: Bot, row: Subscription) -> bool:
    """Send the chat its image, there or in the supergroup it became; False if it had none."""
    try:
        await deliver_cosmic(bot, row.chat_id, row.language, **ratelimit.bulk_options(bot))
        return True
    except ChatMigrated as migrated:
        new_chat_id = migrated.new_chat_id
    logger.info("Group {} is now supergroup {}; its subscription moves", row.chat_id, new_chat_id)
    # The migration update may have moved the row already; either way, it is read again.
    if not await in_db_thread(daybook.follow_migration, row.bot_id, row.id, row.chat_id,
                              new_chat_id):
        logger.info("Supergroup {} has a daily image of its own; the group's is dropped",
                    new_chat_id)
        return False
    await deliver_cosmic(bot, new_chat_id, row.language, **ratelimit.bulk_options(bot))
    return True


async def _failed(row: Subscription, day: dt.date, tally: Tally, error: Exception) -> None:
    tally.report.failed += 1
    outcome = tally.outcome(row, day, Result.FAILED)
    today = outcome.at.date()
    date, count = _failures.get(row.bot_id, (today, 0))
    _failures[row.bot_id] = (today, count + 1 if date == today else 1)
    attempts = await outcomes.record(outcome)
    if attempts is not None and attempts >= MAX_ATTEMPTS:
        logger.opt(exception=error).error(
            "Daily image to chat {} failed {} times; trying again tomorrow", row.chat_id, attempts)
    else:
        logger.warning("Daily image to chat {} failed ({}: {}); trying again in a later round",
                       row.chat_id, type(error).__name__, error)


async def run_round(bot: Bot, stopping: Callable[[], bool] = lambda: False) -> RoundReport | None:
    """Run a round now unless one is running or stopping() already; None if none ran (or the
    database is away)."""
    # A process that no longer leads must not even settle marks: they may be the leader's.
    if _round_lock.locked() or stopping():
        return None
    async with _round_lock:
        try:
            report = await deliver_due(bot, utcnow(), stopping)
        except peewee.PeeweeException as error:
            if not is_unreachable(error):
                raise
            # The outage is logged once, as it starts; the next round after it goes on.
            logger.debug("The daily round pauses: {}", error)
            return None
    if report.delivered or report.deactivated or report.failed or report.set_aside:
        logger.info("Daily round: {}", report)
    return report


_round_lock = asyncio.Lock()
# How often wait_for_round looks whether the round has ended.
ROUND_END_POLL_SECONDS = 0.05


async def wait_for_round() -> None:
    """Return once no round is running (tell it to stop first, or this waits for its end)."""
    # Polled, not awaited: a lock awaited in one event loop cannot be awaited in another.
    while _round_lock.locked():
        await asyncio.sleep(ROUND_END_POLL_SECONDS)


@dataclass(frozen=True)
class DayFigures:
    """What /stats says of the subscriptions today."""

    active: int
    inactive: int
    set_aside: int  # active, but with a zone or time that cannot be read
    done: int  # chats that had today's image, in their own local day
    due: int
    failed: int  # failed tries today (UTC) since the bot started
    next_round_at: dt.datetime | None


def day_figures(bot_id: int, now: dt.datetime) -> DayFigures:
    """Return bot_id's figures today (on the database thread); a few grouped queries."""
    counts = daybook.subscriber_counts(bot_id)
    date, failed = _failures.get(bot_id, (None, 0))
    return DayFigures(
        active=counts.active, inactive=counts.inactive, set_aside=counts.set_aside,
        done=daybook.count_done(bot_id, now), due=daybook.count_due(bot_id, now),
        failed=failed if date == now.date() else 0, next_round_at=next_round_at,
    )
