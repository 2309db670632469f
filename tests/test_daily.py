"""deliver_due with an injected clock, against the fake Bot API through a real telegram.Bot."""

from __future__ import annotations

import datetime as dt

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.ext import BaseRateLimiter, ExtBot

from cosmobot.bot import ratelimit
from cosmobot.bot.delivery import deliver_cosmic
from cosmobot.schedule import daily, localtime
from cosmobot.schedule.subscriptions import subscribe
from cosmobot.storage.models import SeenImage, Subscription
from tests.factories import TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

DAY = dt.datetime(2026, 6, 1)
NINE = dt.time(9, 0)


@pytest_asyncio.fixture
async def bot(fake_api):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        yield bot


def subscribed(chat_id: int, at: dt.time = NINE, zone: str = "UTC",
               since: dt.datetime = DAY, chat_type: str = "private") -> None:
    subscribe(chat_id, chat_type, "en", at, zone, since)


def photo_count(fake_api, chat_id: int) -> int:
    return len([m for m in fake_api.sent_to(chat_id) if "photo" in m])


def row(chat_id: int) -> Subscription:
    return Subscription.get(Subscription.chat_id == chat_id)


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
    assert not Subscription.in_flight().exists()  # everything in flight was recorded
    second = await daily.deliver_due(bot, now + dt.timedelta(seconds=30))
    assert first.delivered + second.delivered == len(chats)
    assert [photo_count(fake_api, chat) for chat in chats] == [1] * len(chats)


async def test_a_send_cut_off_by_a_kill_counts_as_delivered(memory_db, library, bot, fake_api,
                                                            log_lines):
    subscribed(1)
    subscribed(2)
    now = DAY.replace(hour=9, minute=1)
    assert daily.claim(row(1).id, now)  # the process died with this send in flight
    report = await daily.deliver_due(bot, now + dt.timedelta(seconds=20))
    assert (photo_count(fake_api, 1), photo_count(fake_api, 2)) == (0, 1)
    assert report.delivered == 1
    assert row(1).delivered_on == dt.date(2026, 6, 1) and row(1).sending_since is None
    assert any("was on its way when the bot was killed" in line for line in log_lines)


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
    # The group's round through the collection goes on there: the other image, not a repeat.
    assert {row.asset_key for row in SeenImage.seen_by(supergroup)} == set(library.cosmic_keys)
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
    figures = daily.day_figures(DAY.replace(hour=14, minute=32))
    assert (figures.active, figures.inactive) == (3, 1)
    assert (figures.done, figures.due, figures.failed) == (1, 0, 1)
    # Chat 2 is due again after its retry delay; chat 1's image was yesterday's by tomorrow.
    later = daily.day_figures(DAY.replace(hour=14, minute=40))
    assert (later.done, later.due) == (1, 1)
    assert daily.day_figures(dt.datetime(2026, 6, 2, 8, 0)).done == 0
