"""End to end: inline pages, the order of an empty query, and offsets the bot never handed out."""

from __future__ import annotations

import datetime as dt

import pytest

from cosmobot import clock
from tests.botrunner import BotThread, bot_settings, warm_now
from tests.factories import make_assets

ALICE = 1001
CACHE_CHAT = -1001112223334


@pytest.fixture
def warmed(tmp_path, fake_api):
    """Settings for a bot with `count` images, every one of them cached."""
    def make(count: int):
        fake_api.add_group(CACHE_CHAT, "Cache")
        names = tuple(f"star-{n:03}.jpg" for n in range(count))
        settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", names))
        warm_now(settings, CACHE_CHAT)
        return settings

    return make


def ask_inline(fake_api, query, offset="", user_id=ALICE):
    """Type `@bot query` (scrolled to offset); return the answer Telegram accepted."""
    query_id = fake_api.push_inline_query(user_id, query, offset)["inline_query"]["id"]
    return fake_api.wait_until(lambda: fake_api.inline_answer(query_id))


def file_ids(answer) -> list[str]:
    return [result["photo_file_id"] for result in answer["results"]]


def all_pages(fake_api, query="") -> list[str]:
    """Every result of query, scrolling until the answer names no next page."""
    found, offset = [], ""
    while True:
        answer = ask_inline(fake_api, query, offset)
        found += file_ids(answer)
        offset = answer.get("next_offset", "")
        if not offset:
            return found


def set_clock_to(hour: int, minute: int = 0, days_later: int = 0) -> None:
    """Run cosmobot's clock at hour:minute UTC, today (or days later), from now on."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)  # the system's time
    wanted = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    clock.set_offset(wanted + dt.timedelta(days=days_later) - now)


def test_exactly_one_page_of_results_advertises_no_next_page(warmed, fake_api):
    settings = warmed(50)
    with BotThread(settings, fake_api):
        matches = ask_inline(fake_api, "star")
        selection = ask_inline(fake_api, "")
    for answer in (matches, selection):
        assert len(answer["results"]) == 50
        assert "next_offset" not in answer  # no scrolling on to an empty page


def test_the_selection_for_an_empty_query_changes_from_day_to_day(warmed, fake_api):
    settings = warmed(60)
    with BotThread(settings, fake_api):
        set_clock_to(12)
        today = all_pages(fake_api)
        set_clock_to(12, days_later=1)
        tomorrow = all_pages(fake_api)
    assert sorted(today) == sorted(tomorrow) and len(set(today)) == 60
    assert today != tomorrow


def test_a_users_order_for_the_day_holds_across_pages_all_day(warmed, fake_api):
    settings = warmed(60)
    with BotThread(settings, fake_api):
        set_clock_to(0, 30)
        first = ask_inline(fake_api, "")
        set_clock_to(23, 30)  # the same day, hours later: scrolling on
        second = ask_inline(fake_api, "", offset=first["next_offset"])
        first_again = ask_inline(fake_api, "")
    assert file_ids(first_again) == file_ids(first)
    assert len(file_ids(first)) == 50 and len(file_ids(second)) == 10
    assert len(set(file_ids(first) + file_ids(second))) == 60  # every image once


# Offsets a client could make up: digits Python's int() reads but the bot never writes, signs,
# spaces, leading zeros, a position inside a page, more digits than any collection needs.
FORGED_OFFSETS = ("²", "１００", "٥٠", "-50", "50abc", " 50", "0050", "7", "9" * 60)


def test_an_offset_the_bot_never_handed_out_gets_the_first_page(warmed, fake_api, log_lines):
    settings = warmed(60)
    with BotThread(settings, fake_api):
        first = ask_inline(fake_api, "")
        forged = [ask_inline(fake_api, "", offset=offset) for offset in FORGED_OFFSETS]
        second = ask_inline(fake_api, "", offset=first["next_offset"])
    assert all(file_ids(answer) == file_ids(first) for answer in forged)
    assert first["next_offset"] == "50" and len(file_ids(second)) == 10
    assert not [line for line in log_lines if line.startswith(("ERROR", "WARNING"))]
