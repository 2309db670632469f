"""Each bot's numbers for its images: in the order first found, never given twice, shared."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cosmobot.storage import numbering
from cosmobot.storage.database import apply_migrations, close_database, in_db_thread, open_database
from cosmobot.storage.models import ImageNumber
from tests.dblocks import file_or_postgres_url, lock_waits, write_locker
from tests.factories import BOT_ID, OTHER_BOT_ID, make_image

pytestmark = pytest.mark.asyncio
ORION, ANDROMEDA, VELA = "cosmic/orion.jpg", "cosmic/andromeda.png", "cosmic/vela.jpg"


@pytest.fixture(autouse=True)
def forgotten():
    numbering.reset()
    yield
    numbering.reset()


async def test_images_are_numbered_in_the_order_found_and_keep_their_number(db, library):
    deck = await numbering.deck_for(BOT_ID, library)
    assert {deck.number(ANDROMEDA), deck.number(ORION)} == {0, 1}
    orion = deck.number(ORION)
    make_image(library.root / VELA)
    (library.root / ORION).unlink()
    library.scan()
    deck = await numbering.deck_for(BOT_ID, library)
    # The new image after every other; the removed one keeps its number, unused.
    assert deck.number(VELA) == 2 and deck.count == 3
    assert deck.number(ORION) == orion and not deck.is_live(orion) and deck.is_live(2)
    make_image(library.root / ORION)
    library.scan()
    deck = await numbering.deck_for(BOT_ID, library)
    assert deck.number(ORION) == orion and deck.is_live(orion) and deck.count == 3


async def test_each_bot_numbers_its_own_images(db, library):
    mine = await numbering.deck_for(BOT_ID, library)
    theirs = await numbering.deck_for(OTHER_BOT_ID, library)
    assert mine.count == theirs.count == 2
    assert ImageNumber.select().count() == 4


async def test_a_process_learns_the_numbers_another_one_gave(db, library):
    await in_db_thread(numbering.number_keys, BOT_ID, [VELA, ORION])  # another process
    deck = await numbering.deck_for(BOT_ID, library)
    assert (deck.number(VELA), deck.number(ORION), deck.number(ANDROMEDA)) == (0, 1, 2)
    assert not deck.is_live(0)  # not in this process's collection


async def test_an_unchanged_collection_costs_no_query(memory_db, library, monkeypatch):
    deck = await numbering.deck_for(BOT_ID, library)

    def no_query(*args, **kwargs):
        raise AssertionError("the database was asked")

    monkeypatch.setattr(memory_db, "execute_sql", no_query)
    assert await numbering.deck_for(BOT_ID, library) is deck


@pytest.fixture(params=["sqlite-file", "postgresql"])
def shared_url(request, tmp_path, monkeypatch):
    """A database several connections share: a SQLite file, or PostgreSQL."""
    lock_waits(monkeypatch, 10_000)
    url = file_or_postgres_url(request, tmp_path)
    open_database(url)
    apply_migrations()
    yield url
    close_database()


async def test_processes_numbering_at_once_never_give_a_number_twice(shared_url):
    keys = [f"cosmic/{n:03}.jpg" for n in range(60)]
    for rounds in range(6):
        mine, theirs = keys[:40], keys[20:]  # overlapping, in another order
        start = threading.Barrier(2)

        def number(part, bot_id=OTHER_BOT_ID + rounds):
            start.wait()
            return numbering.number_keys(bot_id, part)

        # Two threads, each with a connection of its own, as two processes would be.
        first, second = await asyncio.gather(asyncio.to_thread(number, mine),
                                             asyncio.to_thread(number, theirs[::-1]))
        given = dict(first) | dict(second)
        assert dict(first) == {key: given[key] for key in mine}
        assert sorted(given.values()) == list(range(60))


async def test_a_pick_does_not_wait_long_for_new_images_to_be_numbered(
    shared_url, library, monkeypatch
):
    monkeypatch.setattr(numbering, "NUMBERING_PATIENCE_SECONDS", 0.2)
    before = await numbering.deck_for(BOT_ID, library)
    calls = []
    real_number_keys = numbering.number_keys

    def number_keys(*args):
        calls.append(args)
        return real_number_keys(*args)

    monkeypatch.setattr(numbering, "number_keys", number_keys)
    make_image(library.root / VELA)
    library.scan()
    with write_locker(shared_url, "image_numbers"):
        started = time.monotonic()
        deck = await numbering.deck_for(BOT_ID, library)
        waited = time.monotonic() - started
        # The images numbered already are picked meanwhile; the new one waits.
        assert deck.number(VELA) is None and deck.number(ORION) == before.number(ORION)
        await numbering.deck_for(BOT_ID, library)
    # Far less than the lock lasted; and the next pick left the numbering to the first.
    assert waited < 5 and len(calls) == 1
    await asyncio.sleep(0.5)
    deck = await numbering.deck_for(BOT_ID, library)
    assert deck.number(VELA) == 2 and deck.is_current(library)
