"""SIGTERM in the middle of a daily round of a real `python -m cosmobot`, then a restart."""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter

import pytest

from cosmobot.clock import utcnow
from cosmobot.storage.database import apply_migrations, open_database
from cosmobot.storage.models import Subscription
from tests.botrunner import BotProcess
from tests.factories import BOT_ID, TOKEN, make_assets

pytestmark = pytest.mark.timeout(150)

SUBSCRIBERS = 1000
FIRST_CHAT = 10_000
# With 30 sends in flight answered after this long, and the limiter pacing them to 30 a
# second, the round takes several seconds.
LATENCY_SECONDS = 0.5


@pytest.fixture
def bot_env(tmp_path, fake_api):
    make_assets(tmp_path / "assets", ("orion.jpg", "andromeda.png"))
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    db = open_database(url)
    apply_migrations()
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [{"bot_id": BOT_ID, "chat_id": FIRST_CHAT + n, "chat_type": "private",
             "language": "en", "local_time": "00:00", "zone": "UTC", "next_at": midnight}
            for n in range(SUBSCRIBERS)]
    with db.atomic():
        Subscription.insert_many(rows).execute()  # all due since midnight, none had it yet
    db.close()
    return {
        "COSMOBOT_TOKEN": TOKEN,
        "COSMOBOT_DATABASE_URL": url,
        "COSMOBOT_ASSETS_DIR": str(tmp_path / "assets"),
        "COSMOBOT_API_URL": fake_api.base_url,
    }


def delivered(fake_api) -> Counter:
    """How many photos each chat received."""
    return Counter(c.params["chat_id"] for c in fake_api.calls("sendPhoto") if c.status == 200)


def test_sigterm_mid_round_and_a_restart_deliver_each_image_exactly_once(
        fake_api, bot_env, tmp_path):
    fake_api.latency = LATENCY_SECONDS
    first = BotProcess(bot_env, tmp_path).start()
    try:
        fake_api.wait_until(lambda: len(fake_api.calls("sendPhoto")) >= SUBSCRIBERS // 3,
                            timeout=60)
        first.process.send_signal(signal.SIGTERM)
        assert first.wait() == 0, first.output
    finally:
        first.stop()
    after_stop = delivered(fake_api)
    assert 0 < sum(after_stop.values()) < SUBSCRIBERS  # stopped midway ...
    with sqlite3.connect(tmp_path / "bot.db") as db:  # ... with every send in flight recorded
        marked = db.execute("SELECT count(*) FROM subscriptions WHERE sending_since IS NOT NULL")
        assert marked.fetchone() == (0,)
        recorded = db.execute("SELECT count(*) FROM subscriptions WHERE delivered_on IS NOT NULL")
        assert recorded.fetchone() == (sum(after_stop.values()),)

    second = BotProcess(bot_env, tmp_path).start()
    try:
        fake_api.wait_until(lambda: len(delivered(fake_api)) == SUBSCRIBERS, timeout=90)
    finally:
        assert second.stop() == 0, second.output
    counts = delivered(fake_api)
    assert set(counts) == {FIRST_CHAT + n for n in range(SUBSCRIBERS)}
    assert set(counts.values()) == {1}
    assert not any(c.status != 200 for c in fake_api.calls("sendPhoto") if c.status is not None)
