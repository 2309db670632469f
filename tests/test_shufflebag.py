"""The shuffle bag: every image once per chat before any repeat, kept in the database."""

from __future__ import annotations

import asyncio
import threading

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import Forbidden
from telegram.ext import BaseRateLimiter, ExtBot

from cosmobot import sender
from cosmobot.botapi import ratelimit
from cosmobot.delivery import deliver_cosmic
from cosmobot.storage import database, shufflebag, writes
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import SeenImage
from cosmobot.storage.shufflebag import Bag
from tests.dblocks import file_or_postgres_url, lock_waits, seen_count, write_locker
from tests.factories import BOT_ID, OTHER_TOKEN, TOKEN, make_assets, make_image
from tests.fakebotapi import FakeBotApi

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
    await writes.settle()  # as a stopping bot does
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
    await writes.settle()
    seen = await database.in_db_thread(lambda: list(SeenImage.seen_by(BOT_ID, CHAT)))
    assert len(seen) == 1


async def test_two_chats_have_bags_of_their_own(db, eight_images, bot):
    mine, theirs = [], []
    for _ in range(len(NAMES)):
        mine += await send_many(bot, CHAT, 1)
        theirs += await send_many(bot, OTHER_CHAT, 1)
    assert sorted(mine) == sorted(theirs) == eight_images.cosmic_keys


async def test_a_chat_has_a_bag_with_each_bot(db, eight_images):
    with FakeBotApi([TOKEN, OTHER_TOKEN]) as api:
        async with Bot(TOKEN, base_url=api.base_url) as bot, \
                Bot(OTHER_TOKEN, base_url=api.base_url) as other:
            mine = await send_many(bot, CHAT, len(NAMES) - 1)
            await writes.settle()
            sender.configure(eight_images)  # a restart: the bags are read from the database
            theirs = await send_many(other, CHAT, len(NAMES))
            mine += await send_many(bot, CHAT, 1)
    # Each bot's round through the collection is whole: what one sent never counts for the other.
    assert sorted(mine) == sorted(theirs) == eight_images.cosmic_keys


async def test_a_send_reads_the_bag_once_and_writes_it_once(memory_db, eight_images, bot):
    await send_many(bot, CHAT, 1)
    await writes.settle()  # the first send's writes are done
    queries = []
    real_execute = memory_db.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        if "seen_images" in sql:
            queries.append(sql.split(maxsplit=1)[0].upper())
        return real_execute(sql, params, *args, **kwargs)

    memory_db.execute_sql = recording
    try:
        await send_many(bot, CHAT, 1)
        await writes.settle()
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
    assert await shufflebag.open_bag(BOT_ID, CHAT) == Bag(CHAT)
    assert await deliver_cosmic(bot, CHAT, "en") in library.cosmic_keys
    assert any("Cannot read which images chat" in line for line in log_lines)


@pytest.fixture(params=["sqlite-file", "postgresql"])
def shared_db(request, tmp_path, monkeypatch):
    """A database other connections can lock: a SQLite file, or PostgreSQL."""
    lock_waits(monkeypatch, 60_000)  # a write waits for the lock as long as the test holds it
    url = file_or_postgres_url(request, tmp_path)
    open_database(url)
    apply_migrations()
    yield url
    close_database()


async def test_the_bag_shows_its_own_records_while_their_writes_wait(
    shared_db, eight_images, bot
):
    with write_locker(shared_db, "seen_images"):
        first = await deliver_cosmic(bot, CHAT, "en")
        assert first in (await shufflebag.open_bag(BOT_ID, CHAT)).seen
        # Asking again and again while nothing reaches the database: still no repeat.
        shown = [first] + await send_many(bot, CHAT, len(NAMES) - 1)
        assert sorted(shown) == eight_images.cosmic_keys
        assert seen_count(shared_db, CHAT) == 0
    await writes.settle()
    assert seen_count(shared_db, CHAT) == len(NAMES)


async def test_a_record_written_while_the_bag_was_read_still_counts(shared_db, eight_images,
                                                                    monkeypatch):
    read_done, go_on = threading.Event(), threading.Event()
    real_seen_keys = shufflebag._seen_keys

    def stale_read(bot_id, chat_id):
        keys = real_seen_keys(bot_id, chat_id)  # read before the write below lands
        read_done.set()
        go_on.wait(10)
        return keys

    monkeypatch.setattr(shufflebag, "_seen_keys", stale_read)
    reading = asyncio.ensure_future(shufflebag.open_bag(BOT_ID, CHAT))
    await asyncio.to_thread(read_done.wait, 10)
    shufflebag.record(BOT_ID, CHAT, "cosmic/image-3.jpg", new_round=False)
    await writes.settle()  # landed, after the read
    go_on.set()
    assert (await reading).seen == ("cosmic/image-3.jpg",)


async def test_two_deliveries_at_once_never_pick_the_same_image(db, eight_images, bot):
    # One image left unseen: /cosmic and the daily image (the bulk lane) at the same moment.
    for chat_id in range(CHAT, CHAT + 5):
        await send_many(bot, chat_id, len(NAMES) - 1)
        unseen = set(eight_images.cosmic_keys) - set(await seen_keys(chat_id))
        picked = await asyncio.gather(
            deliver_cosmic(bot, chat_id, "en"),
            deliver_cosmic(bot, chat_id, "en", **ratelimit.bulk_options(bot)))
        assert picked[0] != picked[1]
        assert unseen & set(picked)


async def test_an_image_whose_send_failed_is_free_for_the_next_pick(memory_db, eight_images,
                                                                    bot, fake_api):
    await send_many(bot, CHAT, len(NAMES) - 1)
    unseen = set(eight_images.cosmic_keys) - set(await seen_keys(CHAT))
    fake_api.fail_next("sendPhoto", status=403,
                       description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden):
        await deliver_cosmic(bot, CHAT, "en")
    assert {await deliver_cosmic(bot, CHAT, "en")} == unseen


async def test_a_pick_passes_by_images_on_their_way():
    keys = ["cosmic/a.jpg", "cosmic/b.jpg", "cosmic/c.jpg"]
    bag = Bag(CHAT, ("cosmic/a.jpg",), frozenset({"cosmic/b.jpg"}))
    assert {bag.pick(keys) for _ in range(30)} == {("cosmic/c.jpg", False)}
    assert {bag.pick_among(keys) for _ in range(30)} == {"cosmic/c.jpg"}
    # A new round does not open with one on its way either.
    full = Bag(CHAT, ("cosmic/c.jpg", "cosmic/a.jpg", "cosmic/b.jpg"), frozenset({"cosmic/c.jpg"}))
    assert {full.pick(keys) for _ in range(30)} == {("cosmic/a.jpg", True)}
    # With every image on its way, a second send to the chat still gets one.
    assert Bag(CHAT, (), frozenset(keys)).pick(keys)[0] in keys


async def seen_keys(chat_id):
    await writes.settle()
    return await database.read_in_db_thread(shufflebag._seen_keys, BOT_ID, chat_id)


async def test_a_new_start_forgets_records_an_ended_event_loop_left_on_their_way(
    tmp_path, library, monkeypatch
):
    lock_waits(monkeypatch, 50)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    open_database(url)
    try:
        apply_migrations()
        with write_locker(url, "seen_images"):
            # A bot whose loop ended without finishing its writes: this one never lands.
            await asyncio.to_thread(_record_in_a_loop_that_ends, CHAT, "cosmic/orion.jpg")
        sender.configure(library)  # what setup() and the bot's start do
        assert (await shufflebag.open_bag(BOT_ID, CHAT)).seen == ()
    finally:
        close_database()


def _record_in_a_loop_that_ends(chat_id, key):
    async def record_soon():
        shufflebag.record(BOT_ID, chat_id, key, new_round=False)
        await asyncio.sleep(0.2)  # its first try fails on the lock

    loop = asyncio.new_event_loop()
    loop.run_until_complete(record_soon())
    loop.close()
