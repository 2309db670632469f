"""The oracle catches what Telegram would refuse or never answer, and lets the real bot pass."""

import httpx
import pytest

from tests.botrunner import BotThread, bot_settings, photos
from tests.factories import make_assets
from tests.fake_api_tests.client import TOKEN, error_body, make_bot, png, raw
from tests.fakebotapi import FakeBotApi, methods
from tests.fakebotapi.apimodel import MISSING
from tests.fakebotapi.oracle import Oracle

pytestmark = pytest.mark.timeout(60)

ADA = {"id": 1001, "is_bot": False, "first_name": "Ada"}
BOT = {"id": 123456789, "is_bot": True, "first_name": "Cosmo Test", "username": "cosmo_test_bot"}
MESSAGE = {"message_id": 1, "from": BOT, "date": 1767225600,
           "chat": {"id": 1001, "type": "private", "first_name": "Ada"}, "text": "hi"}


def found(violations) -> list[tuple]:
    return [(v.method, v.part, v.field, v.value) for v in violations]


# ---- requests the Bot API does not accept ------------------------------------------------------


@pytest.mark.asyncio
async def test_a_parameter_of_the_wrong_type_is_a_violation(fake_api):
    async with make_bot(fake_api) as bot:
        await bot.send_message(5, "hi", api_kwargs={"disable_notification": "perhaps"})
    (violation,) = fake_api.take_violations()
    assert found([violation]) == [("sendMessage", "request", "disable_notification", "perhaps")]
    assert "valid boolean" in violation.problem
    assert str(violation).startswith("sendMessage request: disable_notification = 'perhaps': ")


@pytest.mark.asyncio
async def test_a_json_parameter_of_the_wrong_shape_is_a_violation(fake_api):
    response = await raw(fake_api, "sendMessage", data={
        "chat_id": "5", "text": "hi", "reply_markup": '{"inline_keyboard": "Next"}'})
    assert response.json() == error_body(400, methods.KEYBOARD_NOT_ROWS)
    violations = fake_api.take_violations()
    assert {(v.method, v.part) for v in violations} == {("sendMessage", "request")}
    assert all(v.field.startswith("reply_markup") for v in violations)
    assert "Next" in [v.value for v in violations]


@pytest.mark.asyncio
async def test_a_missing_required_parameter_is_a_violation(fake_api):
    response = await raw(fake_api, "sendPhoto", files={"photo": ("p.png", png(20, 20))})
    assert response.json() == error_body(400, "Bad Request: chat_id is empty")
    (violation,) = fake_api.take_violations()
    assert (violation.method, violation.field, violation.problem) == (
        "sendPhoto", "chat_id", "Field required")
    assert "chat_id = (missing): Field required" in str(violation)


@pytest.mark.asyncio
async def test_an_unknown_parameter_is_a_violation(fake_api):
    # Telegram ignores a parameter it does not know, so a misspelt one would go unnoticed.
    async with make_bot(fake_api) as bot:
        await bot.send_photo(5, png(20, 20), api_kwargs={"captoin": "Moon"})
    assert found(fake_api.take_violations()) == [("sendPhoto", "request", "captoin", "Moon")]


@pytest.mark.asyncio
async def test_uploads_count_by_their_part_or_attach_name(fake_api):
    attached = await raw(fake_api, "sendPhoto", data={"chat_id": "5", "photo": "attach://pic"},
                         files={"pic": ("p.png", png(20, 20))})
    assert attached.status_code == 200 and fake_api.violations() == []
    await raw(fake_api, "sendPhoto", data={"chat_id": "5"},
              files={"picture": ("p.png", png(20, 20))})
    assert found(fake_api.take_violations()) == [
        ("sendPhoto", "request", "picture", "p.png"),
        ("sendPhoto", "request", "photo", MISSING),
    ]


def test_form_fields_are_read_by_the_parameters_type_as_telegram_reads_them():
    oracle = Oracle()
    oracle.check_request("sendMessage", {
        "chat_id": "5", "text": "[1]", "disable_notification": "true", "message_thread_id": "7",
        "reply_markup": '{"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}'}, {})
    assert oracle.violations() == []


# ---- answers Telegram never gives --------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_answer_of_the_wrong_shape_is_a_violation(fake_api, monkeypatch):
    monkeypatch.setitem(methods.MEMBER_FIELDS, "administrator", {"is_anonymous": False})
    fake_api.add_group(-100123, "Stargazers")
    fake_api.set_member_status(-100123, 1001, "administrator")
    response = await raw(fake_api, "getChatMember",
                         data={"chat_id": "-100123", "user_id": "1001"})
    assert response.json()["result"]["status"] == "administrator"
    violations = fake_api.take_violations()
    assert {(v.method, v.part, v.problem) for v in violations} == {
        ("getChatMember", "answer", "Field required")}
    assert "result.ChatMemberAdministrator.can_be_edited" in {v.field for v in violations}


ANSWERS = {
    "a string for an integer": (
        "sendMessage", 200, {"ok": True, "result": {**MESSAGE, "message_id": "1"}},
        "result.message_id", "a str where Telegram sends an integer"),
    "null for a field left out": (
        "sendMessage", 200, {"ok": True, "result": {**MESSAGE, "caption": None}},
        "result.caption", "null, which Telegram never sends: it leaves the field out"),
    "a field by aiogram's name": (
        "getUpdates", 200, {"ok": True, "result": [{"update_id": 1, "callback_query": {
            "id": "7", "from_user": ADA, "chat_instance": "1", "data": "cosmic"}}]},
        "result[0].callback_query.from", "Field required"),
    "a field Telegram does not have": (
        "sendMessage", 200, {"ok": True, "result": {**MESSAGE, "sender": ADA}},
        "result.sender", "no field of Message in the Bot API"),
    "a date that is no Unix time": (
        "sendMessage", 200, {"ok": True, "result": {**MESSAGE, "date": "2026-01-01T00:00:00"}},
        "result.date", "a str where Telegram sends Unix time, an integer"),
    "a ChatMember without its status": (
        "getChatMember", 200, {"ok": True, "result": {"user": ADA}},
        "result.status", "the Bot API requires this tag"),
    "a bool where a Message is due": (
        "sendPhoto", 200, {"ok": True, "result": True}, "result", "Input should be"),
    "a key outside the envelope": (
        "getMe", 200, {"ok": True, "result": BOT, "error_code": 0}, "error_code",
        "no field of Telegram's answer"),
    "a success that is no HTTP 200": (
        "getMe", 201, {"ok": True, "result": BOT}, "status", "a successful answer is HTTP 200"),
    "an error code unlike the status": (
        "sendMessage", 400, {"ok": False, "error_code": 403, "description": "Forbidden: x"},
        "error_code", "not the HTTP status 400"),
    "a description unlike Telegram's": (
        "sendMessage", 403, {"ok": False, "error_code": 403, "description": "bot was blocked"},
        "description", "Telegram's 403 says 'Forbidden'"),
    "a 429 with no retry_after": (
        "sendMessage", 429, {"ok": False, "error_code": 429, "description": "Too Many Requests"},
        "parameters.retry_after", "a 429 always carries retry_after"),
    "a 429 that says another wait": (
        "sendMessage", 429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 5},
                             "description": "Too Many Requests: retry after 3"},
        "description", "a 429 says 'Too Many Requests: retry after 5'"),
    "an unknown response parameter": (
        "sendMessage", 400, {"ok": False, "error_code": 400, "description": "Bad Request: x",
                             "parameters": {"retry_in": 5}},
        "parameters.retry_in", "no field of ResponseParameters in the Bot API"),
}


@pytest.mark.parametrize("case", ANSWERS)
def test_answers_telegram_never_gives_are_violations(case):
    method, status, body, field, problem = ANSWERS[case]
    oracle = Oracle()
    oracle.check_answer(method, status, body)
    assert [(v.method, v.part, v.field) for v in oracle.violations()][:1] == [
        (method, "answer", field)]
    assert problem in oracle.violations()[0].problem


@pytest.mark.parametrize(("method", "status", "body"), [
    ("sendMessage", 200, {"ok": True, "result": MESSAGE}),
    ("getUpdates", 200, {"ok": True, "result": [{"update_id": 7, "message": MESSAGE}]}),
    ("getChatMember", 200, {"ok": True, "result": {"status": "left", "user": ADA}}),
    ("editMessageCaption", 200, {"ok": True, "result": True}),
    ("deleteWebhook", 200, {"ok": True, "result": True, "description": "Webhook is deleted"}),
    ("sendMessage", 429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 3},
                          "description": "Too Many Requests: retry after 3"}),
    ("sendMessage", 400, {"ok": False, "error_code": 400, "parameters": {
        "migrate_to_chat_id": -1001}, "description": "Bad Request: group chat was upgraded"}),
    ("getMe", 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}),
])
def test_answers_as_telegram_gives_them_pass(method, status, body):
    oracle = Oracle()
    oracle.check_answer(method, status, body)
    assert oracle.violations() == []


# ---- how a violation fails the test ------------------------------------------------------------


def bad_send(fake: FakeBotApi) -> None:
    httpx.post(f"{fake.base_url}{TOKEN}/sendMessage", verify=False,
               data={"chat_id": "5", "text": "hi", "disable_notification": "perhaps"})


def test_leaving_a_fake_with_violations_fails_naming_method_field_and_value():
    with pytest.raises(AssertionError) as caught:
        with FakeBotApi([TOKEN]) as fake:
            bad_send(fake)
    assert "sendMessage request: disable_notification = 'perhaps': " in str(caught.value)


def test_a_failing_test_keeps_its_error_and_is_told_of_the_violations():
    with pytest.raises(KeyError) as caught:
        with FakeBotApi([TOKEN]) as fake:
            bad_send(fake)
            raise KeyError("the test's own failure")
    assert "disable_notification = 'perhaps'" in "\n".join(caught.value.__notes__)


def test_an_oracle_that_fails_itself_is_a_violation_and_the_fake_still_answers(monkeypatch):
    def broken(*args):
        raise RuntimeError("oracle bug")

    monkeypatch.setattr("tests.fakebotapi.apimodel.request_problems", broken)
    with FakeBotApi([TOKEN]) as fake:
        bad_send(fake)
        assert fake.sent_to(5)[0]["text"] == "hi"
        (violation,) = fake.take_violations()
    assert (violation.field, violation.problem) == ("(oracle)", "the check itself failed")


# ---- the real bot's traffic --------------------------------------------------------------------


def test_the_real_bots_traffic_passes_the_oracle(fake_api, tmp_path):
    group = -1001234567890
    fake_api.add_group(group, "Stargazers")
    fake_api.set_member_status(group, 1001, "administrator")
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets"))
    with BotThread(settings, fake_api):
        fake_api.push_text(1001, "/start")
        fake_api.push_text(1001, "/cosmic")
        first = fake_api.wait_until(lambda: photos(fake_api, 1001))[0]
        fake_api.push_callback(1001, "cosmic", message_id=first["message_id"])
        fake_api.wait_until(lambda: len(photos(fake_api, 1001)) == 2)
        fake_api.push_inline_query(1001, "orion")
        fake_api.push_text(group, "/daily 07:30", user_id=1001)
        fake_api.wait_until(lambda: fake_api.sent_to(group) and fake_api.calls(
            "answerInlineQuery"))
    served = {call.method for call in fake_api.calls()}
    assert {"getMe", "getUpdates", "setMyCommands", "sendMessage", "sendPhoto",
            "sendChatAction", "answerCallbackQuery", "answerInlineQuery",
            "getChatMember"} <= served
    assert fake_api.file_id_sends() and fake_api.uploads()
    assert fake_api.violations() == []
