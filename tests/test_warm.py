"""Warming the cache: `cosmobot warm` (in-process and as a real process) and the bot's own."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import pytest

from cosmobot.cli import ExitStatus, main
from cosmobot.schedule import jobs
from cosmobot.storage.database import close_database, migration_router, open_database
from cosmobot.storage.models import ImageAsset, SendCount
from tests.botrunner import REPO_ROOT, BotThread, bot_settings, photos, texts
from tests.factories import BOT_ID, TOKEN, make_assets, make_image

ALICE = 1001
CACHE_CHAT = -1001112223334
NAMES = ("a.jpg", "b.jpg", "c.png")
SECRET_HALF = TOKEN.split(":")[1]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \| ")


@pytest.fixture
def assets(tmp_path):
    return make_assets(tmp_path / "assets", NAMES)


@pytest.fixture
def env(tmp_path, fake_api, assets):
    fake_api.add_group(CACHE_CHAT, "Cache")
    return {
        "COSMOBOT_TOKEN": TOKEN,
        "COSMOBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "COSMOBOT_ASSETS_DIR": str(assets),
        "COSMOBOT_API_URL": fake_api.base_url,
        "COSMOBOT_CACHE_CHAT_ID": str(CACHE_CHAT),
    }


@pytest.fixture
def cli_env(env, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("COSMOBOT_LOG_LEVEL", raising=False)
    monkeypatch.delenv("COSMOBOT_ADMIN_IDS", raising=False)
    return env


def run_warm(env, cwd, *args):
    """`python -m cosmobot warm` as a real process; returns (status, stdout, stderr)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COSMOBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "cosmobot", "warm", *args], cwd=cwd, capture_output=True,
        text=True, timeout=60, env={**clean, "PYTHONPATH": str(REPO_ROOT), **env},
    )
    return done.returncode, done.stdout, done.stderr


def users_get_images_without_upload(settings, fake_api, count):
    """Ask the bot for count images as a user; assert none of them was an upload."""
    uploads_before = len(fake_api.uploads())
    with BotThread(settings, fake_api):
        for n in range(1, count + 1):
            fake_api.push_text(ALICE, "/cosmic")
            fake_api.wait_until(lambda n=n: len(photos(fake_api, ALICE)) == n)
    assert len(fake_api.uploads()) == uploads_before
    assert len(fake_api.file_id_sends()) >= count


def test_warm_as_a_process_caches_every_image(env, fake_api, tmp_path):
    status, out, err = run_warm(env, tmp_path)
    assert status == 0, err
    assert [str(call.params["chat_id"]) for call in fake_api.uploads()] == [str(CACHE_CHAT)] * 3
    assert out.strip().splitlines() == [
        f"Warmed 3 images in chat {CACHE_CHAT}: 3 uploaded, 0 already cached, 0 failed; "
        "every image is cached."
    ]
    # The progress bar: image n of N and the counts so far.
    assert "3/3" in err and "uploaded 3, already cached 0, failed 0" in err
    assert SECRET_HALF not in out + err
    settings = bot_settings(tmp_path, fake_api, tmp_path / "assets")
    users_get_images_without_upload(settings, fake_api, count=3)


def test_warm_in_process_skips_what_is_cached(cli_env, fake_api, assets, capsys):
    assert main(["warm"]) == ExitStatus.OK
    make_image(assets / "cosmic" / "d.jpg")
    assert main(["warm", "--chat", str(CACHE_CHAT)]) == ExitStatus.OK
    out = capsys.readouterr().out
    assert "1 uploaded, 3 already cached, 0 failed" in out
    assert len(fake_api.uploads()) == 4


def test_warm_run_first_on_a_database_of_before_adopts_its_rows(cli_env, fake_api):
    open_database(cli_env["COSMOBOT_DATABASE_URL"])
    migration_router().run("004_add_daily_round_bookkeeping")
    SendCount.insert(name="uploads", value=5).execute()  # no image cached: whose is it?
    close_database()
    assert main(["warm"]) == ExitStatus.OK
    open_database(cli_env["COSMOBOT_DATABASE_URL"])
    try:
        assert SendCount.totals(BOT_ID) == {"uploads": 5 + len(NAMES)}
    finally:
        close_database()


def test_a_failed_upload_is_counted_and_exits_1(env, fake_api, tmp_path):
    fake_api.fail_next("sendPhoto", status=400,
                       description="Bad Request: not enough rights to send photos to the chat")
    status, out, err = run_warm(env, tmp_path)
    assert status == 1
    assert "2 uploaded, 0 already cached, 1 failed; 1 not cached." in out
    lines = re.split(r"[\r\n]", err)
    assert len([line for line in lines if "Could not upload" in line]) == 1
    # Every log line starts a line of its own: the progress bar was moved out of its way.
    logged = [line for line in lines if re.search(r" \| (INFO|WARNING) +\| ", line)]
    assert logged and all(LOG_LINE.match(line) for line in logged), err


def test_a_chat_the_bot_cannot_post_to_stops_the_pass(cli_env, fake_api, capsys, monkeypatch):
    fake_api.strict_chats = True
    monkeypatch.setenv("COSMOBOT_CACHE_CHAT_ID", "-100999")  # a chat the fake does not know
    assert main(["warm"]) == ExitStatus.ERROR
    assert "0 uploaded, 0 already cached, 3 failed" in capsys.readouterr().out
    assert len(fake_api.calls("sendPhoto")) == 1  # not once per image


@pytest.mark.parametrize(
    ("drop", "message"),
    [("COSMOBOT_CACHE_CHAT_ID", "set COSMOBOT_CACHE_CHAT_ID or pass --chat"),
     ("COSMOBOT_TOKEN", "COSMOBOT_TOKEN is not set")],
)
def test_configuration_problems_exit_2(env, fake_api, tmp_path, drop, message):
    status, out, err = run_warm({k: v for k, v in env.items() if k != drop}, tmp_path)
    assert status == 2 and message in err
    assert fake_api.calls("sendPhoto") == []


def test_a_chat_that_is_no_number_exits_2(env, tmp_path):
    status, _, err = run_warm(env, tmp_path, "--chat", "@mychannel")
    assert status == 2 and "--chat" in err


def test_the_bot_warms_the_cache_in_the_background(tmp_path, fake_api, env, assets, monkeypatch):
    monkeypatch.setattr(jobs, "RESCAN_INTERVAL_SECONDS", 0.3)
    settings = dataclasses.replace(bot_settings(tmp_path, fake_api, assets),
                                   cache_chat_id=CACHE_CHAT)
    fake_api.upload_bandwidth = 2_000  # bytes/s: the warm-up takes a second or two
    with BotThread(settings, fake_api):
        fake_api.push_text(ALICE, "/help")
        fake_api.wait_until(lambda: texts(fake_api, ALICE))
        fake_api.wait_until(lambda: len(photos(fake_api, CACHE_CHAT)) == 3, timeout=30)
        # Start-up waited for no upload: the bot answered while the warm-up still ran.
        order = [call.method for call in fake_api.calls() if call.method in
                 ("sendMessage", "sendPhoto")]
        assert order.index("sendMessage") < len(order) - 1
        fake_api.upload_bandwidth = None
        make_image(assets / "cosmic" / "d.jpg")  # warmed after the next rescan
        fake_api.wait_until(lambda: len(photos(fake_api, CACHE_CHAT)) == 4, timeout=30)
    assert all(str(call.params["chat_id"]) == str(CACHE_CHAT) for call in fake_api.uploads())
    assert not fake_api.calls("sendChatAction")  # nobody watches the cache chat
    users_get_images_without_upload(settings, fake_api, count=4)


def cached_keys(settings):
    """The keys with a file_id in the bot's database, read after the bot stopped."""
    open_database(settings.database_url)
    try:
        return sorted(row.asset_key for row in ImageAsset.select())
    finally:
        close_database()


def test_stopping_the_bot_lets_the_upload_in_flight_finish(tmp_path, fake_api, assets, log_lines):
    settings = dataclasses.replace(bot_settings(tmp_path, fake_api, assets),
                                   cache_chat_id=CACHE_CHAT)
    fake_api.add_group(CACHE_CHAT, "Cache")
    fake_api.upload_bandwidth = 200  # bytes/s: each upload takes a few seconds
    bot = BotThread(settings, fake_api).start()
    upload = fake_api.wait_until(lambda: fake_api.uploads())[0]
    assert upload.status is None  # on its way when the bot is told to stop
    bot.stop()
    assert upload.status == 200
    assert len(fake_api.uploads()) == 1  # and no new image was taken after that
    assert cached_keys(settings) == [f"cosmic/{upload.filename}"]
    assert [line for line in log_lines if line.startswith(("WARNING", "ERROR"))] == []
