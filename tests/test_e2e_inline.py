"""End to end: inline mode (`@bot nebula`) and `/cosmic WORDS` on the real Application."""

from __future__ import annotations

import dataclasses

import pytest

from tests.botrunner import BotThread, bot_settings, photos, texts, warm_now
from tests.factories import make_assets

ALICE, BORIS = 1001, 1002
CACHE_CHAT = -1001112223334
CREDITS = """
["eagle.jpg"]
title.en = "Eagle Nebula (M16)"
title.ru = "Туманность Орёл (M16)"
credit = "NASA"

["orion.jpg"]
title.en = "Orion Nebula (M42)"
title.ru = "Туманность Ориона (M42)"
credit = "ESA"

["sombrero.jpg"]
title.en = "Sombrero Galaxy (M104)"
title.ru = "Галактика Сомбреро (M104)"
credit = "NASA"

["jupiter.jpg"]
title.en = "Jupiter"
title.ru = "Юпитер"
credit = "NASA"
"""
TITLED = ("eagle.jpg", "orion.jpg", "sombrero.jpg", "jupiter.jpg")
EAGLE_EN, EAGLE_RU = "Eagle Nebula (M16)\nImage: NASA", "Туманность Орёл (M16)\nИзображение: NASA"
ORION_EN = "Orion Nebula (M42)\nImage: ESA"


def titled_assets(tmp_path, extra=()):
    root = make_assets(tmp_path / "assets", TITLED + tuple(extra))
    (root / "cosmic" / "credits.toml").write_text(CREDITS, encoding="utf-8")
    return root


@pytest.fixture
def settings(tmp_path, fake_api):
    fake_api.add_group(CACHE_CHAT, "Cache")
    return bot_settings(tmp_path, fake_api, titled_assets(tmp_path))


@pytest.fixture
def warm_settings(settings):
    warm_now(settings, CACHE_CHAT)
    return settings


def ask_inline(fake_api, query, user_id=ALICE, offset="", language_code="en"):
    """Type `@bot query`; return the answer Telegram accepted."""
    update = fake_api.push_inline_query(user_id, query, offset, language_code=language_code)
    query_id = update["inline_query"]["id"]
    return fake_api.wait_until(lambda: fake_api.inline_answer(query_id))


def captions(answer):
    return sorted(result["caption"] for result in answer["results"])


def test_english_and_russian_words_find_titles_by_prefix(warm_settings, fake_api):
    with BotThread(warm_settings, fake_api):
        neb = ask_inline(fake_api, "neb")
        tumann = ask_inline(fake_api, "туманн", language_code="ru")
        eagle = ask_inline(fake_api, "Туманность Орёл", language_code="ru")
        yo_as_e = ask_inline(fake_api, "ОРЕЛ")
        galaxy = ask_inline(fake_api, "galax m104")
    assert captions(neb) == [EAGLE_EN, ORION_EN]
    assert captions(tumann) == ["Туманность Ориона (M42)\nИзображение: ESA", EAGLE_RU]
    assert captions(eagle) == [EAGLE_RU]
    assert captions(yo_as_e) == [EAGLE_EN]
    assert captions(galaxy) == ["Sombrero Galaxy (M104)\nImage: NASA"]
    assert all(result["type"] == "photo" for result in neb["results"])
    # Words typed are no personal matter; the answer may be shared, for half a minute.
    assert neb["cache_time"] <= 60 and neb.get("is_personal") in (None, False, "false")


def test_all_images_page_through_next_offset(tmp_path, fake_api):
    fake_api.add_group(CACHE_CHAT, "Cache")
    stars = [f"star-{n:03}.jpg" for n in range(60)]
    settings = bot_settings(tmp_path, fake_api, titled_assets(tmp_path, stars))
    warm_now(settings, CACHE_CHAT)
    pages, offset = [], ""
    with BotThread(settings, fake_api):
        while True:
            answer = ask_inline(fake_api, "", offset=offset)
            pages.append(answer["results"])
            offset = answer.get("next_offset", "")
            if not offset:
                break
        star_pages = [ask_inline(fake_api, "star")]
        star_pages.append(ask_inline(fake_api, "star", offset=star_pages[0]["next_offset"]))
    assert [len(page) for page in pages] == [50, 14]
    file_ids = [result["photo_file_id"] for page in pages for result in page]
    assert len(set(file_ids)) == 64  # every image once
    assert [len(page["results"]) for page in star_pages] == [50, 10]
    assert star_pages[1].get("next_offset", "") == ""


def test_an_empty_query_is_a_selection_of_each_users_own(warm_settings, fake_api):
    with BotThread(warm_settings, fake_api):
        first = [ask_inline(fake_api, "", user_id=user) for user in range(2001, 2007)]
        again = ask_inline(fake_api, "", user_id=2001)
    orders = [[result["photo_file_id"] for result in answer["results"]] for answer in first]
    assert all(len(order) == 4 for order in orders)
    assert len({tuple(order) for order in orders}) > 1  # 6 users: not all in one order
    assert [result["photo_file_id"] for result in again["results"]] == orders[0]
    assert all(answer["is_personal"] in (True, "true", "True") for answer in first)


def test_no_cached_images_offer_a_button_to_the_private_chat(settings, fake_api):
    with BotThread(settings, fake_api):
        empty = ask_inline(fake_api, "neb")
        nothing = ask_inline(fake_api, "quasar", language_code="ru")
        fake_api.push_text(ALICE, "/cosmic Туманность Орёл")  # caches the eagle by sending it
        fake_api.wait_until(lambda: photos(fake_api, ALICE))
        after = ask_inline(fake_api, "neb")
    assert empty["results"] == []
    assert empty["button"] == {"text": "No images ready yet: open the bot",
                               "start_parameter": "inline"}
    assert nothing["button"]["text"] == "Ничего не нашлось: откройте бота"
    assert captions(after) == [EAGLE_EN] and "button" not in after
    assert not fake_api.calls("answerInlineQuery")[0].params.get("next_offset")


def test_the_warm_up_makes_uncached_images_appear(settings, fake_api):
    settings = dataclasses.replace(settings, cache_chat_id=CACHE_CHAT)
    # The start-up warm-up finds the cache chat closed to it and gives up at once.
    fake_api.fail_next("sendPhoto", status=400, description="Bad Request: chat not found")
    with BotThread(settings, fake_api):
        fake_api.wait_until(lambda: any(call.status == 400
                                        for call in fake_api.calls("sendPhoto")))
        first = ask_inline(fake_api, "neb")  # none cached yet: this query starts a warm-up
        later = first
        while len(later["results"]) < 2:
            later = ask_inline(fake_api, "neb")
    assert first["results"] == [] and first["button"]["start_parameter"] == "inline"
    assert captions(later) == [EAGLE_EN, ORION_EN]
    assert {call.params["chat_id"] for call in fake_api.uploads()} == {CACHE_CHAT}


def test_an_expired_inline_query_is_logged_and_the_bot_goes_on(
        warm_settings, fake_api, log_lines):
    fake_api.fail_next("answerInlineQuery", status=400, description=(
        "Bad Request: query is too old and response timeout expired or query ID is invalid"))
    with BotThread(warm_settings, fake_api):
        fake_api.push_inline_query(ALICE, "neb")
        fake_api.wait_until(lambda: fake_api.calls("answerInlineQuery"))
        answer = ask_inline(fake_api, "neb")
        fake_api.push_text(ALICE, "/help")
        fake_api.wait_until(lambda: texts(fake_api, ALICE))
    assert len(answer["results"]) == 2
    assert any(line.startswith("INFO Inline query 'neb' expired") for line in log_lines)
    assert not any(line.startswith("ERROR") for line in log_lines)


def test_cosmic_words_sends_matches_in_the_chats_no_repeat_order(warm_settings, fake_api):
    with BotThread(warm_settings, fake_api):
        for n, command in enumerate(("/cosmic nebula", "/cosmic neb", "/cosmic", "/cosmic"), 1):
            fake_api.push_text(ALICE, command)
            fake_api.wait_until(lambda n=n: len(photos(fake_api, ALICE)) == n)
        fake_api.push_text(BORIS, "/cosmic орел", language_code="ru")
        fake_api.wait_until(lambda: photos(fake_api, BORIS))
    got = [photo["caption"].split("\n")[0] for photo in photos(fake_api, ALICE)]
    # The two nebulae, then, from the round's unseen images, the two others.
    assert sorted(got[:2]) == ["Eagle Nebula (M16)", "Orion Nebula (M42)"]
    assert sorted(got[2:]) == ["Jupiter", "Sombrero Galaxy (M104)"]
    assert photos(fake_api, BORIS)[0]["caption"] == EAGLE_RU
    assert not fake_api.uploads()[4:]  # all sent by the file_ids the warm-up cached


def test_cosmic_words_without_a_match_suggests_titles(warm_settings, fake_api):
    with BotThread(warm_settings, fake_api):
        fake_api.push_text(ALICE, "/cosmic quasar")
        fake_api.push_text(BORIS, "/cosmic квазар", language_code="ru")
        english = fake_api.wait_until(lambda: texts(fake_api, ALICE))[0]
        russian = fake_api.wait_until(lambda: texts(fake_api, BORIS))[0]
    assert english.startswith("No image is called “quasar”. Try, for example: ")
    assert russian.startswith("Изображения «квазар» нет. Попробуйте, например: ")
    suggested = english.split(": ", 1)[1].rstrip(".").split(", ")
    assert len(suggested) == 3
    assert set(suggested) <= {"Eagle Nebula (M16)", "Orion Nebula (M42)",
                              "Sombrero Galaxy (M104)", "Jupiter"}
    assert not photos(fake_api, ALICE)


def test_inline_queries_are_among_the_allowed_updates(settings, fake_api):
    with BotThread(settings, fake_api):
        pass
    allowed = fake_api.calls("getUpdates")[-1].params["allowed_updates"]
    assert "inline_query" in allowed
