"""End to end in groups: answers go to the forum topic asked in, and survive a deleted command."""

from __future__ import annotations

import pytest

from cosmobot.storage.models import Subscription
from tests.botrunner import BotThread, bot_settings
from tests.factories import make_assets

ALICE = 1001
FORUM, GROUP = -1001234567890, -1009876543210
TOPIC = 42


@pytest.fixture
def settings(tmp_path, fake_api):
    fake_api.add_group(FORUM, "Astronomy", forum=True)
    fake_api.add_group(GROUP, "Stargazers")
    return bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))


@pytest.fixture
def bot(settings, fake_api):
    with BotThread(settings, fake_api) as running:
        yield running


def sent(fake_api, chat_id: int, kind: str) -> list[dict]:
    return [message for message in fake_api.sent_to(chat_id) if kind in message]


def test_cosmic_in_a_topic_is_answered_in_that_topic(bot, fake_api):
    fake_api.push_text(FORUM, "/cosmic", user_id=ALICE, thread_id=TOPIC)
    photo = fake_api.wait_until(lambda: sent(fake_api, FORUM, "photo"))[0]
    assert photo["message_thread_id"] == TOPIC and photo["is_topic_message"]


def test_a_button_in_a_topic_answers_in_that_topic(bot, fake_api):
    fake_api.push_text(FORUM, "/cosmic", user_id=ALICE, thread_id=TOPIC)
    first = fake_api.wait_until(lambda: sent(fake_api, FORUM, "photo"))[0]
    data = first["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake_api.push_callback(FORUM, data, message_id=first["message_id"], user_id=ALICE)
    second = fake_api.wait_until(lambda: sent(fake_api, FORUM, "photo")[1:])[0]
    assert second["message_thread_id"] == TOPIC


def test_an_error_reply_goes_to_the_topic(bot, fake_api):
    fake_api.fail_next(
        "sendPhoto", status=400, description="Bad Request: not enough rights to send photos"
    )
    fake_api.push_text(FORUM, "/cosmic", user_id=ALICE, thread_id=TOPIC)
    reply = fake_api.wait_until(lambda: sent(fake_api, FORUM, "text"))[0]
    assert reply["text"] == "Sorry, something went wrong on our side. Please try again."
    assert reply["message_thread_id"] == TOPIC


def test_a_search_without_a_match_is_answered_in_its_topic(bot, fake_api):
    fake_api.push_text(FORUM, "/cosmic quasar", user_id=ALICE, thread_id=TOPIC)
    reply = fake_api.wait_until(lambda: sent(fake_api, FORUM, "text"))[0]
    assert reply["text"].startswith("No image is called “quasar”.")
    assert reply["message_thread_id"] == TOPIC


def test_cosmic_in_the_general_topic_stays_there(bot, fake_api):
    fake_api.push_text(FORUM, "/cosmic", user_id=ALICE)
    photo = fake_api.wait_until(lambda: sent(fake_api, FORUM, "photo"))[0]
    assert "message_thread_id" not in photo


@pytest.mark.parametrize("command", ["/help", "/start"])
def test_a_command_deleted_before_the_answer_still_gets_one(settings, fake_api, command):
    # Queued and deleted before the bot polls, so it is gone when the bot quotes it.
    update = fake_api.push_text(GROUP, command, user_id=ALICE)
    fake_api.delete_message(GROUP, update["message"]["message_id"])
    with BotThread(settings, fake_api):
        reply = fake_api.wait_until(lambda: sent(fake_api, GROUP, "text"))[0]
    assert "reply_to_message" not in reply
    assert not reply["text"].startswith("Sorry")
    assert [c.status for c in fake_api.calls("sendMessage")] == [200]


def test_a_command_in_a_group_is_answered_as_a_reply(bot, fake_api):
    update = fake_api.push_text(GROUP, "/help", user_id=ALICE)
    reply = fake_api.wait_until(lambda: sent(fake_api, GROUP, "text"))[0]
    assert reply["reply_to_message"]["message_id"] == update["message"]["message_id"]


def test_an_anonymous_administrator_may_change_the_groups_daily_image(bot, fake_api):
    # Telegram shows an anonymous administrator's message as sent by the group itself.
    fake_api.push_anonymous_admin_text(GROUP, "/daily 07:15")
    reply = fake_api.wait_until(lambda: sent(fake_api, GROUP, "text"))[0]
    assert reply["text"].startswith("Subscribed: a cosmic image every day at 07:15 (UTC).")
    row = Subscription.get(Subscription.chat_id == GROUP)
    assert (row.local_time, row.active) == ("07:15", True)
    fake_api.push_anonymous_admin_text(GROUP, "/stop")
    fake_api.wait_until(lambda: sent(fake_api, GROUP, "text")[1:])
    assert not Subscription.get(Subscription.chat_id == GROUP).active


def test_a_member_writing_as_their_channel_is_no_administrator(bot, fake_api):
    # Any member may write on behalf of a channel they own: sender_chat is that channel.
    fake_api.push_channel_text(GROUP, -1005550001, "/daily 07:15")
    reply = fake_api.wait_until(lambda: sent(fake_api, GROUP, "text"))[0]
    assert reply["text"] == "Only this group's administrators can change its daily image."
    assert Subscription.get_or_none(Subscription.chat_id == GROUP) is None
