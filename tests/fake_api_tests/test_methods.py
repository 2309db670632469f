"""The fake Bot API answers each method like Telegram, driven through a real telegram.Bot."""

import json

import httpx
import pytest
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from tests.fake_api_tests.client import KEYBOARD, OTHER, TOKEN, error_body, make_bot, png, raw
from tests.fakebotapi import methods

WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"

pytestmark = pytest.mark.timeout(30)


# ---- basics -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_get_me_describes_each_registered_bot(fake_api):
    async with make_bot(fake_api) as bot, make_bot(fake_api, OTHER) as other:
        assert bot.bot.id == 123456789
        assert bot.bot.is_bot and bot.bot.username == "cosmo_test_bot"
        assert bot.bot.can_join_groups is True
        assert bot.bot.can_read_all_group_messages is False
        assert bot.bot.supports_inline_queries is True
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
    # No Bot API method has that name: the oracle says so for each call.
    assert [(v.method, v.problem) for v in fake_api.take_violations()] == [
        ("sendTelepathy", "no such Bot API method")] * 2


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
@pytest.mark.parametrize(("keyboard", "description"), [
    ({"inline_keyboard": "Next"}, methods.KEYBOARD_NOT_ROWS),
    ({"inline_keyboard": [{"text": "Next"}]}, methods.KEYBOARD_NOT_ROWS),
    ({"inline_keyboard": [["Next"]]}, methods.BUTTON_NOT_OBJECT),
])
async def test_an_inline_keyboard_of_the_wrong_shape_is_refused(fake_api, keyboard, description):
    response = await raw(fake_api, "sendMessage",
                         json={"chat_id": 5, "text": "hi", "reply_markup": keyboard})
    assert response.json() == error_body(400, description)
    assert fake_api.sent_to(5) == []
    assert fake_api.take_violations()  # aiogram's model of the Bot API refuses it too


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
