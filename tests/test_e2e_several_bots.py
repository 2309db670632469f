"""Two bots on one database, as real `python -m cosmobot` processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from telegram import Bot

from cosmobot.clock import utcnow
from cosmobot.storage.database import (
    apply_migrations,
    close_database,
    migration_router,
    open_database,
)
from cosmobot.storage.models import Subscription
from tests.botrunner import BotProcess
from tests.dblocks import file_or_postgres_url, query_one
from tests.factories import BOT_ID, OTHER_BOT_ID, OTHER_TOKEN, TOKEN, make_assets
from tests.fakebotapi import FakeBotApi

pytestmark = pytest.mark.timeout(240)

TOKENS = (TOKEN, OTHER_TOKEN)
ALICE, BOB, CAROL = 1001, 1002, 1003  # subscribed to this bot, to the other, to both
USER, ADMIN = 2001, 501
ORION, ANDROMEDA = "cosmic/orion.jpg", "cosmic/andromeda.png"


@pytest.fixture(params=["sqlite-file", "postgresql"])
def url(request, tmp_path) -> str:
    return file_or_postgres_url(request, tmp_path)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(TOKENS) as api:
        yield api


def environment(token: str, url: str, assets: Path, api: FakeBotApi) -> dict[str, str]:
    return {"COSMOBOT_TOKEN": token, "COSMOBOT_DATABASE_URL": url,
            "COSMOBOT_ASSETS_DIR": str(assets), "COSMOBOT_API_URL": api.base_url,
            "COSMOBOT_ADMIN_IDS": str(ADMIN)}


@contextmanager
def running(api: FakeBotApi, envs: list[dict[str, str]], cwd: Path) -> Iterator[None]:
    """Run a bot process per environment, one after the other; stop them all at the end."""
    bots = []
    try:
        for env in envs:
            bots.append(BotProcess(env, cwd).start())
            token = env["COSMOBOT_TOKEN"]
            api.wait_until(lambda token=token: api.commands(token), timeout=30)  # it runs
        yield
    finally:
        statuses = [bot.stop() for bot in bots]
    assert statuses == [0] * len(bots), "\n\n".join(bot.output for bot in bots)


def due_since_midnight(url: str, subscribers: list[tuple[int, int]]) -> None:
    """Subscribe each (bot, chat): 00:00 UTC, due since this midnight, no image yet."""
    open_database(url)
    apply_migrations()
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    Subscription.insert_many([
        {"bot_id": bot_id, "chat_id": chat_id, "chat_type": "private", "language": "en",
         "local_time": "00:00", "zone": "UTC", "next_at": midnight}
        for bot_id, chat_id in subscribers]).execute()
    close_database()


def photos(api: FakeBotApi, token: str, chat_id: int) -> list[dict]:
    return [message for message in api.sent_to(chat_id, token) if "photo" in message]


def cosmic(api: FakeBotApi, token: str, chat_id: int, command: str = "/cosmic") -> dict:
    """Ask the bot of token for an image; return the photo it sent."""
    before = len(photos(api, token, chat_id))
    api.push_text(chat_id, command, token=token)
    return api.wait_until(lambda: photos(api, token, chat_id)[before:], timeout=30)[0]


def ask(api: FakeBotApi, token: str, chat_id: int, command: str) -> list[str]:
    """Send the bot of token a command; return its text answer, line by line."""
    def answers():
        return [m["text"] for m in api.sent_to(chat_id, token) if "text" in m]

    before = len(answers())
    api.push_text(chat_id, command, token=token)
    return api.wait_until(lambda: answers()[before:], timeout=30)[0].splitlines()


def section(reply: list[str], title: str) -> list[str]:
    """The lines of one section of /stats' reply, after its title."""
    start = reply.index(title) + 1
    end = reply.index("", start) if "" in reply[start:] else len(reply)
    return reply[start:end]


def uploads_by_bot(api: FakeBotApi) -> Counter:
    return Counter(call.token for call in api.uploads())


def own_file_ids(api: FakeBotApi) -> dict[str, str]:
    """The file_id each bot got for the one image it uploaded."""
    return {call.token: call.result["photo"][-1]["file_id"] for call in api.uploads()}


def delivered(url: str) -> int:
    return query_one(url, "SELECT count(*) FROM subscriptions WHERE delivered_on IS NOT NULL")[0]


def test_two_bots_on_one_database_each_keep_to_their_own(url, api, tmp_path):
    assets = make_assets(tmp_path / "assets", ("orion.jpg",))
    due_since_midnight(url, [(BOT_ID, ALICE), (OTHER_BOT_ID, BOB),
                             (BOT_ID, CAROL), (OTHER_BOT_ID, CAROL)])
    envs = [environment(token, url, assets, api) for token in TOKENS]
    with running(api, envs, tmp_path):
        api.wait_until(lambda: delivered(url) == 4, timeout=60)  # the rounds are done
        for token in TOKENS:
            cosmic(api, token, USER)
            cosmic(api, token, USER)
        stats = {token: ask(api, token, ADMIN, "/stats") for token in TOKENS}
    # Each subscriber had the day's image from its own bot only; Carol had one from each.
    assert {(token, chat): len(photos(api, token, chat))
            for token in TOKENS for chat in (ALICE, BOB, CAROL)} == {
        (TOKEN, ALICE): 1, (TOKEN, BOB): 0, (TOKEN, CAROL): 1,
        (OTHER_TOKEN, ALICE): 0, (OTHER_TOKEN, BOB): 1, (OTHER_TOKEN, CAROL): 1}
    # One upload each, all else by the bot's own file_id.
    assert uploads_by_bot(api) == {TOKEN: 1, OTHER_TOKEN: 1}
    file_ids = own_file_ids(api)
    assert file_ids[TOKEN] != file_ids[OTHER_TOKEN]
    assert all(call.params["photo"] == file_ids[call.token] for call in api.file_id_sends())
    assert len(api.file_id_sends()) == 6
    for token in TOKENS:
        assert section(stats[token], "Photos sent") == [
            "• by file_id: 3 since start, 3 in total", "• uploaded: 1 since start, 1 in total"]
        assert section(stats[token], "Daily image")[:3] == [
            "• subscribers: 2 active, 0 inactive", "• set aside (time or time zone unreadable): 0",
            "• today: 2 delivered, 0 due, 0 failed tries"]
    assert query_one(url, "SELECT count(DISTINCT bot_id) FROM image_assets") == (2,)

    api.reset_calls()
    with running(api, envs, tmp_path):  # both restart: the cache is in the database
        sent = {token: cosmic(api, token, USER) for token in TOKENS}
        stats = {token: ask(api, token, ADMIN, "/stats") for token in TOKENS}
    assert api.uploads() == []
    assert {token: message["photo"][-1]["file_id"] for token, message in sent.items()} == file_ids
    assert all(not photos(api, token, chat) for token in TOKENS for chat in (ALICE, BOB, CAROL))
    for token in TOKENS:
        assert section(stats[token], "Photos sent") == [
            "• by file_id: 1 since start, 4 in total", "• uploaded: 0 since start, 1 in total"]


def upload_beforehand(api: FakeBotApi, path: Path) -> dict:
    """The photo Telegram knows for this bot from an upload before the database's migration."""
    async def upload() -> dict:
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            message = await bot.send_photo(ADMIN, path.read_bytes())
        return message.photo[-1].to_dict()

    return asyncio.run(upload())


def database_at_004(url: str, cached: dict | None, fingerprint: str) -> None:
    """A database at 004's schema, as a bot used it: Alice subscribed, with Orion seen."""
    db = open_database(url)
    migration_router().run("004_add_daily_round_bookkeeping")
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [("subscriptions", {"chat_id": ALICE, "chat_type": "private", "language": "en",
                               "local_time": "00:00", "zone": "UTC", "next_at": midnight}),
            ("seen_images", {"chat_id": ALICE, "asset_key": ORION}),
            ("send_counts", {"name": "uploads", "value": 5}),
            ("send_counts", {"name": "file_id_sends", "value": 7})]
    if cached is not None:
        rows.append(("image_assets", {"asset_key": ORION, "file_id": cached["file_id"],
                                      "file_unique_id": cached["file_unique_id"],
                                      "bot_id": BOT_ID, "fingerprint": fingerprint}))
    for table, values in rows:
        marks = ", ".join([db.param] * len(values))
        db.execute_sql(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({marks})",
                       tuple(values.values()))
    close_database()


@pytest.mark.parametrize("cached", [True, False], ids=["its-bot-known", "no-image-cached"])
def test_a_database_from_before_is_served_by_the_bot_that_had_it(url, api, tmp_path, cached):
    assets = make_assets(tmp_path / "assets", ("orion.jpg", "andromeda.png"))
    orion = assets / ORION
    photo = upload_beforehand(api, orion) if cached else None
    database_at_004(url, photo, hashlib.sha256(orion.read_bytes()).hexdigest())
    api.reset_calls()
    # The migration gives the rows to the bot its cached image names, whichever bot starts
    # first; with no image cached they wait for the first bot that starts: this one, here.
    order = (OTHER_TOKEN, TOKEN) if cached else (TOKEN, OTHER_TOKEN)
    envs = [environment(token, url, assets, api) for token in order]
    with running(api, envs, tmp_path):
        daily = api.wait_until(lambda: photos(api, TOKEN, ALICE), timeout=60)[0]
        asked = cosmic(api, TOKEN, USER, "/cosmic orion")
        status = {token: ask(api, token, ALICE, "/status")[0] for token in TOKENS}
        stats = ask(api, TOKEN, ADMIN, "/stats")
    assert daily["caption"].startswith("Andromeda")  # Orion was seen this round: kept
    assert photos(api, OTHER_TOKEN, ALICE) == []
    assert status[TOKEN].startswith("This chat gets a cosmic image every day at 00:00 (UTC)")
    assert status[OTHER_TOKEN].startswith("This chat has no daily image.")
    if cached:  # Orion's cached file_id went on being used: no upload of it
        assert asked["photo"][-1]["file_id"] == photo["file_id"]
        assert [call.params["photo"] for call in api.file_id_sends()] == [photo["file_id"]]
    uploads = 1 if cached else 2
    assert uploads_by_bot(api) == {TOKEN: uploads}
    assert section(stats, "Photos sent") == [
        f"• by file_id: {2 - uploads} since start, {9 - uploads} in total",
        f"• uploaded: {uploads} since start, {5 + uploads} in total"]
    assert section(stats, "Daily image")[0] == "• subscribers: 1 active, 0 inactive"
