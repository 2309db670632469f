"""The shuffle bag: every image once per chat before any repeat, kept in the database."""

from __future__ import annotations

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.ext import BaseRateLimiter, ExtBot

from cosmobot import sender
from cosmobot.bot import ratelimit
from cosmobot.bot.delivery import deliver_cosmic
from cosmobot.storage import database, shufflebag
from cosmobot.storage.models import SeenImage
from cosmobot.storage.shufflebag import Bag
from tests.factories import TOKEN, make_assets, make_image

pytestmark = pytest.mark.asyncio
CHAT, OTHER_CHAT = 4242, -1004242
NAMES = tuple(f"image-{n}.jpg" for n in range(8))


@pytest.fixture
def eight_images(tmp_path, library):
    """The library, now holding eight images."""
    make_assets(library.root, NAMES)
    for name in ("orion.jpg", "andromeda.png"):
        (library.root / "cosmic" / name).unlink()
    library.scan()
    return library


@pytest_asyncio.fixture
async def bot(fake_api):
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        yield bot


async def send_many(bot, chat_id, count):
    return [await deliver_cosmic(bot, chat_id, "en") for _ in range(count)]


async def test_n_sends_cover_all_n_images_round_after_round(db, eight_images, bot):
    keys = eight_images.cosmic_keys
    rounds = [await send_many(bot, CHAT, len(keys)) for _ in range(3)]
    for shown in rounds:
        assert sorted(shown) == keys  # each round is the whole collection, once
    # A new round never opens with the image that closed the last one.
    assert rounds[1][0] != rounds[0][-1] and rounds[2][0] != rounds[1][-1]


async def test_the_bag_is_read_from_the_database_each_time(db, eight_images, bot):
    first = await send_many(bot, CHAT, 3)
    # What a restarted bot starts from: the process's state is gone, the database is not.
    sender.configure(eight_images)
    rest = await send_many(bot, CHAT, 5)
    assert sorted(first + rest) == eight_images.cosmic_keys


async def test_an_image_added_joins_the_current_round(db, eight_images, bot):
    shown = await send_many(bot, CHAT, 6)
    make_image(eight_images.root / "cosmic" / "vela.jpg")
    eight_images.scan()
    shown += await send_many(bot, CHAT, 3)
    assert sorted(shown) == eight_images.cosmic_keys  # the new one came before any repeat


async def test_an_image_removed_leaves_the_round(db, eight_images, bot):
    shown = await send_many(bot, CHAT, 4)
    unseen = sorted(set(eight_images.cosmic_keys) - set(shown))
    eight_images.resolve(unseen[0]).unlink()
    eight_images.scan()
    shown += await send_many(bot, CHAT, 3)
    assert sorted(shown) == eight_images.cosmic_keys
    # The round is complete without the removed image: the next send opens a new one.
    await send_many(bot, CHAT, 1)
    seen = await database.in_db_thread(lambda: list(SeenImage.seen_by(CHAT)))
    assert len(seen) == 1


async def test_two_chats_have_bags_of_their_own(db, eight_images, bot):
    mine, theirs = [], []
    for _ in range(len(NAMES)):
        mine += await send_many(bot, CHAT, 1)
        theirs += await send_many(bot, OTHER_CHAT, 1)
    assert sorted(mine) == sorted(theirs) == eight_images.cosmic_keys


async def test_a_send_reads_the_bag_once_and_writes_it_once(memory_db, eight_images, bot):
    await send_many(bot, CHAT, 1)
    await database.in_db_thread(lambda: None)  # the first send's writes are done
    queries = []
    real_execute = memory_db.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        if "seen_images" in sql:
            queries.append(sql.split(maxsplit=1)[0].upper())
        return real_execute(sql, params, *args, **kwargs)

    memory_db.execute_sql = recording
    try:
        await send_many(bot, CHAT, 1)
        await database.in_db_thread(lambda: None)  # queued after the bag's write
    finally:
        del memory_db.execute_sql
    assert queries == ["SELECT", "INSERT"]


async def test_the_bulk_lane_reaches_the_send(memory_db, library, fake_api):
    lanes = []

    class Recording(BaseRateLimiter):
        async def initialize(self):
            pass

        async def shutdown(self):
            pass

        async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
            lanes.append((endpoint, rate_limit_args))
            return await callback(*args, **kwargs)

    bot = ExtBot(TOKEN, base_url=fake_api.base_url, rate_limiter=Recording())
    async with bot:
        await deliver_cosmic(bot, CHAT, "en", **ratelimit.bulk_options(bot))
    assert ("sendPhoto", ratelimit.BULK) in lanes


async def test_a_new_round_avoids_the_image_just_shown():
    keys = ["cosmic/a.jpg", "cosmic/b.jpg"]
    for _ in range(50):
        key, new_round = Bag(CHAT, ("cosmic/a.jpg", "cosmic/b.jpg")).pick(keys)
        assert (key, new_round) == ("cosmic/a.jpg", True)
    assert Bag(CHAT, ("cosmic/a.jpg",)).pick(["cosmic/a.jpg"]) == ("cosmic/a.jpg", True)
    assert Bag(CHAT).pick([]) == (None, False)


async def test_an_unreadable_bag_still_gives_an_image(library, bot, log_lines):
    # No database at all: the user gets an image anyway, and the log says why it may repeat.
    assert await shufflebag.open_bag(CHAT) == Bag(CHAT)
    assert await deliver_cosmic(bot, CHAT, "en") in library.cosmic_keys
    assert any("Cannot read which images chat" in line for line in log_lines)
