"""End to end: a herd behind an upload that fails is told once each, and logged once."""

from __future__ import annotations

from cosmobot.botapi.retry import MAX_ATTEMPTS
from tests.botrunner import BotThread, bot_settings, texts
from tests.factories import make_assets


def test_a_failed_shared_upload_is_logged_once(tmp_path, fake_api, log_lines):
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", ("orion.jpg",)))
    fake_api.fail_next("sendPhoto", status=502, times=MAX_ATTEMPTS)
    fake_api.latency = 0.2  # everyone is queued behind the upload before it fails
    users = range(7001, 7021)
    with BotThread(settings, fake_api):
        for user in users:
            fake_api.push_text(user, "/cosmic")
        fake_api.wait_until(lambda: all(texts(fake_api, user) for user in users), timeout=30)
    assert all("try again" in texts(fake_api, user)[0] for user in users)
    assert sum(line.count("Traceback") for line in log_lines) == 1
