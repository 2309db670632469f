"""End to end on the real Application: /daily, /stop, /status, groups, and the daily image."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from cosmobot import clock
from cosmobot.clock import utcnow
from cosmobot.schedule import jobs
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import Subscription
from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import BOT_ID, make_assets

pytestmark = pytest.mark.timeout(30)

ALICE, BOB = 1001, 1002
GROUP = -1009876543210
BASIC, SUPERGROUP = -4000000001, -1004000000001
USAGE_EN = ("Please send the time as HH:MM, and a time zone if you like: for example "
            "/daily 08:30, /daily 08:30 Europe/Berlin or /daily 08:30 +3.")
USAGE_RU = ("Укажите время в виде ЧЧ:ММ и, если нужно, часовой пояс: например, /daily 08:30, "
            "/daily 08:30 Europe/Moscow или /daily 08:30 +3.")
ADMINS_ONLY = "Only this group's administrators can change its daily image."


@pytest.fixture
def settings(tmp_path, fake_api):
    return bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))


@pytest.fixture
def bot(settings, fake_api):
    with BotThread(settings, fake_api) as running:
        yield running


def ask(fake_api, chat_id: int, command: str, **options) -> str:
    """Send a command and return the bot's text reply to it."""
    before = len(texts(fake_api, chat_id))
    fake_api.push_text(chat_id, command, **options)
    return fake_api.wait_until(lambda: texts(fake_api, chat_id)[before:])[0]


def subscription(chat_id: int) -> Subscription | None:
    return Subscription.get_or_none(Subscription.chat_id == chat_id)


def test_subscribe_change_status_and_stop(bot, fake_api):
    reply = ask(fake_api, ALICE, "/daily")
    assert reply.startswith("Subscribed: a cosmic image every day at 09:00 (UTC). "
                            "The next one comes on ")
    assert reply.endswith(" at 09:00 (UTC).")
    reply = ask(fake_api, ALICE, "/daily 07:30 Europe/Berlin")
    assert reply.startswith("Subscribed: a cosmic image every day at 07:30 (Europe/Berlin).")
    row = subscription(ALICE)
    assert (row.local_time, row.zone, row.active, row.language) == (
        "07:30", "Europe/Berlin", True, "en")
    assert ask(fake_api, ALICE, "/daily 21:15").startswith(
        "Subscribed: a cosmic image every day at 21:15 (Europe/Berlin).")  # the zone stays
    status = ask(fake_api, ALICE, "/status")
    assert status.startswith("This chat gets a cosmic image every day at 21:15 (Europe/Berlin)")
    assert ask(fake_api, ALICE, "/daily") == status
    assert ask(fake_api, ALICE, "/stop") == (
        "Done: no more daily images here. /daily subscribes again.")
    assert not subscription(ALICE).active
    assert ask(fake_api, ALICE, "/status").startswith("This chat has no daily image.")


def test_an_offset_zone_is_named_in_the_reply_in_russian(bot, fake_api):
    reply = ask(fake_api, ALICE, "/daily 8:05 +3", language_code="ru")
    assert reply.startswith("Готово: космическое изображение каждый день в 08:05 (+03:00).")
    assert subscription(ALICE).zone == "+03:00"


@pytest.mark.parametrize(("language", "usage"), [("en", USAGE_EN), ("ru", USAGE_RU)])
@pytest.mark.parametrize("command", [
    "/daily 25:61", "/daily tomorrow", "/daily 08:00 Mars/Olympus", "/daily 08:00 UTC extra",
])
def test_bad_input_gets_the_usage_and_changes_nothing(bot, fake_api, language, usage, command):
    ask(fake_api, ALICE, "/daily 06:45")
    before = subscription(ALICE).__data__
    assert ask(fake_api, ALICE, command, language_code=language) == usage
    assert subscription(ALICE).__data__ == before


def test_the_default_zone_comes_from_the_settings(settings, fake_api):
    moscow = dataclasses.replace(settings, timezone="Europe/Moscow")
    with BotThread(moscow, fake_api):
        reply = ask(fake_api, ALICE, "/daily")
    assert reply.startswith("Subscribed: a cosmic image every day at 09:00 (Europe/Moscow).")


def test_in_a_group_only_administrators_may_subscribe_change_or_stop(bot, fake_api):
    fake_api.add_group(GROUP)
    fake_api.set_member_status(GROUP, ALICE, "administrator")
    assert ask(fake_api, GROUP, "/daily", user_id=BOB) == ADMINS_ONLY
    assert subscription(GROUP) is None
    assert ask(fake_api, GROUP, "/daily 10:00", user_id=ALICE).startswith("Subscribed:")
    assert ask(fake_api, GROUP, "/daily 11:00", user_id=BOB) == ADMINS_ONLY
    assert ask(fake_api, GROUP, "/stop", user_id=BOB) == ADMINS_ONLY
    assert ask(fake_api, GROUP, "/status", user_id=BOB).startswith(
        "This chat gets a cosmic image every day at 10:00 (UTC)")  # anyone may ask
    assert subscription(GROUP).local_time == "10:00" and subscription(GROUP).active
    fake_api.set_member_status(GROUP, BOB, "creator")
    assert ask(fake_api, GROUP, "/stop", user_id=BOB).startswith("Done")


def test_a_group_that_becomes_a_supergroup_keeps_its_subscription(bot, fake_api):
    fake_api.add_group(BASIC, kind="group")
    fake_api.set_member_status(BASIC, ALICE, "creator")
    ask(fake_api, BASIC, "/daily 08:00 Europe/Moscow", user_id=ALICE)
    fake_api.upgrade_group(BASIC, SUPERGROUP, user_id=ALICE)
    moved = fake_api.wait_until(lambda: subscription(SUPERGROUP))
    assert (moved.local_time, moved.zone) == ("08:00", "Europe/Moscow")
    assert moved.chat_type == "supergroup"
    assert subscription(BASIC) is None
    assert ask(fake_api, SUPERGROUP, "/status", user_id=ALICE).startswith(
        "This chat gets a cosmic image every day at 08:00 (Europe/Moscow)")


def test_help_lists_the_daily_commands(bot, fake_api):
    reply = ask(fake_api, ALICE, "/help")
    assert "/daily" in reply and "/stop" in reply and "/status" in reply


def test_the_daily_image_comes_with_nobody_writing(settings, fake_api, monkeypatch):
    monkeypatch.setattr(jobs, "DAILY_INTERVAL_SECONDS", 0.2)
    # Time of day has minutes only: the bot's clock (one clock for /daily and the round) is
    # set so that the next minute starts three seconds from now.
    real_now = utcnow()
    next_minute = real_now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    clock.set_offset(next_minute - (real_now + dt.timedelta(seconds=3)))
    with BotThread(settings, fake_api):
        ask(fake_api, ALICE, f"/daily {next_minute:%H:%M}")
        subscribed_at = len(fake_api.calls())
        photo = fake_api.wait_until(lambda: photos(fake_api, ALICE), timeout=15)[0]
        assert photo["caption"].startswith("Orion")
    pushed_after = [c for c in fake_api.calls()[subscribed_at:] if c.method == "sendMessage"]
    assert pushed_after == []  # the image came alone, not as an answer to anything
    assert subscription(ALICE).delivered_on == next_minute.date()


def test_a_round_longer_than_the_interval_goes_on_quietly(settings, fake_api, monkeypatch,
                                                          caplog):
    monkeypatch.setattr(jobs, "DAILY_INTERVAL_SECONDS", 0.2)
    noon = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)
    clock.set_offset(noon - utcnow())
    chats = range(5000, 5060)
    open_database(settings.database_url)
    apply_migrations()
    Subscription.insert_many([
        {"bot_id": BOT_ID, "chat_id": chat_id, "chat_type": "private", "language": "en",
         "local_time": "11:59", "zone": "UTC", "next_at": noon - dt.timedelta(minutes=1)}
        for chat_id in chats
    ]).execute()
    close_database()
    fake_api.latency = 0.5  # two rounds' worth of ticks and more before the round is done
    with BotThread(settings, fake_api):
        fake_api.wait_until(lambda: all(photos(fake_api, chat_id) for chat_id in chats),
                            timeout=60)
        sends = len(fake_api.calls("sendPhoto"))
    assert sends == len(chats)  # one image each
    skipped = [r.getMessage() for r in caplog.records if "maximum number" in r.getMessage()]
    assert skipped == []
