"""A real PostgreSQL server stopped and started under the bot's database layer and its round."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import pytest_asyncio
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from cosmobot.botapi.ratelimit import build_rate_limiter
from cosmobot.clock import utcnow
from cosmobot.schedule import daily, outcomes
from cosmobot.storage import filecache, writes
from cosmobot.storage.database import (
    apply_migrations,
    close_database,
    in_db_thread,
    open_database,
    read_in_db_thread,
)
from cosmobot.storage.models import ImageAsset, Subscription
from tests.dblocks import stored_file_id
from tests.factories import TOKEN

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(180)]
KEY = "cosmic/orion.jpg"
BOT_ID = int(TOKEN.split(":")[0])


@pytest.fixture
def database(outage_cluster, monkeypatch):
    monkeypatch.setattr(writes, "RETRY_MAX_SECONDS", 1.0)  # back soon after the server is
    open_database(outage_cluster.url)
    apply_migrations()
    yield outage_cluster
    close_database()


def lines_with(log_lines: list[str], text: str) -> list[str]:
    return [line for line in log_lines if text in line]


async def query_until_it_works() -> None:
    for _ in range(100):
        try:
            await read_in_db_thread(ImageAsset.select().count)
            return
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError("the database did not come back")


async def test_an_outage_is_logged_once_as_it_starts_and_once_as_it_ends(database, log_lines):
    await read_in_db_thread(ImageAsset.select().count)
    database.stop()
    for query in (in_db_thread, read_in_db_thread) * 3:  # writer and readers alike
        with pytest.raises(Exception):
            await query(ImageAsset.select().count)
    database.start()
    await query_until_it_works()
    await read_in_db_thread(ImageAsset.select().count)
    assert len(lines_with(log_lines, "Database unreachable")) == 1
    assert lines_with(log_lines, "Database unreachable")[0].startswith("WARNING")
    back = lines_with(log_lines, "Database reachable again after")
    assert len(back) == 1 and back[0].startswith("INFO")


async def test_a_file_id_is_kept_until_the_database_is_back_however_long(database, log_lines,
                                                                         monkeypatch):
    monkeypatch.setattr(writes, "WRITE_PATIENCE_SECONDS", 0.5)  # what other writes get
    database.stop()
    write = filecache.remember(KEY, "AgAC-new", "unique", BOT_ID, "f" * 64)
    await asyncio.sleep(3)  # six times the patience of other writes
    assert not write.done()
    database.start()
    assert await asyncio.wait_for(write, 30) is True
    assert stored_file_id(database.url) == "AgAC-new"
    assert not [line for line in log_lines if line.startswith("ERROR")]


# ---- the daily round ------------------------------------------------------------------------

CHATS = range(10_001, 10_151)


@pytest.fixture
def subscribers(database):
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    Subscription.insert_many([
        {"bot_id": BOT_ID, "chat_id": chat, "chat_type": "private", "language": "en",
         "local_time": "00:00", "zone": "UTC", "next_at": midnight} for chat in CHATS]).execute()


@pytest.fixture(autouse=True)
def _no_outcomes_left_over(monkeypatch):
    monkeypatch.setattr(outcomes, "_unrecorded", {})
    monkeypatch.setattr(daily, "_sending", set())


@pytest_asyncio.fixture
async def paced_bot(fake_api):
    async with ExtBot(TOKEN, base_url=fake_api.base_url, rate_limiter=build_rate_limiter(),
                      request=HTTPXRequest(connection_pool_size=40)) as bot:
        yield bot


def photos_by_chat(fake_api) -> Counter:
    return Counter(call.params["chat_id"] for call in fake_api.calls("sendPhoto")
                   if call.status == 200)


async def test_the_round_pauses_through_an_outage_and_resumes_without_loss_or_repeat(
        database, subscribers, library, paced_bot, fake_api, log_lines):
    fake_api.latency = 0.2
    first = asyncio.create_task(daily.run_round(paced_bot))
    await fake_api.await_until(lambda: len(fake_api.calls("sendPhoto")) >= 30, timeout=60)
    database.stop()
    assert await asyncio.wait_for(first, 60) is None  # paused
    sent_before = sum(photos_by_chat(fake_api).values())
    assert 30 <= sent_before < len(CHATS)
    assert await daily.run_round(paced_bot) is None  # still paused, and quietly
    database.start()
    await query_until_it_works()
    report = await daily.run_round(paced_bot)
    assert report is not None and report.still_due == 0
    assert photos_by_chat(fake_api) == Counter({chat: 1 for chat in CHATS})
    assert not outcomes.unrecorded()
    rows = list(Subscription.select())
    assert all(row.delivered_on is not None and row.sending_since is None for row in rows)
    assert not [line for line in log_lines if line.startswith("ERROR")]
    assert len(lines_with(log_lines, "Database unreachable")) == 1
