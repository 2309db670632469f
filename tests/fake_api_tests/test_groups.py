"""Groups, forum topics and replies in the fake Bot API, driven through a real telegram.Bot."""

import pytest
from telegram import ReplyParameters
from telegram.error import BadRequest, ChatMigrated

from tests.fake_api_tests.client import error_body, make_bot, png, raw

pytestmark = pytest.mark.timeout(30)

FORUM, GROUP, ALICE = -1001000000001, -1001000000002, 1001
NOT_FOUND = "Bad Request: message to be replied not found"


@pytest.fixture
def groups(fake_api):
    fake_api.add_group(FORUM, "Astronomy", forum=True)
    fake_api.add_group(GROUP, "Stargazers")
    return fake_api


@pytest.mark.asyncio
async def test_a_message_in_a_topic_comes_from_its_user_with_the_topic(groups):
    update = groups.push_text(FORUM, "/cosmic", user_id=ALICE, thread_id=7)
    async with make_bot(groups) as bot:
        message = (await bot.get_updates(timeout=0))[0].message
    assert update["message"]["chat"] == {"id": FORUM, "type": "supergroup",
                                         "title": "Astronomy", "is_forum": True}
    assert message.from_user.id == ALICE and message.chat.is_forum
    assert message.message_thread_id == 7 and message.is_topic_message


@pytest.mark.asyncio
async def test_sends_to_a_topic_echo_it_and_unknown_topics_fail(groups):
    groups.add_topic(FORUM, 7)
    async with make_bot(groups) as bot:
        text = await bot.send_message(FORUM, "hi", message_thread_id=7)
        photo = await bot.send_photo(FORUM, png(20, 20), message_thread_id=7)
        general = await bot.send_message(FORUM, "general")
        plain = await bot.send_message(GROUP, "no topics here", message_thread_id=7)
        with pytest.raises(BadRequest, match="Message thread not found"):
            await bot.send_message(FORUM, "lost", message_thread_id=8)
    assert (text.message_thread_id, text.is_topic_message) == (7, True)
    assert photo.message_thread_id == 7
    assert general.message_thread_id is None and not general.is_topic_message
    assert plain.message_thread_id is None  # only forums have topics


@pytest.mark.asyncio
async def test_a_reply_quotes_its_message_unless_that_was_deleted(groups):
    asked = groups.push_text(GROUP, "/help", user_id=ALICE)["message"]["message_id"]
    async with make_bot(groups) as bot:
        reply = await bot.send_message(GROUP, "help", reply_parameters=ReplyParameters(asked))
        assert reply.reply_to_message.message_id == asked
        assert reply.reply_to_message.from_user.id == ALICE
        groups.delete_message(GROUP, asked)
        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_message(GROUP, "help", reply_parameters=ReplyParameters(asked))
        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_photo(GROUP, png(20, 20), reply_parameters=ReplyParameters(asked))
        anyway = await bot.send_message(GROUP, "help", reply_parameters=ReplyParameters(
            asked, allow_sending_without_reply=True))
    assert anyway.reply_to_message is None
    response = await raw(groups, "sendMessage", data={
        "chat_id": str(GROUP), "text": "x", "reply_to_message_id": str(asked)})
    assert response.status_code == 400 and response.json() == error_body(400, NOT_FOUND)


@pytest.mark.asyncio
async def test_a_press_in_a_group_comes_from_its_user_on_the_bot_message(groups):
    async with make_bot(groups) as bot:
        sent = await bot.send_message(GROUP, "pick", reply_markup=None)
        groups.push_callback(GROUP, "cosmic", user_id=ALICE)
        query = (await bot.get_updates(timeout=0))[0].callback_query
    assert query.from_user.id == ALICE
    assert query.message.message_id == sent.message_id and query.message.chat.id == GROUP


BASIC, UPGRADED, BOB = -4000000001, -1004000000001, 1002


@pytest.mark.asyncio
async def test_chat_members_have_the_status_they_were_given(groups):
    groups.set_member_status(GROUP, ALICE, "administrator")
    groups.set_member_status(FORUM, ALICE, "creator")
    others = {2001: "restricted", 2002: "left", 2003: "kicked"}
    for user_id, status in others.items():
        groups.set_member_status(GROUP, user_id, status)
    async with make_bot(groups) as bot:
        admin = await bot.get_chat_member(GROUP, ALICE)
        owner = await bot.get_chat_member(FORUM, ALICE)
        member = await bot.get_chat_member(GROUP, BOB)
        restricted, left, kicked = [await bot.get_chat_member(GROUP, user) for user in others]
    assert (admin.status, owner.status, member.status) == ("administrator", "creator", "member")
    assert admin.user.id == ALICE and admin.can_manage_chat
    assert [m.status for m in (restricted, left, kicked)] == list(others.values())
    assert restricted.is_member and not restricted.can_send_messages


@pytest.mark.asyncio
async def test_an_upgraded_group_refuses_sends_with_the_new_id_and_says_so(groups):
    groups.add_group(BASIC, "Old friends", kind="group")
    groups.set_member_status(BASIC, ALICE, "creator")
    groups.upgrade_group(BASIC, UPGRADED, user_id=ALICE)
    async with make_bot(groups) as bot:
        updates = await bot.get_updates(timeout=0)
        with pytest.raises(ChatMigrated) as migrated:
            await bot.send_message(BASIC, "hello?")
        sent = await bot.send_message(UPGRADED, "hello")
        owner = await bot.get_chat_member(UPGRADED, ALICE)
    assert migrated.value.new_chat_id == UPGRADED
    assert [u.message.migrate_to_chat_id for u in updates] == [UPGRADED, None]
    assert [u.message.migrate_from_chat_id for u in updates] == [None, BASIC]
    assert updates[0].message.chat.type == "group" and sent.chat.type == "supergroup"
    assert owner.status == "creator"
    response = await raw(groups, "sendMessage", json={"chat_id": BASIC, "text": "x"})
    assert response.status_code == 400
    assert response.json() == {
        **error_body(400, "Bad Request: group chat was upgraded to a supergroup chat"),
        "parameters": {"migrate_to_chat_id": UPGRADED}}
