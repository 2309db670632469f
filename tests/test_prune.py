"""Pruning the shuffle bags and subscriptions no chat can use any more, in batches."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from cosmobot import clock
from cosmobot.schedule import jobs
from cosmobot.storage import prune
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import ShuffleBag, Subscription
from tests.botrunner import BotThread, bot_settings
from tests.factories import BOT_ID, OTHER_BOT_ID, make_assets


def days_ago(days: float) -> dt.datetime:
    return clock.utcnow() - dt.timedelta(days=days)


def seen(chat_id: int, *ages_in_days: float, bot_id: int = BOT_ID) -> None:
    """Give chat_id a bag with bot_id, as if it had been sent one image at each age, in days."""
    ShuffleBag.create(bot_id=bot_id, chat_id=chat_id, seed=chat_id, step=len(ages_in_days),
                      shown=len(ages_in_days), updated_at=days_ago(min(ages_in_days)))


def subscription(chat_id: int, active: bool, updated_days_ago: float,
                 bot_id: int = BOT_ID) -> None:
    Subscription.create(bot_id=bot_id, chat_id=chat_id, chat_type="private", language="en",
                        local_time="09:00", zone="UTC", active=active, next_at=days_ago(-1),
                        updated_at=days_ago(updated_days_ago))


def chats_with_bags(bot_id: int = BOT_ID) -> list[int]:
    rows = ShuffleBag.select(ShuffleBag.chat_id).where(ShuffleBag.bot_id == bot_id)
    return sorted(row.chat_id for row in rows)


def subscribed_chats(bot_id: int = BOT_ID) -> list[int]:
    rows = Subscription.select(Subscription.chat_id).where(Subscription.bot_id == bot_id)
    return sorted(row.chat_id for row in rows)


@pytest.mark.asyncio
async def test_a_chat_idle_for_over_90_days_loses_its_bag(db):
    seen(1, 89)  # kept: a day before the limit
    seen(2, 91, 120)  # pruned: a day past it
    seen(3, 150, 91, 10)  # kept: what counts is the latest image the chat saw
    seen(-1004, 91)  # a group, pruned like any chat
    report = await prune.prune_stale(BOT_ID, pause=0)
    assert chats_with_bags() == [1, 3]
    assert (report.bags, report.subscriptions) == (2, 0)


@pytest.mark.asyncio
async def test_an_active_subscriber_keeps_its_bag_however_old(db):
    subscription(1, active=True, updated_days_ago=400)
    seen(1, 300, 200)
    subscription(2, active=False, updated_days_ago=10)  # no active subscription: pruned
    seen(2, 300)
    await prune.prune_stale(BOT_ID, pause=0)
    assert chats_with_bags() == [1]
    assert subscribed_chats() == [1, 2]


@pytest.mark.asyncio
async def test_an_inactive_subscription_untouched_for_over_90_days_is_deleted(db):
    subscription(1, active=False, updated_days_ago=89)
    subscription(2, active=False, updated_days_ago=91)
    subscription(3, active=True, updated_days_ago=91)  # active: kept however old
    report = await prune.prune_stale(BOT_ID, pause=0)
    assert subscribed_chats() == [1, 3]
    assert report.subscriptions == 1


@pytest.mark.asyncio
async def test_a_chat_that_stopped_its_daily_image_but_still_asks_keeps_its_round(db):
    subscription(1, active=False, updated_days_ago=200)  # /stop long ago
    seen(1, 300, 1)  # /cosmic yesterday
    await prune.prune_stale(BOT_ID, pause=0)
    assert subscribed_chats() == []
    assert chats_with_bags() == [1]


@pytest.mark.asyncio
async def test_time_is_read_from_cosmobots_clock(db):
    seen(1, 0)
    subscription(2, active=False, updated_days_ago=0)
    clock.set_offset(dt.timedelta(days=91))
    await prune.prune_stale(BOT_ID, pause=0)
    assert chats_with_bags() == [] and subscribed_chats() == []


@pytest.mark.asyncio
async def test_many_chats_are_pruned_in_small_batches(db, monkeypatch, log_lines):
    for chat in range(1, 12):
        seen(chat, 91 if chat % 3 else 1, 95)  # every third chat is not idle
        subscription(100 + chat, active=False, updated_days_ago=91)
    batches = []
    real_in_db_thread = prune.in_db_thread

    async def in_db_thread(call, *args):
        batch = await real_in_db_thread(call, *args)
        batches.append((call.__name__, batch.rows))
        return batch

    monkeypatch.setattr(prune, "in_db_thread", in_db_thread)
    await prune.prune_stale(BOT_ID, batch_size=3, pause=0)  # three rows a batch
    assert chats_with_bags() == [3, 6, 9]
    assert subscribed_chats() == []
    # Three chats a batch (two in the last), two of each idle; three subscriptions a batch.
    assert [rows for name, rows in batches if name == "_prune_bag_batch"] == [2, 2, 2, 2]
    assert [rows for name, rows in batches if name == "_prune_subscription_batch"] == [
        3, 3, 3, 2]
    assert [line for line in log_lines if "Pruned" in line] == [
        "INFO Pruned what no chat can use any more (untouched for 90 days): the shuffle bags "
        "of 8 chats and 11 inactive subscriptions\n"
    ]


@pytest.mark.asyncio
async def test_each_bot_prunes_its_own_rows_by_its_own_subscriptions(db):
    subscription(1, active=True, updated_days_ago=400)  # chat 1 has this bot's daily image ...
    seen(1, 200)
    seen(1, 200, bot_id=OTHER_BOT_ID)  # ... not the other bot's: their round is idle
    seen(2, 200, bot_id=OTHER_BOT_ID)
    subscription(3, active=False, updated_days_ago=200, bot_id=OTHER_BOT_ID)
    mine = await prune.prune_stale(BOT_ID, pause=0)
    assert (mine.bags, mine.subscriptions) == (0, 0)
    assert chats_with_bags(OTHER_BOT_ID) == [1, 2]
    assert subscribed_chats(OTHER_BOT_ID) == [3]
    others = await prune.prune_stale(OTHER_BOT_ID, pause=0)
    assert (others.bags, others.subscriptions) == (2, 1)
    assert chats_with_bags(OTHER_BOT_ID) == subscribed_chats(OTHER_BOT_ID) == []
    assert chats_with_bags() == subscribed_chats() == [1]


@pytest.mark.asyncio
async def test_a_stopping_bot_ends_pruning_after_the_batch_in_progress(db):
    for chat in range(1, 7):
        seen(chat, 91)
    batches_begun = []

    def stopping():
        batches_begun.append(None)
        return len(batches_begun) > 1

    report = await prune.prune_stale(BOT_ID, stopping=stopping, batch_size=2, pause=0)
    assert report.bags == 2
    assert chats_with_bags() == [3, 4, 5, 6]


@pytest.mark.asyncio
async def test_nothing_to_prune_logs_nothing(db, log_lines):
    seen(1, 1)
    await prune.prune_stale(BOT_ID, pause=0)
    assert not [line for line in log_lines if "Pruned" in line]


@pytest.mark.asyncio
@pytest.mark.parametrize(("running", "leading", "left"),
                         [(True, True, []), (False, True, [1]), (True, False, [1])])
async def test_the_job_prunes_only_while_the_bot_runs_and_leads(
        memory_db, running, leading, left):
    seen(1, 91)
    bot_data = {jobs.LEADING: leading}
    context = SimpleNamespace(application=SimpleNamespace(running=running, bot_data=bot_data),
                              bot=SimpleNamespace(id=BOT_ID))
    await jobs.prune_database(context)
    assert chats_with_bags() == left


def test_the_bot_prunes_in_the_background(tmp_path, fake_api, monkeypatch, log_lines):
    monkeypatch.setattr(jobs, "PRUNE_FIRST_SECONDS", 0.2)
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets"))
    open_database(settings.database_url)
    apply_migrations()
    seen(1, 91)
    seen(2, 1)
    close_database()
    with BotThread(settings, fake_api):
        fake_api.wait_until(lambda: [line for line in log_lines if "Pruned" in line])
    open_database(settings.database_url)
    try:
        assert chats_with_bags() == [2]
    finally:
        close_database()
