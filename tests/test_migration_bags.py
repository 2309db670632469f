"""Migration 008 on a database at 005's schema, with rows: every chat's round goes on.

seen_images held a row per chat and image seen this round; each chat's bag now holds where it
is. Picking after the migration, no image a chat saw before it comes again before its round
ends, with every bot, and the images no chat had seen yet come in that round too.
"""

from __future__ import annotations

import peewee
import pytest

from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import shufflebag, writes
from cosmobot.storage.bagrows import seen_keys
from cosmobot.storage.database import apply_migrations, migration_router
from tests.factories import BOT_ID, OTHER_BOT_ID, make_assets

pytestmark = pytest.mark.asyncio
# The schema just before 008 (006 leaves seen_images as 005 made it).
BEFORE, FIXED_BAGS = "007_bot_settings", "008_shuffle_bags_of_fixed_size"
NAMES = tuple(f"image-{n}.jpg" for n in range(9))  # image-8 no chat has seen yet
KEYS = [f"cosmic/{name}" for name in NAMES]
# What each chat had seen this round with each bot, in the order it saw it.
SEEN = {
    (BOT_ID, 1): KEYS[:5],
    (BOT_ID, -100200): [KEYS[7], KEYS[2], KEYS[0], KEYS[6], KEYS[5], KEYS[4], KEYS[3]],
    (BOT_ID, 3): KEYS[:8],  # all there was: its next image opens a new round
    (OTHER_BOT_ID, 1): [KEYS[6]],  # the same chat, another bot's round
}


@pytest.fixture
def library(tmp_path) -> AssetLibrary:
    library = AssetLibrary(make_assets(tmp_path / "assets", NAMES))
    library.scan()
    return library


@pytest.fixture
def at_005(empty_db):
    """A database at the schema before 008 (seen_images as 005 made it), with the rows above."""
    migration_router().run(BEFORE)
    marks = ", ".join([empty_db.param] * 3)
    for (bot_id, chat_id), keys in SEEN.items():
        for key in keys:
            empty_db.execute_sql(
                f"INSERT INTO seen_images (bot_id, chat_id, asset_key) VALUES ({marks})",
                (bot_id, chat_id, key))
    return empty_db


async def rest_of_round(bot_id: int, chat_id: int, library: AssetLibrary) -> list[str]:
    """Pick for the chat until its round ends; the images of that round, and the next one."""
    shown = []
    while True:
        pick = await shufflebag.pick_next(bot_id, chat_id, library)
        shufflebag.settle(pick, shown=True)
        shown.append(pick.key)
        if pick.change is not None and pick.change.reseed is not None:
            return shown
        assert len(shown) <= len(KEYS), shown


async def test_each_chats_round_goes_on_after_the_migration(at_005, library):
    assert apply_migrations() == [FIXED_BAGS]
    for (bot_id, chat_id), seen in SEEN.items():
        assert seen_keys(bot_id, chat_id) == set(seen)
        *rest, opening = await rest_of_round(bot_id, chat_id, library)
        # The images not seen before it, once each, including the one no chat had seen.
        assert sorted(rest) == sorted(set(KEYS) - set(seen)), (bot_id, chat_id)
        assert opening != (rest or seen)[-1]  # the next round opens with another
    await writes.settle()


async def test_a_bag_rolls_back_to_the_images_it_has_seen_this_round(at_005, library):
    apply_migrations()
    first = await shufflebag.pick_next(BOT_ID, 1, library)  # the round goes on after it
    shufflebag.settle(first, shown=True)
    await writes.settle()
    migration_router().rollback()
    rows = at_005.execute_sql(
        "SELECT bot_id, chat_id, asset_key FROM seen_images ORDER BY id").fetchall()
    seen_now = {chat: [key for bot, c, key in rows if (bot, c) == chat] for chat in SEEN}
    expected = {**SEEN, (BOT_ID, 1): SEEN[BOT_ID, 1] + [first.key]}
    assert {chat: set(keys) for chat, keys in seen_now.items()} == {
        chat: set(keys) for chat, keys in expected.items()}
    # The image each chat saw last is its last row: a new round will not open with it.
    assert all(seen_now[chat][-1] == keys[-1] for chat, keys in expected.items())
    with pytest.raises(peewee.IntegrityError):  # 005's keys are back
        with at_005.atomic():
            at_005.execute_sql("INSERT INTO seen_images (bot_id, chat_id, asset_key) VALUES "
                               f"({BOT_ID}, 1, '{first.key}')")
    assert apply_migrations() == [FIXED_BAGS]
    assert seen_keys(BOT_ID, 1) == set(expected[BOT_ID, 1])
