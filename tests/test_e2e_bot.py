"""End to end: the real Application long-polls the fake Bot API over HTTP."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from cosmobot import sender
from cosmobot.bot import app
from cosmobot.images import assets
from cosmobot.schedule import jobs
from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import make_assets, seed_opening_with

ALICE, BORIS = 1001, 1002


@pytest.fixture
def settings(tmp_path, fake_api):
    return bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))


@pytest.fixture
def bot(settings, fake_api):
    with BotThread(settings, fake_api) as running:
        yield running


def test_start_greets_and_offers_a_button(bot, fake_api):
    fake_api.push_text(ALICE, "/start", first_name="Ada")
    message = fake_api.wait_until(lambda: fake_api.sent_to(ALICE))[0]
    assert message["text"].startswith("Hello, Ada!")
    button = message["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "Show me the cosmos", "callback_data": "cosmic"}


def test_help_lists_the_commands(bot, fake_api):
    fake_api.push_text(ALICE, "/help")
    reply = fake_api.wait_until(lambda: texts(fake_api, ALICE))[0]
    for command in ("/cosmic", "/start", "/help"):
        assert command in reply


def test_command_menu_is_set_at_startup_in_both_languages(bot, fake_api):
    fake_api.wait_until(lambda: fake_api.commands(language_code="ru"))
    assert [c["command"] for c in fake_api.commands()] == [
        "cosmic", "daily", "status", "stop", "start", "help"]
    russian = fake_api.commands(language_code="ru")
    assert russian[0]["description"] == "Случайное космическое изображение"


def test_two_cosmic_requests_make_one_upload(bot, fake_api):
    for expected in (1, 2):
        fake_api.push_text(ALICE, "/cosmic")
        fake_api.wait_until(lambda n=expected: len(photos(fake_api, ALICE)) == n)
    assert len(fake_api.uploads()) == 1
    assert len(fake_api.file_id_sends()) == 1
    first, second = photos(fake_api, ALICE)
    assert first["photo"][-1]["file_id"] == second["photo"][-1]["file_id"]
    button = second["reply_markup"]["inline_keyboard"][0][0]
    assert button == {"text": "Another one", "callback_data": "cosmic"}


def button_data(message: dict) -> str:
    return message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]


def test_another_one_button_sends_the_next_image(fake_api, settings):
    make_assets(settings.assets_dir, ("orion.jpg", "vela.jpg"))
    with BotThread(settings, fake_api):
        fake_api.push_text(ALICE, "/cosmic")
        fake_api.wait_until(lambda: photos(fake_api, ALICE))
        for pressed in range(1, 4):
            shown = photos(fake_api, ALICE)[-1]
            fake_api.push_callback(ALICE, button_data(shown), message_id=shown["message_id"])
            fake_api.wait_until(lambda n=pressed: len(photos(fake_api, ALICE)) == n + 1)
    assert len(fake_api.calls("answerCallbackQuery")) == 3
    captions = [message["caption"] for message in photos(fake_api, ALICE)]
    # "Another one" never repeats the image just shown when there is another: each round
    # shows both, and the next one opens with the other.
    assert sorted(captions[:2]) == sorted(captions[2:]) == ["Orion", "Vela"]
    assert captions[2] != captions[1]


@pytest.mark.parametrize("data", ["cosmic", "cosmic:0123abcd"])
def test_buttons_of_older_versions_still_send_an_image(bot, fake_api, data):
    fake_api.push_callback(ALICE, data)
    fake_api.wait_until(lambda: photos(fake_api, ALICE))


def test_no_chat_or_user_data_is_kept(bot, fake_api, settings):
    make_assets(settings.assets_dir, ("orion.jpg", "vela.jpg"))
    chats = range(3000, 3030)
    for chat_id in chats:
        fake_api.push_text(chat_id, "/cosmic")
        fake_api.push_text(chat_id, "/help")
    fake_api.wait_until(lambda: all(len(fake_api.sent_to(c)) == 2 for c in chats), timeout=30)
    for chat_id in chats:
        fake_api.push_callback(chat_id, button_data(photos(fake_api, chat_id)[-1]))
    fake_api.wait_until(lambda: all(len(photos(fake_api, c)) == 2 for c in chats), timeout=30)
    # Memory grows with the images, not with the users: nothing is kept per chat or user.
    assert not any(bot.application.chat_data.values()) and not bot.application.chat_data
    assert not any(bot.application.user_data.values()) and not bot.application.user_data


def test_revoked_file_id_is_recovered_with_one_upload(bot, fake_api, settings):
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: photos(fake_api, ALICE))
    old_id = photos(fake_api, ALICE)[0]["photo"][-1]["file_id"]
    fake_api.revoke_all()
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: len(photos(fake_api, ALICE)) == 2)
    assert len(fake_api.uploads()) == 2  # the first send, and exactly one recovery
    rejected = [call for call in fake_api.file_id_sends() if call.status == 400]
    assert [call.params["photo"] for call in rejected] == [old_id]
    assert photos(fake_api, ALICE)[1]["photo"][-1]["file_id"] != old_id
    # ... and the new id is cached: the next send is by file_id again.
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: len(photos(fake_api, ALICE)) == 3)
    assert len(fake_api.uploads()) == 2


def test_twenty_concurrent_requests_make_one_upload(bot, fake_api):
    fake_api.upload_bandwidth = 200_000  # a slow uplink keeps the first upload in flight
    chats = range(2000, 2020)
    for chat_id in chats:
        fake_api.push_text(chat_id, "/cosmic")
    fake_api.wait_until(lambda: all(photos(fake_api, chat) for chat in chats), timeout=30)
    assert len(fake_api.uploads()) == 1
    assert len(fake_api.file_id_sends()) == 19


def test_slow_upload_does_not_delay_another_user(bot, fake_api):
    fake_api.upload_bandwidth = 200  # bytes/s: this upload takes seconds
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: fake_api.calls("sendPhoto"))
    fake_api.push_text(BORIS, "/help")
    fake_api.wait_until(lambda: texts(fake_api, BORIS))
    assert photos(fake_api, ALICE) == []  # Boris was answered while Alice's upload ran
    fake_api.wait_until(lambda: photos(fake_api, ALICE), timeout=30)


def test_no_images_installed_gets_a_plain_answer(tmp_path, fake_api, settings):
    empty = dataclasses.replace(settings, assets_dir=tmp_path / "nothing-here")
    with BotThread(empty, fake_api):
        fake_api.push_text(ALICE, "/cosmic")
        reply = fake_api.wait_until(lambda: texts(fake_api, ALICE))[0]
    assert reply.startswith("No images are installed yet.")


def test_rate_limit_is_waited_out(bot, fake_api):
    fake_api.fail_next("sendPhoto", status=429, retry_after=1)
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: photos(fake_api, ALICE))
    first, second = fake_api.calls("sendPhoto")
    assert first.status == 429 and second.status == 200
    assert second.timestamp - first.timestamp >= 1.0


def test_server_errors_are_retried(bot, fake_api):
    fake_api.fail_next("sendPhoto", status=502, times=1)
    fake_api.drop_next("sendPhoto", times=1)
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: photos(fake_api, ALICE))
    assert len(fake_api.uploads()) >= 2 and len(photos(fake_api, ALICE)) == 1


def test_persistent_failure_tells_the_user_to_try_again(bot, fake_api):
    fake_api.fail_next("sendPhoto", status=500, times=10)
    fake_api.push_text(ALICE, "/cosmic")
    reply = fake_api.wait_until(lambda: texts(fake_api, ALICE), timeout=20)[0]
    assert reply == "Telegram is not answering right now. Please try again in a minute."
    assert len(fake_api.calls("sendPhoto")) == 4  # bounded: no endless retry
    # The polling loop survived: the bot still answers.
    fake_api.push_text(ALICE, "/help")
    fake_api.wait_until(lambda: len(texts(fake_api, ALICE)) == 2)


def test_blocked_user_does_not_stop_the_bot(bot, fake_api):
    fake_api.block(ALICE)
    fake_api.push_text(ALICE, "/cosmic")
    fake_api.wait_until(lambda: [c for c in fake_api.calls("sendPhoto") if c.status == 403])
    fake_api.push_text(BORIS, "/cosmic")
    fake_api.wait_until(lambda: photos(fake_api, BORIS))
    assert not [c for c in fake_api.calls("sendMessage") if c.params.get("chat_id") == ALICE]


def test_unexpected_failure_is_told_in_plain_words(bot, fake_api):
    fake_api.fail_next(
        "sendPhoto", status=400, description="Bad Request: not enough rights to send photos"
    )
    fake_api.push_text(ALICE, "/cosmic")
    reply = fake_api.wait_until(lambda: texts(fake_api, ALICE))[0]
    assert reply == "Sorry, something went wrong on our side. Please try again."
    assert len(fake_api.calls("sendPhoto")) == 1  # a bad request is not worth repeating


def test_a_broken_image_is_skipped_and_another_sent(fake_api, settings, monkeypatch):
    cosmic = settings.assets_dir / "cosmic"
    data = (cosmic / "orion.jpg").read_bytes()
    # A valid header and end marker around garbage: only decoding the pixels tells.
    (cosmic / "broken.jpg").write_bytes(data[:200] + b"\x00" * (len(data) - 202) + data[-2:])
    # The chat's round opens with the first key, so the broken image is tried first.
    seed = seed_opening_with(0, 2)
    monkeypatch.setattr(assets.random, "getrandbits", lambda bits: seed)
    with BotThread(settings, fake_api):
        for n in range(1, 3):
            fake_api.push_text(ALICE, "/cosmic")
            fake_api.wait_until(lambda n=n: len(photos(fake_api, ALICE)) == n)
    assert len(fake_api.uploads()) == 1  # only the good image was ever uploaded
    assert not texts(fake_api, ALICE)  # and no apology: the user simply got a picture


@pytest.mark.parametrize("pick", ["the bad file first", "the good ones only"])
def test_a_bad_file_found_after_start_is_skipped_with_one_warning(
    fake_api, settings, monkeypatch, log_lines, pick
):
    bad_key = "cosmic/aaa-not-an-image.jpg"
    (settings.assets_dir / bad_key).write_text("not a picture")
    # The start-up scan leaves headers to a check after start; /cosmic may meet the file first.
    first = 0 if pick == "the bad file first" else -1
    seed = seed_opening_with(first, 2)  # the chat's round opens with that key
    monkeypatch.setattr(assets.random, "getrandbits", lambda bits: seed)
    with BotThread(settings, fake_api):
        fake_api.push_text(ALICE, "/cosmic")
        fake_api.wait_until(lambda: photos(fake_api, ALICE))
        fake_api.wait_until(lambda: bad_key not in sender.library().cosmic_keys)
    assert len(fake_api.uploads()) == 1 and not texts(fake_api, ALICE)
    assert sum("aaa-not-an-image.jpg" in line for line in log_lines
               if line.startswith("WARNING")) == 1


def test_unexpected_error_is_logged_and_told(bot, fake_api, monkeypatch, log_lines):
    async def broken_send(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sender, "send_image", broken_send)
    fake_api.push_text(ALICE, "/cosmic")
    reply = fake_api.wait_until(lambda: texts(fake_api, ALICE))[0]
    assert reply == "Sorry, something went wrong on our side. Please try again."
    assert any("Error while handling an update" in line for line in log_lines)


def test_folder_watch_is_scheduled(bot):
    rescan = bot.application.job_queue.get_jobs_by_name(jobs.RESCAN_JOB)[0]
    assert rescan.callback is jobs.rescan_assets


def test_requests_use_the_read_and_upload_timeouts_the_bot_is_built_with(
    fake_api, settings, monkeypatch
):
    timeouts = []
    real_request = httpx.AsyncClient.request

    async def recording_request(client, method, url, *args, **kwargs):
        timeouts.append((str(url).rsplit("/", 1)[-1], kwargs.get("timeout")))
        return await real_request(client, method, url, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "request", recording_request)
    with BotThread(settings, fake_api) as bot:
        assert bot.application.bot.request.read_timeout == app.READ_TIMEOUT_SECONDS
        fake_api.push_text(ALICE, "/cosmic")
        fake_api.wait_until(lambda: photos(fake_api, ALICE))
    upload = next(timeout for method, timeout in timeouts if method == "sendPhoto")
    assert upload.read == app.READ_TIMEOUT_SECONDS
    assert upload.write == app.MEDIA_WRITE_TIMEOUT_SECONDS
