"""deliver_due with an injected clock, against the fake Bot API through a real telegram.Bot."""

from __future__ import annotations

import asyncio
import datetime as dt

import peewee
import pytest
import pytest_asyncio
from telegram import Bot
from telegram.ext import BaseRateLimiter, ExtBot

from cosmobot.botapi import ratelimit
from cosmobot.delivery import deliver_cosmic
from cosmobot.schedule import daily, daybook, localtime, outcomes, subscriptions
from cosmobot.schedule.subscriptions import subscribe
from cosmobot.storage import writes
from cosmobot.storage.bagrows import seen_keys
from cosmobot.storage.models import Subscription
from cosmobot.storage.process import OWNER
from tests.factories import BOT_ID, TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

DAY = dt.datetime(2026, 6, 1)
NINE = dt.time(9, 0)
DEAD_PROCESS = "4242-0123456789ab"


@pytest.fixture(autouse=True)
def _no_outcomes_left_over(monkeypatch):
    """Outcomes a test kept in memory stay with that test (and its database)."""
    monkeypatch.setattr(outcomes, "_unrecorded", {})
    monkeypatch.setattr(daily, "_sending", set())


@pytest_asyncio.fixture
async def bot(fake_api):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        yield bot


def subscribed(chat_id: int, at: dt.time = NINE, zone: str = "UTC",
               since: dt.datetime = DAY, chat_type: str = "private") -> None:
    subscribe(BOT_ID, chat_id, chat_type, "en", at, zone, since)


def photo_count(fake_api, chat_id: int) -> int:
    return len([m for m in fake_api.sent_to(chat_id) if "photo" in m])


def row(chat_id: int) -> Subscription:
    return Subscription.get(Subscription.chat_id == chat_id)


def chat(chat_id: int, now: dt.datetime) -> subscriptions.ChatContext:
    """A private chat asking at now."""
    async def may_manage() -> bool:
        return True

    return subscriptions.ChatContext(BOT_ID, chat_id, "private", "en", "UTC", now, may_manage)


def unreadable_row(chat_id: int, zone: str = "Mars/Olympus_Mons", **values) -> Subscription:
    """A subscription written before its zone became unknown (a host upgrade, say)."""
    fields = {"chat_type": "private", "language": "en", "local_time": "08:00",
              "next_at": DAY.replace(hour=8), **values}
    return Subscription.create(bot_id=BOT_ID, chat_id=chat_id, zone=zone, **fields)


async def rounds(bot, start: dt.datetime, hours: int, every=dt.timedelta(minutes=20)) -> None:
    """Run a round every 20 minutes for `hours` from start."""
    now = start
    while now < start + dt.timedelta(hours=hours):
        await daily.deliver_due(bot, now)
        now += every


async def test_only_chats_whose_time_has_come_get_an_image(memory_db, library, bot, fake_api):
    subscribed(1)  # 09:00 UTC
    subscribed(2, dt.time(10, 0))  # 10:00 UTC
    subscribed(3, zone="Europe/Moscow")  # 06:00 UTC
    subscribed(4, dt.time(9, 30), zone="-04:00")  # 13:30 UTC
    report = await daily.deliver_due(bot, DAY.replace(hour=9, second=30))
    assert [photo_count(fake_api, chat) for chat in (1, 2, 3, 4)] == [1, 0, 1, 0]
    assert (report.delivered, report.failed, report.still_due) == (2, 0, 0)
    assert row(1).next_at == dt.datetime(2026, 6, 2, 9, 0)
    assert row(1).delivered_on == dt.date(2026, 6, 1)


async def test_one_image_per_chat_and_local_day(db, library, bot, fake_api):
    subscribed(1)
    subscribed(2, dt.time(23, 30), zone="Asia/Tokyo")  # 14:30 UTC
    for minutes in range(0, 3 * 24 * 60, 20):  # a round every 20 minutes for three days
        await daily.deliver_due(bot, DAY + dt.timedelta(minutes=minutes, seconds=10))
    assert (photo_count(fake_api, 1), photo_count(fake_api, 2)) == (3, 3)


@pytest.mark.parametrize(("zone", "first_day"), [
    ("Europe/Berlin", dt.datetime(2026, 3, 27)),  # clocks go forward on 29 March
    ("America/New_York", dt.datetime(2026, 10, 30)),  # clocks go back on 1 November
])
async def test_daylight_saving_changes_shift_nothing(memory_db, library, bot, fake_api,
                                                     zone, first_day):
    subscribed(1, zone=zone, since=first_day)
    sent_at = []
    for minutes in range(0, 5 * 24 * 60, 10):
        now = first_day + dt.timedelta(minutes=minutes)
        before = photo_count(fake_api, 1)
        await daily.deliver_due(bot, now)
        if photo_count(fake_api, 1) > before:
            sent_at.append(localtime.to_local(now, zone))
    assert [(at.hour, at.minute) for at in sent_at] == [(9, 0)] * 5
    assert len({at.utcoffset() for at in sent_at}) == 2  # the change did happen in between


async def test_a_bot_down_for_a_week_sends_one_image_on_start(memory_db, library, bot, fake_api):
    subscribed(1)  # due on 1 June at 09:00; the bot is down until 8 June, 12:00
    report = await daily.deliver_due(bot, dt.datetime(2026, 6, 8, 12, 0))
    assert photo_count(fake_api, 1) == 1 and report.delivered == 1
    await daily.deliver_due(bot, dt.datetime(2026, 6, 8, 12, 30))
    assert photo_count(fake_api, 1) == 1
    assert row(1).next_at == dt.datetime(2026, 6, 9, 9, 0)


async def test_a_bot_back_before_the_time_waits_for_it(memory_db, library, bot, fake_api):
    subscribed(1)  # due on 1 June at 09:00; the bot is down until 3 June, 08:00
    report = await daily.deliver_due(bot, dt.datetime(2026, 6, 3, 8, 0))
    assert photo_count(fake_api, 1) == 0 and report.skipped == 1
    assert row(1).next_at == dt.datetime(2026, 6, 3, 9, 0)
    await daily.deliver_due(bot, dt.datetime(2026, 6, 3, 9, 0, 5))
    assert photo_count(fake_api, 1) == 1


async def test_a_round_stopped_midway_resumes_after_restart(db, library, bot, fake_api):
    chats = range(1, 121)
    for chat in chats:
        subscribed(chat)
    now = DAY.replace(hour=9, minute=1)
    fake_api.latency = 0.01

    def stopping() -> bool:  # a stop signal arrives once 40 images are out
        return len(fake_api.calls("sendPhoto")) >= 40

    first = await daily.deliver_due(bot, now, stopping)
    assert 40 <= first.delivered < len(chats) and first.still_due == len(chats) - first.delivered
    assert not Subscription.in_flight(BOT_ID).exists()  # everything in flight was recorded
    second = await daily.deliver_due(bot, now + dt.timedelta(seconds=30))
    assert first.delivered + second.delivered == len(chats)
    assert [photo_count(fake_api, chat) for chat in chats] == [1] * len(chats)


async def test_a_send_cut_off_by_a_kill_counts_as_delivered_once_its_lease_ends(
        memory_db, library, bot, fake_api, log_lines):
    subscribed(1)
    subscribed(2)
    now = DAY.replace(hour=9, minute=1)
    # Another process marked this send: it may have died, or may be sending still.
    assert daybook.claim(row(1).id, now, DAY.date(), owner=DEAD_PROCESS)
    report = await daily.deliver_due(bot, now + daybook.SEND_LEASE - dt.timedelta(seconds=1))
    assert (photo_count(fake_api, 1), photo_count(fake_api, 2)) == (0, 1)
    assert report.delivered == 1
    assert (row(1).sending_owner, row(1).delivered_on) == (DEAD_PROCESS, None)  # left alone
    assert not any("was killed" in line for line in log_lines)
    # Its lease is over: its process died (or lost the round), and the send counts as made.
    report = await daily.deliver_due(bot, now + daybook.SEND_LEASE + dt.timedelta(seconds=1))
    assert (photo_count(fake_api, 1), report.delivered) == (0, 0)
    assert row(1).delivered_on == dt.date(2026, 6, 1) and row(1).sending_since is None
    assert row(1).sending_until is None
    assert any("was on its way when the bot was killed" in line for line in log_lines)


async def test_a_live_process_keeps_its_marks_leased_however_long_its_send_takes(
        memory_db, library, bot, fake_api, monkeypatch):
    monkeypatch.setattr(daybook, "SEND_LEASE", dt.timedelta(seconds=0.6))
    monkeypatch.setattr(daybook, "LEASE_RENEW_SECONDS", 0.1)
    subscribed(1)
    now = DAY.replace(hour=9, minute=1)
    fake_api.latency = 1.5  # a send far longer than the lease: a 429's wait, an upload
    sending = asyncio.ensure_future(daily.deliver_due(bot, now))
    await fake_api.await_until(lambda: row(1).sending_since is not None)
    await asyncio.sleep(1.0)  # the lease it was marked with has run out by now
    # Another process's round (the next leader's, say) looks at the mark meanwhile.
    daybook.settle_interrupted(BOT_ID, set(), now + dt.timedelta(seconds=1.0))
    assert row(1).sending_owner == OWNER and row(1).sending_until > now + daybook.SEND_LEASE
    report = await sending
    assert report.delivered == 1 and photo_count(fake_api, 1) == 1
    assert row(1).sending_since is None and row(1).sending_until is None


async def test_renewing_leases_moves_only_this_processes_marks(memory_db):
    subscribed(1)
    subscribed(2)
    now = DAY.replace(hour=9, minute=1)
    assert daybook.claim(row(1).id, now, DAY.date())
    assert daybook.claim(row(2).id, now, DAY.date(), owner=DEAD_PROCESS)
    later = now + dt.timedelta(minutes=5)
    assert daybook.renew_leases(BOT_ID, later) == 1
    assert row(1).sending_until == later + daybook.SEND_LEASE
    assert row(2).sending_until == now + daybook.SEND_LEASE  # a dead process's lease runs out


async def test_blocked_and_vanished_chats_are_deactivated(memory_db, library, bot, fake_api):
    fake_api.strict_chats = True
    for chat in (1, 2, 3):
        subscribed(chat)
    fake_api.add_chat(1)
    fake_api.add_chat(2)
    fake_api.block(2)  # 403; chat 3 is unknown to Telegram: 400 "chat not found"
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert (report.delivered, report.deactivated, report.failed) == (1, 2, 0)
    assert [row(chat).active for chat in (1, 2, 3)] == [True, False, False]
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 9, 1))
    sends = [c.params["chat_id"] for c in fake_api.calls("sendPhoto")]
    assert sorted(sends[:3]) == [1, 2, 3] and sends[3:] == [1]  # the gone ones are left alone


async def test_a_flood_limit_is_waited_out(memory_db, library, bot, fake_api):
    subscribed(1)
    fake_api.fail_next("sendPhoto", status=429, retry_after=1)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert (report.delivered, report.failed) == (1, 0)
    assert [c.status for c in fake_api.calls("sendPhoto")] == [429, 200]


async def test_other_failures_are_retried_a_few_times_that_day(memory_db, library, bot, fake_api,
                                                               log_lines):
    subscribed(1)
    fake_api.fail_next("sendPhoto", status=400, times=daily.MAX_ATTEMPTS,
                       description="Bad Request: not enough rights to send photos")
    now = DAY.replace(hour=9, minute=1)
    failed = []
    for minutes in range(0, 30, 1):
        report = await daily.deliver_due(bot, now + dt.timedelta(minutes=minutes))
        failed.append(report.failed)
    assert sum(failed) == daily.MAX_ATTEMPTS
    assert len(fake_api.calls("sendPhoto")) == daily.MAX_ATTEMPTS
    assert any("trying again tomorrow" in line for line in log_lines)
    assert row(1).active and row(1).next_at == dt.datetime(2026, 6, 2, 9, 0)
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 9, 0, 30))
    assert photo_count(fake_api, 1) == 1


async def test_a_group_that_became_a_supergroup_gets_its_image_there(db, library, bot,
                                                                     fake_api):
    group, supergroup = -4000000001, -1004000000001
    fake_api.add_group(group, kind="group")
    subscribed(group, chat_type="group")
    seen = (await deliver_cosmic(bot, group, "en")) or ""
    fake_api.upgrade_group(group, supergroup)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 1 and photo_count(fake_api, supergroup) == 1
    await writes.settle()  # the supergroup's seen record is written in the background
    # The group's round through the collection goes on there: the other image, not a repeat.
    assert seen_keys(BOT_ID, supergroup) == set(library.cosmic_keys)
    assert fake_api.sent_to(supergroup)[0]["caption"] != fake_api.sent_to(group)[0]["caption"]
    assert seen in library.cosmic_keys
    moved = row(supergroup)
    assert (moved.chat_type, moved.delivered_on) == ("supergroup", dt.date(2026, 6, 1))
    assert not Subscription.select().where(Subscription.chat_id == group).exists()


async def test_a_new_time_after_todays_image_waits_for_tomorrow(memory_db, library, bot,
                                                                fake_api):
    subscribed(1)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    subscribed(1, dt.time(15, 0), since=DAY.replace(hour=10))  # /daily 15:00 at 10:00
    for hour in (15, 16, 23):
        await daily.deliver_due(bot, DAY.replace(hour=hour, minute=1))
    assert photo_count(fake_api, 1) == 1
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 15, 1))
    assert photo_count(fake_api, 1) == 2


class RecordingLimiter(BaseRateLimiter):
    """Lets every request through at once, noting the rate_limit_args of each."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        self.seen.append((endpoint, rate_limit_args))
        return await callback(*args, **kwargs)


async def test_daily_sends_go_in_the_bulk_lane(memory_db, library, fake_api):
    limiter = RecordingLimiter()
    async with ExtBot(TOKEN, base_url=fake_api.base_url, rate_limiter=limiter) as limited:
        subscribed(1)
        subscribed(2)
        await daily.deliver_due(limited, DAY.replace(hour=9, minute=1))
    sends = [args for endpoint, args in limiter.seen if endpoint == "sendPhoto"]
    assert sends == [ratelimit.BULK, ratelimit.BULK]


async def test_the_figures_of_the_day_for_stats(memory_db, library, bot, fake_api, monkeypatch):
    monkeypatch.setattr(daily, "_failures", {})
    subscribed(1)  # 09:00 UTC: delivered below
    subscribed(2, dt.time(23, 30), zone="Asia/Tokyo")  # 14:30 UTC: failing below
    subscribed(3, dt.time(15, 0))  # later today
    subscribed(4)
    fake_api.block(4)  # deactivated by the round
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=5))
    fake_api.fail_next("sendPhoto", status=400,
                       description="Bad Request: not enough rights to send photos")
    await daily.deliver_due(bot, DAY.replace(hour=14, minute=31))
    figures = daily.day_figures(BOT_ID, DAY.replace(hour=14, minute=32))
    assert (figures.active, figures.inactive) == (3, 1)
    assert (figures.done, figures.due, figures.failed) == (1, 0, 1)
    # Chat 2 is due again after its retry delay; chat 1's image was yesterday's by tomorrow.
    later = daily.day_figures(BOT_ID, DAY.replace(hour=14, minute=40))
    assert (later.done, later.due) == (1, 1)
    assert daily.day_figures(BOT_ID, dt.datetime(2026, 6, 2, 8, 0)).done == 0


# ---- one row that cannot be served ----------------------------------------------------------


async def test_a_zone_no_longer_known_is_set_aside_and_every_other_chat_is_served(
        memory_db, library, bot, fake_api, log_lines):
    chats = range(1, 251)  # more than a batch
    for chat_id in chats:
        subscribed(chat_id)
    unreadable_row(999)  # due an hour before the others: the first row of every round
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert (report.delivered, report.set_aside, report.still_due) == (250, 1, 0)
    assert [photo_count(fake_api, chat_id) for chat_id in chats] == [1] * 250
    assert photo_count(fake_api, 999) == 0
    assert row(999).set_aside == "unknown time zone: 'Mars/Olympus_Mons'"
    again = await daily.deliver_due(bot, DAY.replace(hour=9, minute=2))
    assert (again.set_aside, again.skipped, again.still_due) == (0, 0, 0)
    told = [line for line in log_lines if "chat 999" in line]
    assert len(told) == 1 and "set aside: unknown time zone" in told[0]  # once, with the reason


@pytest.mark.parametrize("local_time", ["9am", "25:00"])
async def test_a_time_that_cannot_be_read_is_set_aside_too(memory_db, library, bot, fake_api,
                                                           local_time):
    subscribed(1)
    unreadable_row(2, zone="UTC", local_time=local_time)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert (report.delivered, report.set_aside) == (1, 1)
    assert row(2).set_aside.startswith("not a time of day")


async def test_a_set_aside_chat_is_told_what_to_do_and_a_new_daily_mends_it(
        memory_db, library, bot, fake_api):
    unreadable_row(7)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    asking = chat(7, DAY.replace(hour=9, minute=5))
    status = await subscriptions.status(asking)
    assert status == ("This chat's daily image is paused: its time (08:00) or time zone "
                      "(Mars/Olympus_Mons) can no longer be read. Send /daily with the time and "
                      "a time zone again, for example /daily 09:00 Europe/Berlin.")
    assert await subscriptions.daily(asking, []) == status
    assert await subscriptions.daily(asking, ["10:00"]) == status  # no zone to keep
    assert row(7).local_time == "08:00"
    reply = await subscriptions.daily(asking, ["10:00", "Europe/Berlin"])
    assert reply.startswith("Subscribed: a cosmic image every day at 10:00 (Europe/Berlin).")
    assert row(7).set_aside is None
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 8, 1))  # 10:00 in Berlin
    assert photo_count(fake_api, 7) == 1


async def test_the_figures_count_each_chat_on_its_own_date_and_every_failed_try(
        memory_db, library, bot, fake_api, monkeypatch):
    monkeypatch.setattr(daily, "_failures", {})
    evening = dt.datetime(2026, 6, 1, 23, 0)
    subscribed(1, dt.time(18, 0), zone="America/Los_Angeles", since=evening)  # 01:00 UTC
    subscribed(2, zone="Asia/Tokyo", since=evening)  # 00:00 UTC
    subscribed(3, dt.time(0, 30), since=evening)
    subscribed(4, dt.time(1, 30), since=evening)  # fails twice
    unreadable_row(5, active=False, set_aside="unknown time zone: 'Mars/Olympus_Mons'")
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 1, 1))
    fake_api.fail_next("sendPhoto", status=400, times=2,
                       description="Bad Request: not enough rights to send photos")
    for minute in (31, 34):  # a try, and its retry a few minutes later
        await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 1, minute))
    figures = daily.day_figures(BOT_ID, dt.datetime(2026, 6, 2, 2, 0))
    # 19:00 on 1 June in Los Angeles: its image of 1 June is today's there.
    assert (figures.done, figures.failed) == (3, 2)
    assert (figures.active, figures.inactive, figures.set_aside) == (4, 1, 0)


async def test_the_figures_count_a_set_aside_row_and_never_raise(memory_db, library, bot,
                                                                 fake_api):
    subscribed(1)
    unreadable_row(2, delivered_on=DAY.date())  # not yet set aside, with an image today
    unreadable_row(3, zone="Mars/Valles_Marineris", active=False)
    before = daily.day_figures(BOT_ID, DAY.replace(hour=9, minute=1))
    assert (before.active, before.inactive, before.set_aside, before.due) == (2, 1, 0, 2)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    after = daily.day_figures(BOT_ID, DAY.replace(hour=9, minute=2))
    assert (after.active, after.inactive, after.set_aside) == (2, 1, 1)
    assert (after.done, after.due) == (1, 0)


# ---- the day's bookkeeping ------------------------------------------------------------------


async def test_a_chat_already_served_today_and_due_again_gets_no_second_image(
        memory_db, library, bot, fake_api):
    subscribed(1)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    # Due again the same day (written by an older version, or by hand).
    Subscription.update(next_at=DAY.replace(hour=9, minute=30)).execute()
    report = await daily.deliver_due(bot, DAY.replace(hour=10))
    assert photo_count(fake_api, 1) == 1 and report.skipped == 1
    assert row(1).next_at == dt.datetime(2026, 6, 2, 9, 0)


async def test_a_new_time_after_todays_image_promises_tomorrow(memory_db, library, bot,
                                                               fake_api):
    subscribed(1)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    reply = await subscriptions.daily(chat(1, DAY.replace(hour=10)), ["15:00"])
    assert reply.endswith("The next one comes on 2026-06-02 at 15:00 (UTC).")


async def test_the_day_recorded_is_the_chats_own_date(memory_db, library, bot, fake_api):
    subscribed(1, dt.time(7, 0), zone="Asia/Tokyo")  # 07:00 in Tokyo is 22:00 UTC the day before
    sent_at = dt.datetime(2026, 6, 1, 22, 1)
    await daily.deliver_due(bot, sent_at)
    assert photo_count(fake_api, 1) == 1
    assert (row(1).delivered_on, row(1).next_at) == (dt.date(2026, 6, 2),
                                                     dt.datetime(2026, 6, 2, 22, 0))
    assert sent_at <= row(1).delivered_at < sent_at + dt.timedelta(seconds=30)


@pytest.mark.parametrize("killed_at", [
    dt.datetime(2026, 6, 1, 22, 0),  # the bot came up late on 1 June and sent that day's image
    dt.datetime(2026, 6, 2, 0, 30),  # ... or after midnight, still 1 June's image
])
async def test_a_send_cut_off_at_night_leaves_the_next_day_its_image(memory_db, library, bot,
                                                                     fake_api, killed_at):
    subscribed(1, dt.time(7, 0))
    assert daybook.claim(row(1).id, killed_at, DAY.date(), owner=DEAD_PROCESS)
    report = await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 8, 0))  # restarted at 08:00
    assert photo_count(fake_api, 1) == 1 and report.delivered == 1
    assert row(1).delivered_on == dt.date(2026, 6, 2)
    assert row(1).next_at == dt.datetime(2026, 6, 3, 7, 0)


async def test_the_third_try_of_a_day_can_still_succeed(memory_db, library, bot, fake_api):
    subscribed(1)
    fake_api.fail_next("sendPhoto", status=400, times=daily.MAX_ATTEMPTS - 1,
                       description="Bad Request: not enough rights to send photos")
    await rounds(bot, DAY.replace(hour=9, minute=1), hours=1, every=dt.timedelta(minutes=1))
    assert len(fake_api.calls("sendPhoto")) == daily.MAX_ATTEMPTS
    assert photo_count(fake_api, 1) == 1 and row(1).delivered_on == DAY.date()


async def test_daily_after_stop_really_resumes(memory_db, library, bot, fake_api):
    subscribed(1)
    assert (await subscriptions.stop(chat(1, DAY.replace(hour=8)))).startswith("Done")
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert photo_count(fake_api, 1) == 0
    await subscriptions.daily(chat(1, DAY.replace(hour=10)), ["11:00"])
    await daily.deliver_due(bot, DAY.replace(hour=11, minute=1))
    assert photo_count(fake_api, 1) == 1


async def test_status_never_shows_a_time_already_past(memory_db, library, bot, fake_api):
    subscribed(1)  # due on 1 June at 09:00; the round has not reached the chat yet
    status = await subscriptions.status(chat(1, DAY.replace(hour=11, minute=42)))
    assert status.endswith("The next one comes on 2026-06-01 at 11:42 (UTC).")


@pytest.mark.parametrize(("zone", "next_one"), [
    ("Asia/Tokyo", "on 2026-06-02 at 09:00 (Asia/Tokyo)"),  # 10:00 there already
    ("America/Los_Angeles", "on 2026-06-01 at 09:00 (America/Los_Angeles)"),  # 18:00 the day before
    ("+05:30", "on 2026-06-01 at 09:00 (+05:30)"),  # 06:30 there
])
async def test_status_tells_the_next_image_in_the_chats_own_date_and_time(
        memory_db, library, bot, fake_api, zone, next_one):
    now = DAY.replace(hour=1)
    subscribed(1, zone=zone, since=now)
    status = await subscriptions.status(chat(1, now))
    assert status == ("This chat gets a cosmic image every day at 09:00 "
                      f"({zone}). The next one comes {next_one}.")


async def test_a_claim_taken_by_another_round_is_refused(memory_db, library, bot, fake_api,
                                                         monkeypatch):
    subscribed(1)
    subscribed(2)
    claim_many = daybook.claim_many

    def another_round_first(subscription_ids, *args):  # another round claims chat 1 just before
        assert daybook.claim(row(1).id, *args, owner="another-round")
        return claim_many(subscription_ids, *args)

    monkeypatch.setattr(daybook, "claim_many", another_round_first)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert (photo_count(fake_api, 1), photo_count(fake_api, 2)) == (0, 1)
    assert report.delivered == 1 and row(1).sending_owner == "another-round"


async def test_a_chat_that_stops_after_the_round_read_it_gets_no_image(
        memory_db, library, bot, fake_api, monkeypatch):
    subscribed(1)
    subscribed(2)
    due_batch = daybook.due_batch

    def read_then_stop(bot_id, now):  # chat 1's /stop lands between the round's read and its send
        batch = due_batch(bot_id, now)
        subscriptions.unsubscribe(bot_id, 1)
        return batch

    monkeypatch.setattr(daybook, "due_batch", read_then_stop)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert (photo_count(fake_api, 1), photo_count(fake_api, 2)) == (0, 1)
    assert report.delivered == 1 and not row(1).active and row(1).sending_since is None


# ---- groups that become supergroups ---------------------------------------------------------

GROUP, SUPERGROUP = -4000000001, -1004000000001


async def test_a_group_whose_supergroup_has_its_own_subscription_gets_one_image(db, library,
                                                                                bot, fake_api):
    fake_api.add_group(GROUP, kind="group")
    subscribed(GROUP, chat_type="group")
    fake_api.upgrade_group(GROUP, SUPERGROUP)
    subscribed(SUPERGROUP, chat_type="supergroup")  # an administrator subscribed it too
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 1 and photo_count(fake_api, SUPERGROUP) == 1
    assert Subscription.of_chat(BOT_ID, GROUP) is None
    assert row(SUPERGROUP).delivered_on == DAY.date()


@pytest.mark.parametrize("its_own", [False, True])
async def test_a_migration_update_handled_while_the_image_is_on_its_way(db, library, bot,
                                                                        fake_api, monkeypatch,
                                                                        its_own):
    fake_api.add_group(GROUP, kind="group")
    subscribed(GROUP, chat_type="group")
    if its_own:
        subscribed(SUPERGROUP, chat_type="supergroup")
    fake_api.upgrade_group(GROUP, SUPERGROUP)
    claim_many = daybook.claim_many

    def claim_then_the_migration_update(*args, **kwargs):
        claimed = claim_many(*args, **kwargs)
        subscriptions.move_chat(BOT_ID, GROUP, SUPERGROUP)  # the update's handler runs now
        return claimed

    monkeypatch.setattr(daybook, "claim_many", claim_then_the_migration_update)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 1 and photo_count(fake_api, SUPERGROUP) == 1
    assert Subscription.of_chat(BOT_ID, GROUP) is None
    moved = row(SUPERGROUP)
    assert (moved.delivered_on, moved.sending_since) == (DAY.date(), None)


# ---- moving zones ---------------------------------------------------------------------------


async def images_at(bot, fake_api, chat_id: int, start: dt.datetime, hours: int,
                    zone: str) -> list[str]:
    """Run a round every 10 minutes; return when (local "MM-DD HH:MM") each image came."""
    came, now = [], start
    while now < start + dt.timedelta(hours=hours):
        before = photo_count(fake_api, chat_id)
        await daily.deliver_due(bot, now)
        if photo_count(fake_api, chat_id) > before:
            came.append(localtime.to_local(now, zone).strftime("%m-%d %H:%M"))
        now += dt.timedelta(minutes=10)
    return came


@pytest.mark.parametrize("hours_later", [1, 8, 15])
async def test_moving_west_after_todays_image_skips_no_day(memory_db, library, bot, fake_api,
                                                           hours_later):
    subscribed(1, zone="Asia/Tokyo", since=dt.datetime(2026, 6, 1, 12))
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 0, 0))  # Tokyo's 2 June, 09:00
    moved_at = dt.datetime(2026, 6, 2, 0, 0) + dt.timedelta(hours=hours_later)
    subscribed(1, zone="America/Los_Angeles", since=moved_at)
    # Tokyo's 09:00 was 17:00 on 1 June in Los Angeles: 2 June there has had no image yet.
    came = await images_at(bot, fake_api, 1, moved_at, 60, "America/Los_Angeles")
    assert came[:2] == ["06-02 09:00", "06-03 09:00"]


@pytest.mark.parametrize("hours_later", [1, 8, 15])
async def test_moving_east_after_todays_image_gives_no_second_one_that_day(
        memory_db, library, bot, fake_api, hours_later):
    subscribed(1, zone="America/Los_Angeles")
    await daily.deliver_due(bot, dt.datetime(2026, 6, 1, 16, 0))  # Los Angeles' 1 June, 09:00
    moved_at = dt.datetime(2026, 6, 1, 16, 0) + dt.timedelta(hours=hours_later)
    subscribed(1, zone="Asia/Tokyo", since=moved_at)
    # That image came at 01:00 on 2 June in Tokyo: 2 June there has had its image.
    came = await images_at(bot, fake_api, 1, moved_at, 60, "Asia/Tokyo")
    assert came[:2] == ["06-03 09:00", "06-04 09:00"]


# ---- late rounds ----------------------------------------------------------------------------


async def test_a_chat_reached_after_midnight_because_of_the_queue_gets_that_days_image(
        memory_db, library, bot, fake_api):
    subscribed(1, dt.time(23, 50))
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 0, 40))  # a long round went first
    assert photo_count(fake_api, 1) == 1
    assert (row(1).delivered_on, row(1).next_at) == (DAY.date(), dt.datetime(2026, 6, 2, 23, 50))
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 23, 51))  # and 2 June's still comes
    assert photo_count(fake_api, 1) == 2


async def test_an_image_comes_at_most_three_hours_after_midnight(memory_db, library, bot,
                                                                 fake_api):
    subscribed(1, dt.time(23, 50))
    report = await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 3, 1))  # down until 03:01
    assert photo_count(fake_api, 1) == 0 and report.skipped == 1
    assert row(1).next_at == dt.datetime(2026, 6, 2, 23, 50)


@pytest.mark.parametrize("zone", ["America/New_York", "-04:00", "Asia/Tokyo"])
async def test_the_three_hours_after_midnight_count_from_the_chats_own_midnight(
        memory_db, library, bot, fake_api, zone):
    def local(hour: int, minute: int) -> dt.datetime:  # on 2 June, in zone
        return localtime.instant_of(dt.date(2026, 6, 2), dt.time(hour, minute), zone)

    noon_before = localtime.instant_of(DAY.date(), dt.time(12, 0), zone)
    subscribed(1, dt.time(23, 50), zone=zone, since=noon_before)
    await daily.deliver_due(bot, local(0, 40))  # a long round went first
    assert photo_count(fake_api, 1) == 1 and row(1).delivered_on == DAY.date()
    subscribed(2, dt.time(23, 50), zone=zone, since=noon_before)
    report = await daily.deliver_due(bot, local(3, 1))  # down until 03:01 there
    assert photo_count(fake_api, 2) == 0 and report.skipped == 1
    assert row(2).next_at == local(23, 50)


async def test_never_a_days_image_once_the_next_days_time_has_come(memory_db, library, bot,
                                                                   fake_api, monkeypatch):
    monkeypatch.setattr(daily, "MAX_IN_FLIGHT", 1)
    fake_api.latency = 1.0  # chat 2 is reached a second or two after the round began
    subscribed(1, dt.time(2, 0), since=DAY.replace(hour=0))
    subscribed(2, dt.time(3, 0), since=DAY.replace(hour=0))  # not served on 1 June
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 2, 59, 59))
    fake_api.latency = 0
    await daily.deliver_due(bot, dt.datetime(2026, 6, 2, 3, 20))
    # Reached after 03:00: 2 June's image, not 1 June's followed by 2 June's.
    assert photo_count(fake_api, 2) == 1 and row(2).delivered_on == dt.date(2026, 6, 2)


# ---- recording outcomes ---------------------------------------------------------------------


def refusing(real, times: int):
    """Wrap a row function so that the database refuses its first `times` calls."""
    calls = {"n": 0}

    def call(*args):
        calls["n"] += 1
        if calls["n"] <= times:
            raise peewee.OperationalError("database is locked")
        return real(*args)

    return call


async def test_an_outcome_refused_at_first_is_recorded_on_a_later_try(memory_db, library, bot,
                                                                      fake_api, monkeypatch):
    monkeypatch.setattr(outcomes, "RECORD_DELAYS", (0.01, 0.01, 0.01))
    monkeypatch.setattr(daybook, "record_deliveries", refusing(daybook.record_deliveries, 2))
    subscribed(1)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 1 and not outcomes.unrecorded()
    assert (row(1).delivered_on, row(1).sending_since) == (DAY.date(), None)


async def test_a_failed_send_that_cannot_be_recorded_never_counts_as_delivered(
        memory_db, library, bot, fake_api, monkeypatch, log_lines):
    monkeypatch.setattr(outcomes, "RECORD_DELAYS", (0.01,))
    record_failure = daybook.record_failure
    # Refused twice in the round, and once more at the start of the next one.
    monkeypatch.setattr(daybook, "record_failure", refusing(record_failure, 3))
    subscribed(1)
    fake_api.fail_next("sendPhoto", status=400,
                       description="Bad Request: not enough rights to send photos")
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert outcomes.unrecorded() == {row(1).id}
    assert any("kept to record at the next round" in line for line in log_lines)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1, second=20))
    assert outcomes.unrecorded() == {row(1).id}
    # Still marked, by this live process: not a send a killed process left, not delivered.
    assert (row(1).sending_owner, row(1).delivered_on) == (daybook.OWNER, None)
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=1, second=40))  # recorded first
    assert not outcomes.unrecorded()
    assert (row(1).delivered_on, row(1).attempts, row(1).sending_since) == (None, 1, None)
    assert photo_count(fake_api, 1) == 0
    await daily.deliver_due(bot, DAY.replace(hour=9, minute=4))  # its retry
    assert photo_count(fake_api, 1) == 1


async def test_a_zone_changed_while_the_image_is_on_its_way_counts_in_the_new_zone(
        memory_db, library, bot, fake_api, monkeypatch):
    subscribed(1, dt.time(7, 0), zone="Asia/Tokyo")
    claim_many = daybook.claim_many
    sent_at = dt.datetime(2026, 6, 1, 22, 1)  # 07:01 on 2 June in Tokyo, 15:01 on 1 June in LA

    def claim_then_move_west(*args, **kwargs):
        claimed = claim_many(*args, **kwargs)
        subscribed(1, dt.time(7, 0), zone="America/Los_Angeles", since=sent_at)
        return claimed

    monkeypatch.setattr(daybook, "claim_many", claim_then_move_west)
    await daily.deliver_due(bot, sent_at)
    # It arrived on 1 June in Los Angeles: 2 June there still gets its image, at 07:00.
    assert row(1).delivered_on == dt.date(2026, 6, 1)
    assert row(1).next_at == dt.datetime(2026, 6, 2, 14, 0)


async def test_a_mark_left_on_a_row_that_cannot_be_read_sets_it_aside(memory_db, library, bot,
                                                                      fake_api):
    subscribed(1)
    unreadable_row(2, sending_since=DAY.replace(hour=8), sending_owner=DEAD_PROCESS)
    report = await daily.deliver_due(bot, DAY.replace(hour=9, minute=1))
    assert report.delivered == 1 and row(2).set_aside.startswith("unknown time zone")
    assert row(2).sending_since is None


async def test_rounds_at_once_in_one_process_take_no_send_for_a_killed_one(
        memory_db, library, bot, fake_api, log_lines):
    for chat_id in range(1, 11):
        subscribed(chat_id)
    fake_api.latency = 0.3
    now = DAY.replace(hour=9, minute=1)
    first = asyncio.create_task(daily.deliver_due(bot, now))
    await fake_api.await_until(lambda: fake_api.calls("sendPhoto"))  # sends are in flight
    await daily.deliver_due(bot, now + dt.timedelta(seconds=1))
    await first
    assert not [line for line in log_lines if "was killed" in line]
    assert [photo_count(fake_api, chat_id) for chat_id in range(1, 11)] == [1] * 10


async def test_a_process_that_no_longer_leads_runs_no_round_nor_settles_a_mark(
        memory_db, library, bot, fake_api):
    subscribed(1)
    subscribed(2)
    # The leader's send, on its way: a process that stopped leading must leave it alone.
    assert daybook.claim(row(1).id, DAY.replace(hour=9, minute=1), DAY.date(), owner=DEAD_PROCESS)
    assert await daily.run_round(bot, stopping=lambda: True) is None
    assert (row(1).sending_owner, row(1).delivered_on) == (DEAD_PROCESS, None)
    assert photo_count(fake_api, 2) == 0
