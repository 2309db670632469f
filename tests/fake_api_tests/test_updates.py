"""Updates and long polls of the fake Bot API, and waiting on it from tests and threads."""

import asyncio
import threading
import time

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict
from telegram.ext import Application, CommandHandler

from tests.fake_api_tests.client import KEYBOARD, OTHER, TOKEN, error_body, make_bot, png, raw
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi.errors import CONFLICT

pytestmark = pytest.mark.timeout(30)


# ---- updates ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_push_text_queues_a_command_update(fake_api):
    pushed = fake_api.push_text(42, "/start promo", language_code="de", first_name="Grace")
    async with make_bot(fake_api) as bot:
        (update,) = await bot.get_updates(timeout=0)
        assert update.update_id == pushed["update_id"]
        message = update.message
        assert message.text == "/start promo" and message.chat.type == "private"
        assert message.from_user.id == 42 and message.from_user.language_code == "de"
        assert message.from_user.first_name == "Grace" and not message.from_user.is_bot
        assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 6)]
        assert fake_api.push_text(42, "plain")["message"].get("entities") is None
        updates = await bot.get_updates(offset=update.update_id + 1, timeout=0)
        assert [u.message.text for u in updates] == ["plain"]
        assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
        assert await bot.get_updates(timeout=0) == ()  # confirmed updates are gone


@pytest.mark.asyncio
async def test_a_user_without_a_language_has_no_language_code(fake_api):
    fake_api.push_text(42, "hi", language_code=None)
    async with make_bot(fake_api) as bot:
        (update,) = await bot.get_updates(timeout=0)
    assert update.message.from_user.language_code is None
    assert "language_code" not in fake_api.calls("getUpdates")[0].result[0]["message"]["from"]


@pytest.mark.asyncio
async def test_get_updates_honours_limit_and_allowed_updates(fake_api):
    for text in ("one", "two", "three"):
        fake_api.push_text(5, text)
    fake_api.push_callback(5, "cb")
    async with make_bot(fake_api) as bot:
        assert [u.message.text for u in await bot.get_updates(limit=2, timeout=0)] == [
            "one", "two"]
        only = await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
        assert [u.callback_query.data for u in only] == ["cb"]


@pytest.mark.asyncio
async def test_updates_are_queued_per_token(fake_api):
    fake_api.push_text(5, "for the other bot", token=OTHER)
    async with make_bot(fake_api) as bot, make_bot(fake_api, OTHER) as other:
        assert await bot.get_updates(timeout=0) == ()
        assert [u.message.text for u in await other.get_updates(timeout=0)] == [
            "for the other bot"]


@pytest.mark.asyncio
async def test_long_poll_returns_as_soon_as_an_update_arrives(fake_api):
    async with make_bot(fake_api) as bot:
        threading.Timer(0.2, fake_api.push_text, args=(5, "late")).start()
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        elapsed = time.monotonic() - started
    assert [u.message.text for u in updates] == ["late"]
    assert 0.15 <= elapsed < 2


@pytest.mark.asyncio
async def test_long_poll_returns_empty_after_its_timeout(fake_api):
    async with make_bot(fake_api) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert 0.9 <= time.monotonic() - started < 3


async def _held_poll(fake: FakeBotApi, token: str = TOKEN) -> asyncio.Task:
    """A long poll the fake is holding (it holds a poll as it records it, with no latency)."""
    polls = len(fake.calls("getUpdates"))
    held = asyncio.create_task(raw(fake, "getUpdates", token, data={"timeout": "10"},
                                   timeout=30))
    await fake.await_until(lambda: len(fake.calls("getUpdates")) > polls)
    return held


@pytest.mark.asyncio
async def test_a_second_long_poll_ends_the_held_one_with_409(fake_api):
    held = await _held_poll(fake_api)
    async with make_bot(fake_api) as bot:
        second = asyncio.create_task(bot.get_updates(timeout=10))
        response = await asyncio.wait_for(held, 5)
        assert response.status_code == 409
        assert response.json() == error_body(409, CONFLICT)
        fake_api.push_text(5, "for the poller that is left")
        assert [u.message.text for u in await asyncio.wait_for(second, 5)] == [
            "for the poller that is left"]
    assert [c.status for c in fake_api.calls("getUpdates")] == [409, 200]


@pytest.mark.asyncio
async def test_the_real_client_of_the_ended_poll_sees_conflict(fake_api):
    async with make_bot(fake_api) as first:
        held = asyncio.create_task(first.get_updates(timeout=10))
        await fake_api.await_until(lambda: fake_api.calls("getUpdates"))
        assert await raw(fake_api, "getUpdates", data={"timeout": "0"})
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(held, 5)


@pytest.mark.asyncio
async def test_polls_of_other_bots_and_polls_one_after_another_do_not_conflict(fake_api):
    held = await _held_poll(fake_api)
    async with make_bot(fake_api, OTHER) as other:
        assert await other.get_updates(timeout=0) == ()
    fake_api.push_text(5, "still held")
    response = await asyncio.wait_for(held, 5)
    assert [u["message"]["text"] for u in response.json()["result"]] == ["still held"]
    async with make_bot(fake_api) as bot:
        assert await bot.get_updates(timeout=0, offset=response.json()["result"][0][
            "update_id"] + 1) == ()
    assert [c.status for c in fake_api.calls("getUpdates")] == [200, 200, 200]


@pytest.mark.asyncio
async def test_stop_answers_a_pending_long_poll(fake_api):
    async with make_bot(fake_api) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        await fake_api.await_until(lambda: fake_api.calls("getUpdates"))
        started = time.monotonic()
        await asyncio.to_thread(fake_api.stop)
        assert await poll == ()
        assert time.monotonic() - started < 3


@pytest.mark.asyncio
async def test_callback_query_and_message_edits(fake_api):
    async with make_bot(fake_api) as bot:
        sent = await bot.send_message(42, "Pick one", reply_markup=KEYBOARD)
        pushed = fake_api.push_callback(42, "next")
        (update,) = await bot.get_updates(timeout=0)
        query = update.callback_query
        assert update.update_id == pushed["update_id"] and query.data == "next"
        assert query.from_user.id == 42 and query.chat_instance and query.id
        assert query.message.message_id == sent.message_id and query.message.from_user.is_bot
        assert await bot.answer_callback_query(query.id) is True
        other = InlineKeyboardMarkup([[InlineKeyboardButton("Back", callback_data="back")]])
        edited = await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=other)
        assert edited.reply_markup == other and edited.edit_date is not None
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=other)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_reply_markup(42, 9999, reply_markup=other)
        photo = await bot.send_photo(42, png(20, 20), caption="old")
        edited = await bot.edit_message_caption(42, photo.message_id, caption="new")
        assert edited.caption == "new"
        assert await bot.edit_message_caption(inline_message_id="abc", caption="x") is True


@pytest.mark.asyncio
async def test_push_callback_can_name_a_message(fake_api):
    update = fake_api.push_callback(7, "more", message_id=31)
    assert update["callback_query"]["message"]["message_id"] == 31
    assert update["callback_query"]["message"]["from"]["is_bot"] is True
    async with make_bot(fake_api) as bot:
        (parsed,) = await bot.get_updates(timeout=0)
        assert isinstance(parsed, Update) and parsed.callback_query.message.chat.id == 7


# ---- waiting, threads and the real Application ---------------------------------------------------


def test_wait_until_returns_the_value_or_explains_the_timeout(fake_api):
    url = f"{fake_api.base_url}{TOKEN}/sendMessage"
    request = {"data": {"chat_id": "5", "text": "hi"}, "verify": False}
    threading.Timer(0.1, httpx.post, args=(url,), kwargs=request).start()
    assert fake_api.wait_until(lambda: fake_api.sent_to(5))[0]["text"] == "hi"
    with pytest.raises(AssertionError, match=r"(?s)not met within 0.05s.*sendMessage -> 200"):
        fake_api.wait_until(lambda: fake_api.sent_to(6), timeout=0.05)


@pytest.mark.asyncio
async def test_await_until_keeps_the_loop_running(fake_api):
    async with make_bot(fake_api) as bot:
        send = asyncio.create_task(bot.send_message(5, "async"))
        assert (await fake_api.await_until(lambda: fake_api.sent_to(5)))[0]["text"] == "async"
        await send
    with pytest.raises(AssertionError, match="not met within"):
        await fake_api.await_until(lambda: False, timeout=0.05)


def test_calls_from_many_threads_are_all_recorded(fake_api):
    def send_ten(chat_id: int) -> None:
        with httpx.Client(verify=False) as client:
            for n in range(10):
                client.post(f"{fake_api.base_url}{TOKEN}/sendMessage",
                            data={"chat_id": str(chat_id), "text": str(n)})

    threads = [threading.Thread(target=send_ten, args=(chat,)) for chat in (1, 1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_api.calls("sendMessage")) == 40
    assert sorted(m["message_id"] for m in fake_api.sent_to(1)) == list(range(1, 21))
    fake_api.reset_calls()
    assert fake_api.calls() == [] and fake_api.sent_to(1) == []


def test_base_url_needs_a_started_server():
    fake = FakeBotApi(TOKEN)
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    with fake:
        assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/bot")


@pytest.mark.asyncio
async def test_a_real_application_polls_and_replies(fake_api):
    async def start(update, context) -> None:
        await update.message.reply_text(f"Hello {update.effective_user.first_name}")

    app = Application.builder().token(TOKEN).base_url(fake_api.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=1)
        fake_api.push_text(42, "/start", first_name="Ada")
        replies = await fake_api.await_until(lambda: fake_api.sent_to(42), timeout=5)
        await app.updater.stop()
        await app.stop()
    assert [r["text"] for r in replies] == ["Hello Ada"]
    assert {"getMe", "deleteWebhook", "getUpdates"} <= {c.method for c in fake_api.calls()}
