"""The databases scenarios run on: a SQLite file in the scratch folder, or PostgreSQL emptied."""

from __future__ import annotations

import asyncio

from collections.abc import Sequence
from pathlib import Path

from playhouse.db_url import connect
from telegram import Bot

from cosmobot.config import Settings
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage.database import apply_migrations, close_database, database, open_database
from cosmobot.storage.models import ImageAsset

# Rows per INSERT: well under SQLite's limit on the values of one statement.
BATCH_ROWS = 1000


def sqlite_url(scratch: Path, name: str = "bot") -> str:
    """A new SQLite file in the scenario's scratch folder."""
    return f"sqlite:///{scratch / f'{name}.db'}"


def emptied_postgres(url: str) -> str:
    """url, once every table of that database is dropped (as the tests do before each use)."""
    db = connect(url)
    try:
        for table in db.get_tables():
            db.execute_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    finally:
        db.close()
    return url


def fingerprinted(library: AssetLibrary) -> list[tuple[str, str]]:
    """(key, fingerprint) of each image of a scanned library: what a cached row is keyed by."""
    return [(key, library.fingerprint(library.resolve(key))) for key in library.cosmic_keys]


def store_file_ids(rows: Sequence[tuple[str, str]], bot_id: int, file_id: str) -> None:
    """Cache file_id for each (asset_key, fingerprint), as uploads would have.

    In batches, on the calling thread's connection to the open database.
    """
    for start in range(0, len(rows), BATCH_ROWS):
        with database.atomic():
            ImageAsset.insert_many([
                {"asset_key": key, "file_id": file_id, "file_unique_id": f"bench{start + n}",
                 "bot_id": bot_id, "fingerprint": fingerprint}
                for n, (key, fingerprint) in enumerate(rows[start:start + BATCH_ROWS])
            ]).execute()


def cache_every_image(settings: Settings, photo: Path, chat: int) -> None:
    """Store a file_id for every image of settings' collection, from one real upload to chat.

    As a warm-up would leave them, in a fraction of its time: the bot sends that file_id like
    any other.
    """
    async def upload() -> tuple[int, str]:
        async with Bot(settings.token, base_url=settings.api_url) as bot:
            message = await bot.send_photo(chat, photo.read_bytes())
            return bot.id, message.photo[-1].file_id
    bot_id, file_id = asyncio.run(upload())
    library = AssetLibrary(settings.assets_dir)
    library.scan()
    rows = fingerprinted(library)
    open_database(settings.database_url)
    try:
        apply_migrations()
        store_file_ids(rows, bot_id, file_id)
    finally:
        close_database()
