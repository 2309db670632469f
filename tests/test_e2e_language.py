"""Captions and language: what English- and Russian-speaking users receive."""

from __future__ import annotations

import pytest

from cosmobot.images.metadata import ImageMeta
from cosmobot.texts import CAPTION_LIMIT, TEXTS, caption, language_of
from tests.botrunner import BotThread, bot_settings
from tests.factories import make_assets

CREDITS = """
["orion.jpg"]
title.en = "The Orion Nebula"
title.ru = "Туманность Ориона"
credit = "NASA, ESA"
license = "Public domain"
source = "Hubble"
"""


@pytest.fixture
def bot(tmp_path, fake_api):
    assets = make_assets(tmp_path / "assets", ("orion.jpg",))
    (assets / "cosmic" / "credits.toml").write_text(CREDITS, encoding="utf-8")
    with BotThread(bot_settings(tmp_path, fake_api, assets), fake_api) as running:
        yield running


def first_reply(fake_api, chat_id):
    return fake_api.wait_until(lambda: fake_api.sent_to(chat_id))[0]


def test_russian_user_gets_a_russian_caption_and_button(bot, fake_api):
    fake_api.push_text(501, "/cosmic", language_code="ru")
    message = first_reply(fake_api, 501)
    assert message["caption"] == "Туманность Ориона\nИзображение: NASA, ESA"
    assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Ещё одно"


def test_english_user_gets_an_english_caption_and_button(bot, fake_api):
    fake_api.push_text(502, "/cosmic", language_code="en-GB")
    message = first_reply(fake_api, 502)
    assert message["caption"] == "The Orion Nebula\nImage: NASA, ESA"
    assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Another one"


def test_russian_user_is_greeted_in_russian(bot, fake_api):
    fake_api.push_text(503, "/start", language_code="ru-RU", first_name="Юрий")
    message = first_reply(fake_api, 503)
    assert message["text"].startswith("Привет, Юрий!")
    assert message["reply_markup"]["inline_keyboard"][0][0]["text"] == "Покажи космос"


def test_button_press_answers_in_the_presser_language(bot, fake_api):
    fake_api.push_text(504, "/cosmic", language_code="ru")
    first_reply(fake_api, 504)
    fake_api.push_callback(504, "cosmic", language_code="ru")
    fake_api.wait_until(lambda: len(fake_api.sent_to(504)) == 2)
    assert fake_api.sent_to(504)[1]["caption"].startswith("Туманность Ориона")


def test_image_without_metadata_gets_a_title_from_its_name(tmp_path, fake_api):
    assets = make_assets(tmp_path / "assets", ("crab_nebula-2.jpg",))
    with BotThread(bot_settings(tmp_path, fake_api, assets), fake_api):
        fake_api.push_text(505, "/cosmic")
        assert first_reply(fake_api, 505)["caption"] == "Crab nebula 2"


@pytest.mark.parametrize(
    ("code", "language"),
    [("ru", "ru"), ("ru-RU", "ru"), ("RU", "ru"), ("en", "en"), ("uk", "en"), (None, "en")],
)
def test_language_follows_the_telegram_language_code(code, language):
    class User:
        language_code = code

    assert language_of(User()) == language


def test_every_text_exists_in_both_languages():
    assert TEXTS["en"].keys() == TEXTS["ru"].keys()


def test_captions_never_exceed_telegram_limit():
    meta = ImageMeta(titles={"en": "Nebula " * 300}, credit="NASA")
    text = caption(meta, "en")
    assert len(text) == CAPTION_LIMIT
    assert text.endswith("…\nImage: NASA")  # the title gives way; the credit stays whole
