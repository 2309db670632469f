"""Two bots on one database: subscriptions, rounds, figures and counts are each bot's own."""

from __future__ import annotations

import datetime as dt

import pytest
import pytest_asyncio
from telegram import Bot

from cosmobot.schedule import daily, daybook, outcomes, subscriptions
from cosmobot.storage import sendcounts
from cosmobot.storage.models import ShuffleBag, Subscription
from tests.factories import BOT_ID, OTHER_BOT_ID, OTHER_TOKEN, TOKEN
from tests.fakebotapi import FakeBotApi

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

DAY = dt.datetime(2026, 6, 1)
NINE = dt.time(9, 0)
DEAD_PROCESS = "4242-0123456789ab"
ALICE, BOB, CAROL = 1001, 1002, 1003
GROUP, SUPERGROUP = -4000000001, -1004000000001


@pytest.fixture(autouse=True)
def _no_outcomes_left_over(monkeypatch):
    monkeypatch.setattr(outcomes, "_unrecorded", {})
    monkeypatch.setattr(daily, "_sending", set())
    monkeypatch.setattr(daily, "_failures", {})


@pytest.fixture
def api():
    with FakeBotApi([TOKEN, OTHER_TOKEN]) as api:
        yield api


@pytest_asyncio.fixture
async def bots(api):
    """This bot and the other one, both talking to the fake."""
    async with Bot(TOKEN, base_url=api.base_url) as mine, \
            Bot(OTHER_TOKEN, base_url=api.base_url) as other:
        yield mine, other


def chat(bot_id: int, chat_id: int, now: dt.datetime = DAY) -> subscriptions.ChatContext:
    async def may_manage() -> bool:
        return True

    return subscriptions.ChatContext(bot_id, chat_id, "private", "en", "UTC", now, may_manage)


def subscribed(bot_id: int, chat_id: int, at: dt.time = NINE, chat_type: str = "private") -> None:
    subscriptions.subscribe(bot_id, chat_id, chat_type, "en", at, "UTC", DAY)


def photos_from(api, token: str, chat_id: int) -> int:
    return len([message for message in api.sent_to(chat_id, token) if "photo" in message])


async def test_a_chat_subscribes_to_each_bot_on_its_own(db):
    assert (await subscriptions.daily(chat(BOT_ID, ALICE), ["07:30"])).startswith("Subscribed")
    assert (await subscriptions.status(chat(OTHER_BOT_ID, ALICE))).startswith(
        "This chat has no daily image.")
    await subscriptions.daily(chat(OTHER_BOT_ID, ALICE), ["21:00"])
    assert await subscriptions.stop(chat(BOT_ID, ALICE)) == (
        "Done: no more daily images here. /daily subscribes again.")
    mine, theirs = Subscription.of_chat(BOT_ID, ALICE), Subscription.of_chat(OTHER_BOT_ID, ALICE)
    assert (mine.local_time, mine.active) == ("07:30", False)
    assert (theirs.local_time, theirs.active) == ("21:00", True)
    assert (await subscriptions.status(chat(OTHER_BOT_ID, ALICE))).startswith(
        "This chat gets a cosmic image every day at 21:00 (UTC)")


async def test_a_round_sends_its_own_subscribers_their_image_and_no_one_else(
        db, library, bots, api):
    mine, other = bots
    subscribed(BOT_ID, ALICE)
    subscribed(OTHER_BOT_ID, BOB)
    subscribed(BOT_ID, CAROL)
    subscribed(OTHER_BOT_ID, CAROL)  # a chat with both bots gets one image from each
    now = DAY.replace(hour=9, minute=1)
    report = await daily.deliver_due(mine, now)
    assert (report.delivered, report.still_due) == (2, 0)
    assert [photos_from(api, TOKEN, chat_id) for chat_id in (ALICE, BOB, CAROL)] == [1, 0, 1]
    assert api.sent_to(BOB) == [] and photos_from(api, OTHER_TOKEN, CAROL) == 0
    untouched = Subscription.of_chat(OTHER_BOT_ID, CAROL)
    assert (untouched.delivered_on, untouched.next_at) == (None, DAY.replace(hour=9))
    assert daybook.count_due(OTHER_BOT_ID, now) == 2
    await daily.deliver_due(other, now)
    assert [photos_from(api, OTHER_TOKEN, chat_id) for chat_id in (ALICE, BOB, CAROL)] == [0, 1, 1]
    assert len(api.calls("sendPhoto")) == 4


async def test_a_round_leaves_another_bots_send_in_flight_alone(db, library, bots, api):
    mine, _ = bots
    subscribed(BOT_ID, ALICE)
    subscribed(OTHER_BOT_ID, BOB)
    now = DAY.replace(hour=9, minute=1)
    # The other bot has an image on its way to Bob: not this bot's to settle.
    assert daybook.claim(Subscription.of_chat(OTHER_BOT_ID, BOB).id, now, DAY.date(),
                         owner=DEAD_PROCESS)
    await daily.deliver_due(mine, now + dt.timedelta(seconds=20))
    bob = Subscription.of_chat(OTHER_BOT_ID, BOB)
    assert (bob.sending_owner, bob.delivered_on) == (DEAD_PROCESS, None)


async def test_the_figures_of_a_day_are_each_bots_own(db, library, bots, api):
    mine, other = bots
    subscribed(BOT_ID, ALICE)
    subscribed(OTHER_BOT_ID, BOB)
    subscribed(OTHER_BOT_ID, CAROL)
    await subscriptions.stop(chat(OTHER_BOT_ID, CAROL))
    api.fail_next("sendPhoto", status=400,
                  description="Bad Request: not enough rights to send photos")
    await daily.deliver_due(mine, DAY.replace(hour=9, minute=1))  # Alice's try fails
    await daily.deliver_due(other, DAY.replace(hour=9, minute=1))  # Bob gets his
    noon = DAY.replace(hour=12)
    figures = daily.day_figures(BOT_ID, noon), daily.day_figures(OTHER_BOT_ID, noon)
    assert [(f.active, f.inactive, f.done, f.due, f.failed) for f in figures] == [
        (1, 0, 0, 1, 1), (1, 1, 1, 0, 0)]


async def test_a_group_that_becomes_a_supergroup_moves_each_bots_rows_with_that_bot(db):
    for bot_id in (BOT_ID, OTHER_BOT_ID):
        subscribed(bot_id, GROUP, chat_type="group")
        ShuffleBag.create(bot_id=bot_id, chat_id=GROUP, seed=bot_id, shown=1)
    assert subscriptions.move_chat(BOT_ID, GROUP, SUPERGROUP)
    assert Subscription.of_chat(BOT_ID, SUPERGROUP).chat_type == "supergroup"
    assert Subscription.of_chat(OTHER_BOT_ID, GROUP).chat_type == "group"  # its own update
    assert bag_seeds(BOT_ID) == {SUPERGROUP: BOT_ID}
    assert bag_seeds(OTHER_BOT_ID) == {GROUP: OTHER_BOT_ID}
    assert subscriptions.move_chat(OTHER_BOT_ID, GROUP, SUPERGROUP)
    assert Subscription.select().where(Subscription.chat_id == SUPERGROUP).count() == 2


def bag_seeds(bot_id: int) -> dict[int, int]:
    """Each chat's bag with bot_id, by the seed it was given."""
    rows = ShuffleBag.select().where(ShuffleBag.bot_id == bot_id)
    return {row.chat_id: row.seed for row in rows}


async def test_a_supergroup_that_has_a_bag_keeps_it_and_the_groups_subscription_moves(db):
    subscribed(BOT_ID, GROUP, chat_type="group")
    for chat_id in (GROUP, SUPERGROUP):
        ShuffleBag.create(bot_id=BOT_ID, chat_id=chat_id, seed=abs(chat_id))
    assert subscriptions.move_chat(BOT_ID, GROUP, SUPERGROUP)
    assert bag_seeds(BOT_ID) == {GROUP: abs(GROUP), SUPERGROUP: abs(SUPERGROUP)}
    assert Subscription.of_chat(BOT_ID, SUPERGROUP).chat_type == "supergroup"


async def test_each_bot_counts_its_own_sends(db):
    sendcounts.restart()
    sendcounts.count(BOT_ID, sendcounts.UPLOADS)
    sendcounts.count(OTHER_BOT_ID, sendcounts.UPLOADS)
    sendcounts.count(OTHER_BOT_ID, sendcounts.FILE_ID_SENDS)
    await sendcounts.flush()
    sendcounts.count(BOT_ID, sendcounts.FILE_ID_SENDS)  # not saved yet: still counted
    assert sendcounts.since_start(BOT_ID) == {"file_id_sends": 1, "uploads": 1}
    assert await sendcounts.totals(BOT_ID) == {"file_id_sends": 1, "uploads": 1}
    assert await sendcounts.totals(OTHER_BOT_ID) == {"file_id_sends": 1, "uploads": 1}
    sendcounts.restart()  # a new start: the totals stay, each bot's
    sendcounts.count(OTHER_BOT_ID, sendcounts.UPLOADS)
    assert sendcounts.since_start(BOT_ID) == {"file_id_sends": 0, "uploads": 0}
    assert await sendcounts.totals(BOT_ID) == {"file_id_sends": 1, "uploads": 1}
    assert await sendcounts.totals(OTHER_BOT_ID) == {"file_id_sends": 1, "uploads": 2}
