"""Tests that the fake Bot API answers like Telegram, driven through a real telegram.Bot."""

import asyncio
import io
import json
import os
import threading
import time

import httpx
import pytest
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import Application, CommandHandler
from telegram.request import HTTPXRequest

from tests.fakebotapi import FakeBotApi

pytestmark = pytest.mark.timeout(30)

TOKEN = "123456789:AAHfakeTestTokenForCosmobot0000000000"
OTHER = "987654321:AAHfakeTestTokenForCosmobot1111111111"
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"


@pytest.fixture
def fake_api():
    with FakeBotApi([TOKEN, OTHER]) as fake:
        yield fake


def fast_request() -> HTTPXRequest:
    # The fake speaks plain HTTP, so skip loading CA certificates (~50 ms per client).
    return HTTPXRequest(httpx_kwargs={"verify": False})


def make_bot(fake: FakeBotApi, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=fake.base_url, request=fast_request(),
               get_updates_request=fast_request())


def png(width: int, height: int, noise: bool = False) -> bytes:
    image = (Image.frombytes("L", (width, height), os.urandom(width * height)) if noise
             else Image.new("L", (width, height), 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


async def raw(fake: FakeBotApi, method: str, token: str = TOKEN, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(verify=False) as client:
        return await client.post(f"{fake.base_url}{token}/{method}", **kwargs)


def error_body(status: int, description: str) -> dict:
    return {"ok": False, "error_code": status, "description": description}


# ---- basics -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_me_describes_each_registered_bot(fake_api):
    async with make_bot(fake_api) as bot, make_bot(fake_api, OTHER) as other:
        assert bot.bot.id == 123456789
        assert bot.bot.is_bot and bot.bot.username == "cosmo_test_bot"
        assert bot.bot.can_join_groups is True
        assert bot.bot.can_read_all_group_messages is False
        assert bot.bot.supports_inline_queries is False
        assert other.bot.id == 987654321 and other.bot.username != bot.bot.username


@pytest.mark.asyncio
async def test_wrong_token_is_401_unauthorized(fake_api):
    response = await raw(fake_api, "getMe", token="111:wrong")
    assert response.status_code == 401
    assert response.json() == error_body(401, "Unauthorized")
    with pytest.raises(InvalidToken):
        async with make_bot(fake_api, "111:wrong"):
            pass


@pytest.mark.asyncio
async def test_unknown_method_is_404_not_found(fake_api):
    response = await raw(fake_api, "sendTelepathy", data={"chat_id": "1"})
    assert response.status_code == 404
    assert response.json() == error_body(404, "Not Found")
    async with make_bot(fake_api) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


@pytest.mark.asyncio
async def test_accepts_form_json_multipart_and_query_string(fake_api):
    markup = KEYBOARD.to_dict()
    url = f"{fake_api.base_url}{TOKEN}/sendMessage"
    async with httpx.AsyncClient(verify=False) as client:
        answers = [
            await client.post(url, data={"chat_id": "5", "text": "form",
                                         "reply_markup": json.dumps(markup)}),
            await client.post(url, json={"chat_id": 5, "text": "json", "reply_markup": markup}),
            await client.get(url, params={"chat_id": "5", "text": "query"}),
            await client.post(f"{fake_api.base_url}{TOKEN}/SENDMESSAGE",
                              data={"chat_id": "5", "text": "any case"}),
            await client.post(f"{fake_api.base_url}{TOKEN}/sendPhoto", data={"chat_id": "5"},
                              files={"photo": ("a.png", png(40, 30), "image/png")}),
        ]
    assert [a.status_code for a in answers] == [200] * 5
    assert all(a.json()["ok"] is True for a in answers)
    calls = fake_api.calls()
    assert [c.method for c in calls] == ["sendMessage"] * 4 + ["sendPhoto"]
    assert all(c.params["chat_id"] == 5 for c in calls)
    assert calls[0].params["reply_markup"] == markup == calls[1].params["reply_markup"]
    assert calls[4].file_bytes and calls[4].filename == "a.png"


# ---- sendMessage --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_send_message_returns_a_message_from_the_bot(fake_api):
    async with make_bot(fake_api) as bot:
        first = await bot.send_message(42, "<b>hi</b>", parse_mode="HTML", reply_markup=KEYBOARD)
        second = await bot.send_message(42, "again")
    assert first.text == "<b>hi</b>" and first.reply_markup == KEYBOARD
    assert first.chat.id == 42 and first.chat.type == "private" and first.chat.first_name
    assert first.from_user.id == 123456789 and first.from_user.is_bot
    assert first.from_user.username == "cosmo_test_bot"
    assert second.message_id > first.message_id
    call = fake_api.calls("sendMessage")[0]
    assert call.params["parse_mode"] == "HTML" and call.token == TOKEN
    assert call.params["reply_markup"] == KEYBOARD.to_dict()
    assert [m["text"] for m in fake_api.sent_to(42)] == ["<b>hi</b>", "again"]
    assert fake_api.sent_to(43) == []


@pytest.mark.asyncio
@pytest.mark.parametrize(("text", "description"), [
    ("", "Bad Request: message text is empty"),
    ("   ", "Bad Request: message text is empty"),
    ("x" * 4097, "Bad Request: message is too long"),
])
async def test_send_message_rejects_bad_text(fake_api, text, description):
    response = await raw(fake_api, "sendMessage", data={"chat_id": "1", "text": text})
    assert response.status_code == 400
    assert response.json() == error_body(400, description)
    async with make_bot(fake_api) as bot:
        with pytest.raises(BadRequest):
            await bot.send_message(1, text)
        assert (await bot.send_message(1, "x" * 4096)).text == "x" * 4096


@pytest.mark.asyncio
async def test_blocked_chat_is_403_forbidden(fake_api):
    fake_api.block(42)
    response = await raw(fake_api, "sendMessage", data={"chat_id": "42", "text": "hi"})
    assert response.status_code == 403
    assert response.json() == error_body(403, "Forbidden: bot was blocked by the user")
    async with make_bot(fake_api) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_photo(42, png(20, 20))
        with pytest.raises(Forbidden):
            await bot.send_chat_action(42, "upload_photo")
        assert (await bot.send_message(43, "still fine")).chat.id == 43
    assert fake_api.sent_to(42) == []


@pytest.mark.asyncio
async def test_strict_chats_answer_chat_not_found_until_the_chat_is_known(fake_api):
    fake_api.strict_chats = True
    response = await raw(fake_api, "sendMessage", data={"chat_id": "77", "text": "hi"})
    assert response.json() == error_body(400, "Bad Request: chat not found")
    fake_api.push_text(77, "hello")
    fake_api.add_chat(78)
    async with make_bot(fake_api) as bot:
        assert (await bot.send_message(77, "hi")).chat.id == 77
        assert (await bot.send_message(78, "hi")).chat.id == 78
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(79, "hi")


# ---- sendPhoto ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_upload_mints_three_sizes_reusable_by_file_id(fake_api):
    data = png(1000, 500)
    async with make_bot(fake_api) as bot:
        sent = await bot.send_photo(42, data, caption="Moon", reply_markup=KEYBOARD)
        sizes = sent.photo
        assert [(s.width, s.height) for s in sizes] == [(90, 45), (320, 160), (1000, 500)]
        assert sizes[0].file_size < sizes[1].file_size < sizes[2].file_size == len(data)
        assert len({s.file_id for s in sizes}) == 3 and len({s.file_unique_id for s in sizes}) == 3
        for size in sizes:
            assert size.file_id.startswith("AgACAgIAAxkBAA") and len(size.file_id) == 80
            assert size.file_unique_id.startswith("AQAD") and len(size.file_unique_id) == 16
        assert sent.caption == "Moon" and sent.reply_markup == KEYBOARD
        again = await bot.send_photo(43, sizes[-1].file_id, caption="Again")
    assert [s.file_id for s in again.photo] == [s.file_id for s in sizes]
    assert [c.file_bytes for c in fake_api.uploads()] == [data]
    assert [c.params["photo"] for c in fake_api.file_id_sends()] == [sizes[-1].file_id]
    assert fake_api.sent_to(43)[0]["caption"] == "Again"


@pytest.mark.asyncio
async def test_file_ids_are_bound_to_the_uploading_bot(fake_api):
    async with make_bot(fake_api) as bot, make_bot(fake_api, OTHER) as other:
        file_id = (await bot.send_photo(42, png(50, 50))).photo[-1].file_id
        with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
            await other.send_photo(42, file_id)
    response = await raw(fake_api, "sendPhoto", token=OTHER,
                         data={"chat_id": "42", "photo": file_id})
    assert response.json() == error_body(400, WRONG_FILE_ID)


@pytest.mark.asyncio
@pytest.mark.parametrize(("photo", "description"), [
    ("AgACAgIAAxkBAAunknown", WRONG_FILE_ID),
    ("https://example.invalid/moon.jpg", "Bad Request: failed to get HTTP URL content"),
    ("http://example.invalid/moon.jpg", "Bad Request: failed to get HTTP URL content"),
])
async def test_unknown_string_photos_are_rejected(fake_api, photo, description):
    response = await raw(fake_api, "sendPhoto", data={"chat_id": "1", "photo": photo})
    assert response.status_code == 400
    assert response.json() == error_body(400, description)


@pytest.mark.asyncio
async def test_revoked_file_ids_are_rejected(fake_api):
    async with make_bot(fake_api) as bot:
        first = (await bot.send_photo(42, png(50, 50))).photo[-1].file_id
        second = (await bot.send_photo(42, png(60, 60))).photo[-1].file_id
        fake_api.revoke(first)
        with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
            await bot.send_photo(42, first)
        assert (await bot.send_photo(42, second)).photo[-1].file_id == second
        fake_api.revoke_all()
        with pytest.raises(BadRequest, match="(?i)wrong file identifier"):
            await bot.send_photo(42, second)
        fresh = (await bot.send_photo(42, png(70, 70))).photo[-1].file_id
        assert (await bot.send_photo(42, fresh)).photo[-1].file_id == fresh


TOO_BIG = 10 * 1024 * 1024 + 1
BAD_UPLOADS = {
    "not an image": (lambda: b"definitely not an image", "Bad Request: IMAGE_PROCESS_FAILED"),
    "truncated": (lambda: png(300, 300)[:200], "Bad Request: IMAGE_PROCESS_FAILED"),
    "sides over 10000": (lambda: png(9000, 1001), "Bad Request: PHOTO_INVALID_DIMENSIONS"),
    "ratio over 20": (lambda: png(2100, 100), "Bad Request: PHOTO_INVALID_DIMENSIONS"),
    "over 10 MB": (lambda: b"\0" * TOO_BIG, (
        f"Bad Request: file of size {TOO_BIG} bytes is too big for a photo; "
        "the maximum size is 10485760 bytes")),
}


@pytest.mark.asyncio
@pytest.mark.parametrize("case", BAD_UPLOADS)
async def test_bad_uploads_are_rejected(fake_api, case):
    make, description = BAD_UPLOADS[case]
    response = await raw(fake_api, "sendPhoto", data={"chat_id": "1"},
                         files={"photo": ("p.png", make(), "image/png")})
    assert response.status_code == 400
    assert response.json() == error_body(400, description)
    assert fake_api.sent_to(1) == []


@pytest.mark.asyncio
async def test_upload_limits_are_inclusive(fake_api):
    async with make_bot(fake_api) as bot:
        assert (await bot.send_photo(1, png(2000, 100))).photo[-1].width == 2000
        assert (await bot.send_photo(1, png(9000, 1000))).photo[-1].height == 1000
        with pytest.raises(BadRequest, match="Image_process_failed"):
            await bot.send_photo(1, b"garbage")


@pytest.mark.asyncio
async def test_caption_longer_than_1024_is_rejected(fake_api):
    response = await raw(fake_api, "sendPhoto", data={"chat_id": "1", "caption": "c" * 1025},
                         files={"photo": ("p.png", png(20, 20), "image/png")})
    assert response.json() == error_body(400, "Bad Request: message caption is too long")
    async with make_bot(fake_api) as bot:
        assert (await bot.send_photo(1, png(20, 20), caption="c" * 1024)).caption == "c" * 1024


# ---- failure injection --------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limit_is_429_with_retry_after(fake_api):
    fake_api.fail_next("sendMessage", status=429, retry_after=7)
    response = await raw(fake_api, "sendMessage", data={"chat_id": "1", "text": "hi"})
    assert response.status_code == 429
    assert response.json() == {**error_body(429, "Too Many Requests: retry after 7"),
                               "parameters": {"retry_after": 7}}
    fake_api.fail_next("sendMessage", status=429, retry_after=7)
    async with make_bot(fake_api) as bot:
        with pytest.raises(RetryAfter, match="7"):
            await bot.send_message(1, "hi")
        assert (await bot.send_message(1, "hi")).text == "hi"


@pytest.mark.asyncio
@pytest.mark.parametrize(("status", "description"), [
    (500, "Internal Server Error"), (502, "Bad Gateway"),
])
async def test_server_errors_become_network_errors(fake_api, status, description):
    fake_api.fail_next("sendPhoto", status=status, description=description, times=2)
    response = await raw(fake_api, "sendPhoto", data={"chat_id": "1", "photo": "x"})
    assert response.status_code == status
    assert response.json() == error_body(status, description)
    async with make_bot(fake_api) as bot:
        with pytest.raises(NetworkError) as caught:
            await bot.send_photo(1, png(20, 20))
        assert type(caught.value) is NetworkError and description in str(caught.value)
        assert (await bot.send_photo(1, png(20, 20))).photo
    assert [c.status for c in fake_api.calls("sendPhoto")] == [status, status, 200]


@pytest.mark.asyncio
async def test_dropped_connection_is_a_network_error(fake_api):
    fake_api.drop_next("sendMessage")
    async with make_bot(fake_api) as bot:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(1, "lost")
        assert type(caught.value) is NetworkError
        assert (await bot.send_message(1, "kept")).text == "kept"
    assert [c.status for c in fake_api.calls("sendMessage")] == [None, 200]
    assert [m["text"] for m in fake_api.sent_to(1)] == ["kept"]


@pytest.mark.asyncio
async def test_conflict_flag_makes_get_updates_409(fake_api):
    fake_api.conflict = True
    response = await raw(fake_api, "getUpdates")
    assert response.status_code == 409
    assert response.json() == error_body(409, (
        "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running"))
    async with make_bot(fake_api) as bot:
        with pytest.raises(Conflict):
            await bot.get_updates(timeout=0)
        fake_api.conflict = False
        assert await bot.get_updates(timeout=0) == ()


@pytest.mark.asyncio
async def test_upload_bandwidth_and_latency_delay_responses(fake_api):
    data = png(300, 300, noise=True)
    fake_api.upload_bandwidth = len(data) / 0.4
    async with make_bot(fake_api) as bot:
        started = time.monotonic()
        file_id = (await bot.send_photo(1, data)).photo[-1].file_id
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        await bot.send_photo(1, file_id)
        assert time.monotonic() - started < 0.3
        fake_api.latency = 0.3
        started = time.monotonic()
        await bot.send_message(1, "slow")
        assert time.monotonic() - started >= 0.3


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


# ---- settings -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_commands_round_trip_and_validation(fake_api):
    async with make_bot(fake_api) as bot:
        assert await bot.set_my_commands([("start", "Begin"), ("apod", "Picture")]) is True
        assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
            ("start", "Begin"), ("apod", "Picture")]
        with pytest.raises(BadRequest):
            await bot.set_my_commands([("Start", "Upper case is invalid")])
    assert fake_api.calls("setMyCommands")[0].params["commands"][0]["command"] == "start"
    assert [c["command"] for c in fake_api.commands()] == ["start", "apod"]
    assert fake_api.commands(OTHER) == []


@pytest.mark.asyncio
async def test_housekeeping_methods_answer_true(fake_api):
    async with make_bot(fake_api) as bot:
        assert await bot.delete_webhook() is True
        assert await bot.set_my_description("d") is True
        assert await bot.set_my_short_description("s") is True
        assert await bot.set_chat_menu_button() is True
        assert await bot.send_chat_action(1, "upload_photo") is True
        assert await bot.log_out() is True
        assert await bot.close() is True


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
