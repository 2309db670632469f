"""sender.setup() and shutdown(): the sender in a bot of someone else's, without the CLI."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger
from telegram import Bot

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage.database import (
    MIGRATIONS_DIR,
    close_database,
    database,
    migration_router,
    pending_migrations,
)
from tests.factories import TOKEN, make_assets

ALICE = 1001
MIGRATIONS = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.py"))


@pytest.fixture(autouse=True)
def fresh_sender() -> Iterator[None]:
    """Leave no database open and no library configured for the next test."""
    yield
    close_database()
    sender.configure(AssetLibrary(Path("assets/images")))


@pytest.fixture
def assets(tmp_path: Path) -> Path:
    return make_assets(tmp_path / "assets", ("orion.jpg",))


@pytest.fixture(params=["sqlite", "postgresql"])
def lasting_url(request, tmp_path: Path) -> str:
    """A database that outlives its connections: a SQLite file, or the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cache.db'}"
    return request.getfixturevalue("postgres_url")


async def send_once(fake_api, caption: str = "Hello") -> dict:
    """Send a random cosmic image to ALICE through the sender, as another bot would."""
    async with Bot(TOKEN, base_url=fake_api.base_url) as bot:
        message = await sender.send_random_cosmic(bot, ALICE, caption)
    assert message is not None
    return fake_api.sent_to(ALICE)[-1]


@pytest.mark.asyncio
async def test_setup_sends_through_the_cache_and_it_survives_shutdown(lasting_url, assets,
                                                                      fake_api):
    library = sender.setup(lasting_url, assets)
    assert library.cosmic_keys == ["cosmic/orion.jpg"]
    first = await send_once(fake_api, "Today: stars")
    second = await send_once(fake_api)
    assert first["caption"] == "Today: stars"
    assert (len(fake_api.uploads()), len(fake_api.file_id_sends())) == (1, 1)
    await sender.shutdown()
    assert database.is_closed()

    sender.setup(lasting_url, assets)
    await send_once(fake_api)
    assert (len(fake_api.uploads()), len(fake_api.file_id_sends())) == (1, 2)
    assert second["photo"][-1]["file_id"] == fake_api.file_id_sends()[-1].params["photo"]


@pytest.mark.asyncio
async def test_setup_twice_is_the_same_as_once(database_url, assets, fake_api):
    first = sender.setup(database_url, assets)
    first_connection = database.obj
    second = sender.setup(database_url, assets)
    assert first_connection.is_closed()  # replaced, not leaked
    assert second.cosmic_keys == first.cosmic_keys
    assert pending_migrations() == []
    assert sorted(migration_router().done) == MIGRATIONS  # each applied once, no duplicates
    await send_once(fake_api)
    assert len(fake_api.uploads()) == 1


@pytest.mark.parametrize("url", ["nosuch://nowhere", "not a url",
                                 "postgresql://cosmobot:cosmobot@127.0.0.1:1/cosmobot"])
def test_a_database_that_cannot_be_opened_is_a_clear_error(url, assets):
    with pytest.raises(sender.SetupError, match="Cannot open or migrate cosmobot's database"):
        sender.setup(url, assets)


@pytest.mark.parametrize("folder", ["missing", "assets/cosmic", "."])
def test_a_folder_without_cosmic_images_is_a_clear_error(folder, assets, tmp_path):
    with pytest.raises(sender.SetupError, match="No cosmic/ folder in"):
        sender.setup(f"sqlite:///{tmp_path / 'cache.db'}", tmp_path / folder)
    assert not (tmp_path / "cache.db").exists()  # nothing touched before the folder was found


def test_setup_configures_no_logging(assets, tmp_path):
    # loguru has no public list of its handlers.
    loguru_before = dict(logger._core.handlers)
    stdlib_before = {name: list(logging.getLogger(name).handlers)
                     for name in ("", "peewee", "peewee_migrate", "telegram")}
    sender.setup(f"sqlite:///{tmp_path / 'cache.db'}", assets)
    assert dict(logger._core.handlers) == loguru_before
    assert {name: list(logging.getLogger(name).handlers) for name in stdlib_before} == stdlib_before


def test_setup_reads_no_env_file_and_leaves_the_environment_alone(assets, tmp_path, monkeypatch):
    # Another folder, with a .env of cosmobot's own: setup() must use only its arguments, and
    # find cosmobot's migrations wherever it is run from.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("COSMOBOT_DATABASE_URL=sqlite:///from-env.db\n"
                                    "COSMOBOT_ASSETS_DIR=/nonexistent\n")
    monkeypatch.chdir(elsewhere)
    environment = dict(os.environ)
    library = sender.setup(f"sqlite:///{tmp_path / 'cache.db'}", assets)
    assert library.root == assets
    assert dict(os.environ) == environment
    assert not (elsewhere / "from-env.db").exists()
    assert pending_migrations() == []
