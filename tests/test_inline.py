"""Inline answers at the unit level: only the page's images are checked, and the daily order."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import pytest_asyncio

from cosmobot import sender
from cosmobot.bot import inline
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import filecache
from tests.factories import BOT_ID, make_assets, make_image

USER = 1001
STARS = tuple(f"star-{n:03}.jpg" for n in range(120))


class AnsweringBot:
    """What answer_inline needs of a telegram.Bot: its id, and the answers it gave."""

    id = BOT_ID

    def __init__(self) -> None:
        self.answers: list[SimpleNamespace] = []

    async def answer_inline_query(self, query_id, results, **options) -> None:
        self.answers.append(SimpleNamespace(results=results, **options))


class Warmer:
    def __init__(self) -> None:
        self.started = 0

    def start(self, bot) -> None:
        self.started += 1


@pytest_asyncio.fixture
async def stars(db, tmp_path):
    """A library of 120 images, each with a cached file_id for BOT_ID."""
    library = AssetLibrary(make_assets(tmp_path / "assets", STARS))
    library.scan()
    sender.configure(library)
    for key in library.cosmic_keys:
        fingerprint = library.fingerprint(library.resolve(key))
        filecache.remember(key, f"file-{key}", f"unique-{key}", BOT_ID, fingerprint)
    yield library
    sender.configure(None)


async def ask(query, offset="", warmer=None):
    bot = AnsweringBot()
    await inline.answer_inline(bot, "q1", USER, query, offset, "en", warmer)
    return bot.answers[0]


@pytest.mark.asyncio
async def test_only_the_page_asked_for_is_checked(stars, monkeypatch):
    checked = []
    real = sender.cached_file_id

    async def counting(bot, key):
        checked.append(key)
        return await real(bot, key)

    monkeypatch.setattr(sender, "cached_file_id", counting)
    answer = await ask("star", offset="50")
    assert len(answer.results) == inline.PAGE_SIZE and answer.next_offset == "100"
    assert checked == list(stars.cosmic_keys[50:100])


@pytest.mark.asyncio
async def test_a_file_replaced_since_its_upload_is_left_out_and_warmed(stars):
    # Another picture under the same name: its cached file_id shows the old one.
    make_image(stars.resolve("cosmic/star-003.jpg"), colour=(200, 200, 10))
    warmer = Warmer()
    answer = await ask("star", warmer=warmer)
    file_ids = [result.photo_file_id for result in answer.results]
    assert "file-cosmic/star-003.jpg" not in file_ids and len(file_ids) == 49
    assert warmer.started == 1


@pytest.mark.asyncio
async def test_every_cached_image_warms_nothing(stars):
    warmer = Warmer()
    await ask("", warmer=warmer)
    await ask("star", offset="100", warmer=warmer)
    assert warmer.started == 0


@pytest.mark.asyncio
async def test_an_empty_query_pages_through_every_image_once(stars):
    pages = [await ask("", offset=offset) for offset in ("", "50", "100")]
    file_ids = [result.photo_file_id for page in pages for result in page.results]
    assert len(file_ids) == len(set(file_ids)) == len(STARS)
    assert [page.next_offset for page in pages] == ["50", "100", None]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 14, 49, 50, 51, 77, 100, 119, 210])
def test_the_daily_order_holds_each_key_once(count):
    keys = [f"k{n}" for n in range(count)]
    for user in range(20):
        order = [key for start in range(0, count, inline.PAGE_SIZE)
                 for key in inline._daily_page(keys, user, start)]
        assert sorted(order) == sorted(keys)
