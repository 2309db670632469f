"""Shared fixtures: databases, asset folders, log capture, the fake Bot API."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest
from loguru import logger
from playhouse.db_url import connect

from cosmobot import clock, sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage import outage
from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi
from tests.pgcluster import OUTAGE_CLUSTER, OUTAGE_URL, Cluster

POSTGRES_URL = os.environ.get("COSMOBOT_TEST_POSTGRES_URL")


def _postgres_url() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if os.environ.get("CI"):
        pytest.fail("COSMOBOT_TEST_POSTGRES_URL must be set in CI: PostgreSQL tests may not skip")
    pytest.skip("set COSMOBOT_TEST_POSTGRES_URL to run the PostgreSQL variant")


def _drop_all(db: peewee.Database) -> None:
    cascade = " CASCADE" if isinstance(db, peewee.PostgresqlDatabase) else ""
    for table in db.get_tables():
        db.execute_sql(f'DROP TABLE IF EXISTS "{table}"{cascade}')


def _empty_postgres(url: str) -> None:
    db = connect(url)
    _drop_all(db)
    db.close()


@pytest.fixture(autouse=True)
def _real_time() -> Iterator[None]:
    """Every test starts and ends with cosmobot's clock on the system's time."""
    clock.set_offset(dt.timedelta(0))
    yield
    clock.set_offset(dt.timedelta(0))


@pytest.fixture(autouse=True)
def _no_outage_left_over() -> Iterator[None]:
    """An outage one test's database had is not another test's to log the end of."""
    outage.forget()
    yield
    outage.forget()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> Iterator[str]:
    """A database URL, once for SQLite and once for a real, emptied PostgreSQL database."""
    if request.param == "sqlite":
        yield "sqlite:///:memory:"
        return
    url = _postgres_url()
    _empty_postgres(url)
    yield url
    _empty_postgres(url)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a real, emptied PostgreSQL database (PostgreSQL-only tests)."""
    url = _postgres_url()
    _empty_postgres(url)
    yield url


@pytest.fixture
def outage_cluster() -> Iterator[Cluster]:
    """A real PostgreSQL server the test may stop and start, with its database emptied."""
    if not (OUTAGE_URL and OUTAGE_CLUSTER):
        if os.environ.get("CI"):
            pytest.fail("COSMOBOT_TEST_OUTAGE_URL and COSMOBOT_TEST_OUTAGE_CLUSTER must be set "
                        "in CI: outage tests may not skip")
        pytest.skip("set COSMOBOT_TEST_OUTAGE_URL and COSMOBOT_TEST_OUTAGE_CLUSTER to run it")
    cluster = Cluster(OUTAGE_CLUSTER, OUTAGE_URL)
    cluster.start()
    _empty_postgres(OUTAGE_URL)
    try:
        yield cluster
    finally:
        cluster.start()  # whatever the test did, the next one finds it running
        _empty_postgres(OUTAGE_URL)


@pytest.fixture
def empty_db(database_url: str) -> Iterator[peewee.Database]:
    """An open, empty database bound to the models' proxy."""
    db = open_database(database_url)
    yield db
    _close(db)


@pytest.fixture
def db(empty_db: peewee.Database) -> peewee.Database:
    """A database with every migration applied."""
    apply_migrations()
    return empty_db


@pytest.fixture
def memory_db() -> Iterator[peewee.Database]:
    """A migrated in-memory SQLite database."""
    db = open_database("sqlite:///:memory:")
    apply_migrations()
    yield db
    _close(db)


def _close(db: peewee.Database) -> None:
    # Writes a test queued on the database thread and did not wait for (a shuffle bag's, say)
    # finish first: an in-memory database shares one connection with that thread.
    close_database()
    db.close()


@pytest.fixture
def assets_root(tmp_path: Path) -> Path:
    """An assets root holding two small cosmic images."""
    return make_assets(tmp_path / "assets", ("orion.jpg", "andromeda.png"))


@pytest.fixture
def library(assets_root: Path) -> Iterator[AssetLibrary]:
    """A scanned library the sender uses for the test."""
    library = AssetLibrary(assets_root)
    library.scan()
    sender.configure(library)
    yield library
    sender.configure(AssetLibrary(Path("assets/images")))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every loguru line written during the test (DEBUG and up), formatted."""
    lines: list[str] = []
    handler = logger.add(lines.append, level="DEBUG", format="{level} {message}")
    yield lines
    logger.remove(handler)


@pytest.fixture
def fake_api() -> Iterator[FakeBotApi]:
    """A fake Bot API on 127.0.0.1 that knows the test token.

    Teardown fails the test if its oracle saw a call the Bot API would refuse, or an answer
    Telegram would not give (leaving the `with` block asserts none).
    """
    with FakeBotApi([TOKEN]) as api:
        yield api
