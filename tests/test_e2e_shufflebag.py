"""End to end: no repeats per chat, across "Another one", groups and a restarted process."""

from __future__ import annotations

from tests.botrunner import BotProcess, BotThread, bot_settings, photos
from tests.factories import TOKEN, make_assets

ALICE, BORIS = 1001, 1002
GROUP = -1009876543210
NAMES = tuple(f"image-{n}.jpg" for n in range(6))
TITLES = sorted(f"Image {n}" for n in range(6))


def captions(fake_api, chat_id):
    return [message["caption"] for message in photos(fake_api, chat_id)]


def ask(fake_api, chat_id, count, user_id=None, button=False):
    """Ask for count images one after another (/cosmic, or "Another one" if button)."""
    for _ in range(count):
        before = len(photos(fake_api, chat_id))
        if button and before:
            fake_api.push_callback(chat_id, "cosmic", user_id=user_id)
        else:
            fake_api.push_text(chat_id, "/cosmic", user_id=user_id)
        fake_api.wait_until(lambda: len(photos(fake_api, chat_id)) > before, timeout=20)


def test_a_group_and_a_private_chat_each_see_every_image_once(tmp_path, fake_api):
    settings = bot_settings(tmp_path, fake_api, make_assets(tmp_path / "assets", NAMES))
    fake_api.add_group(GROUP)
    with BotThread(settings, fake_api):
        for _ in NAMES:
            ask(fake_api, ALICE, 1, button=True)
            ask(fake_api, GROUP, 1, user_id=BORIS, button=True)
    assert sorted(captions(fake_api, ALICE)) == TITLES
    assert sorted(captions(fake_api, GROUP)) == TITLES


def test_no_repeat_across_a_restart_of_the_process(tmp_path, fake_api):
    env = {
        "COSMOBOT_TOKEN": TOKEN,
        "COSMOBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "COSMOBOT_ASSETS_DIR": str(make_assets(tmp_path / "assets", NAMES)),
        "COSMOBOT_API_URL": fake_api.base_url,
    }
    for count in (2, 4):  # a round of six, split by a restart
        bot = BotProcess(env, tmp_path).start()
        try:
            fake_api.wait_until(lambda: fake_api.commands(), timeout=20)
            ask(fake_api, ALICE, count, button=True)
        finally:
            assert bot.stop() == 0, bot.output
    assert sorted(captions(fake_api, ALICE)) == TITLES
