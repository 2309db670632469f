"""The shuffle bag: every image once per chat before any repeat, kept in the database."""

from __future__ import annotations

import asyncio
import threading

import peewee
import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import Forbidden
from telegram.ext import BaseRateLimiter, ExtBot

from cosmobot import sender
from cosmobot.botapi import ratelimit
from cosmobot.delivery import deliver_cosmic
from cosmobot.storage import bagrows, database, numbering, shufflebag, writes
from cosmobot.storage.database import apply_migrations, close_database, open_database
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


async def test_a_bag_this_process_does_not_know_goes_on_in_its_rounds_order(
        db, eight_images, bot):
    chats = range(CHAT, CHAT + 8)
    for chat in chats:
        await send_many(bot, chat, 3)
    await writes.settle()
    sender.configure(eight_images)  # a restart
    deck = await numbering.deck_for(bot.id, eight_images)
    rows = [await database.read_in_db_thread(bagrows.read_row, bot.id, chat) for chat in chats]
    expected = [deck.key(next(bagrows.state_of(row).walk(deck)).number) for row in rows]
    sender.configure(eight_images)  # and forget what was read just now
    # Not an unseen image out of the order: the walk's next, as if the process had read first.
    assert [(await send_many(bot, chat, 1))[0] for chat in chats] == expected


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
    # The round is complete without the removed image: the next send opens a new one (whose
    # walk may have passed the removed image's number by already).
    await send_many(bot, CHAT, 1)
    assert len(await seen_keys(CHAT) & set(eight_images.cosmic_keys)) == 1


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


async def test_a_send_writes_the_bag_once_and_reads_it_only_when_the_process_does_not_know_it(
        memory_db, eight_images, bot):
    queries = []
    real_execute = memory_db.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        if "shuffle_bags" in sql or "image_numbers" in sql:
            queries.append(sql.split(maxsplit=1)[0].upper())
        return real_execute(sql, params, *args, **kwargs)

    async def statements_of_one_send() -> list[str]:
        await send_many(bot, CHAT, 1)
        await writes.settle()
        statements = queries[:]
        queries.clear()
        return statements

    await send_many(bot, OTHER_CHAT, 1)  # the image numbers are written, and kept
    await writes.settle()
    memory_db.execute_sql = recording
    try:
        first = await statements_of_one_send()
        second = await statements_of_one_send()
        sender.configure(eight_images)  # a restart: the process knows no bag
        after_restart = await statements_of_one_send()
        again = await statements_of_one_send()
    finally:
        del memory_db.execute_sql
    assert first == ["INSERT"]  # a new chat's row, written if it still has none
    assert second == again == ["UPDATE"]  # on the version this process wrote
    # The image numbers read again; a chat with a row the process does not know: its first
    # write finds the row, which is read, and the pick is worked out again on it.
    assert after_restart == ["SELECT", "INSERT", "SELECT", "UPDATE"]


async def test_a_claim_waits_for_no_flush_to_disk_and_the_next_write_does(db, eight_images, bot):
    postgres = isinstance(db, peewee.PostgresqlDatabase)
    statements = []
    real_execute = db.execute_sql

    def recording(sql, params=None, *args, **kwargs):
        statements.append(sql.split(" (", 1)[0].upper())
        return real_execute(sql, params, *args, **kwargs)

    def flushing() -> str:
        sql = "SHOW synchronous_commit" if postgres else "PRAGMA synchronous"
        return str(db.execute_sql(sql).fetchone()[0])

    before = await database.in_db_thread(flushing)
    db.execute_sql = recording
    try:
        await send_many(bot, CHAT, 2)  # a new chat's row written, then changed
        await writes.settle()
    finally:
        del db.execute_sql
    writes_made = [sql for sql in statements if sql.startswith(("INSERT", "UPDATE", "SET"))
                   and "SHUFFLE_BAGS" in sql]
    assert len(writes_made) == 2
    if postgres:
        assert all(sql.startswith("SET LOCAL SYNCHRONOUS_COMMIT TO OFF; ") for sql in writes_made)
    else:
        for sql in writes_made:
            at = statements.index(sql)
            assert statements[at - 1] == "PRAGMA SYNCHRONOUS = 1"
            assert statements[at + 1] == f"PRAGMA SYNCHRONOUS = {before}"
    # The connection's other writes (a subscription, a daily send) still wait for the disk.
    assert before in ("on", "2") and await database.in_db_thread(flushing) == before


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


async def test_a_new_round_never_opens_with_the_image_just_shown(memory_db, library, bot):
    # Two images: every round's first must be the one the last round did not end with.
    shown = await send_many(bot, CHAT, 30)
    assert all(shown[n] != shown[n + 1] for n in range(len(shown) - 1))
    assert sorted(shown[:2]) == library.cosmic_keys


async def test_an_unreadable_bag_still_gives_an_image(library, bot, log_lines):
    # No database at all: the user gets an image anyway, and the log says why it may repeat.
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
    first = await deliver_cosmic(bot, CHAT, "en")  # the bot has numbered its images
    await writes.settle()
    with write_locker(shared_db, "shuffle_bags"):
        # Asking again and again while nothing reaches the database: still no repeat.
        shown = [first] + await send_many(bot, CHAT, len(NAMES) - 1)
        assert sorted(shown) == eight_images.cosmic_keys
        assert seen_count(shared_db, CHAT) == 1
    await writes.settle()
    assert seen_count(shared_db, CHAT) == len(NAMES)


async def test_a_claim_that_lands_while_the_bag_is_read_still_counts(
    shared_db, eight_images, bot, monkeypatch
):
    await deliver_cosmic(bot, CHAT, "en")  # the chat has a bag; the images have numbers
    await writes.settle()
    read_done, go_on = threading.Event(), threading.Event()
    real_row, stale_reads = bagrows.read_row, []

    def stale_row(bot_id, chat_id):
        row = real_row(bot_id, chat_id)
        if not stale_reads:  # the first read: held until another pick's claim has landed
            stale_reads.append(row)
            read_done.set()
            go_on.wait(10)
        return row

    monkeypatch.setattr(bagrows, "read_row", stale_row)
    reading = asyncio.ensure_future(deliver_cosmic(bot, CHAT, "en"))
    await asyncio.to_thread(read_done.wait, 10)
    other = await deliver_cosmic(bot, CHAT, "en")
    await writes.settle()  # landed, after the first read
    go_on.set()
    # Both worked from the same row: the one whose read ran on had to count the other's.
    assert await reading != other
    assert len(await seen_keys(CHAT)) == 3


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


async def seen_keys(chat_id):
    await writes.settle()
    return await database.read_in_db_thread(bagrows.seen_keys, BOT_ID, chat_id)


async def test_a_new_start_forgets_claims_an_ended_event_loop_left_on_their_way(
    tmp_path, library, monkeypatch
):
    lock_waits(monkeypatch, 50)
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    open_database(url)
    try:
        apply_migrations()
        await asyncio.to_thread(_deliver_in_a_loop_that_ends, library, url)
        sender.configure(library)  # what setup() and the bot's start do
        assert shufflebag._chats == {} and shufflebag._claims == {}
    finally:
        close_database()


def _deliver_in_a_loop_that_ends(library, url):
    async def deliver_then_end():
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            await deliver_cosmic(bot, CHAT, "en")  # numbers the images
            await writes.settle()
            with write_locker(url, "shuffle_bags"):
                # A bot whose loop ends without finishing its writes: this claim never lands.
                await deliver_cosmic(bot, CHAT, "en")
                await asyncio.sleep(0.2)  # its first try fails on the lock
        assert shufflebag._chats  # kept: its write is still on its way

    with FakeBotApi([TOKEN]) as api:
        loop = asyncio.new_event_loop()
        loop.run_until_complete(deliver_then_end())
        loop.close()
