"""End to end: input far longer than usual gets a proper answer, not an error."""

from __future__ import annotations

import re

import pytest

from cosmobot.texts import ECHO_LIMIT, MESSAGE_LIMIT, telegram_length
from tests.botrunner import BotThread, bot_settings, texts
from tests.factories import make_assets

ALICE, BORIS = 1001, 1002
# A message as long as Telegram lets a user send: the command and about 4,000 characters.
LONG_QUERY = ("quasar " * 572).strip()
QUOTED = {"en": re.compile(r"^No image is called “(.*)”\. Try, for example: ", re.S),
          "ru": re.compile(r"^Изображения «(.*)» нет\. Попробуйте, например: ", re.S)}


@pytest.mark.parametrize(("user", "language"), [(ALICE, "en"), (BORIS, "ru")])
def test_a_very_long_search_without_a_match_is_answered_with_a_short_echo(
        tmp_path, fake_api, log_lines, user, language):
    assets = make_assets(tmp_path / "assets", ("orion.jpg",))
    with BotThread(bot_settings(tmp_path, fake_api, assets), fake_api):
        fake_api.push_text(user, f"/cosmic {LONG_QUERY}", language_code=language)
        reply = fake_api.wait_until(lambda: texts(fake_api, user))[0]
    echo = QUOTED[language].match(reply).group(1)
    assert echo.startswith("quasar quasar") and echo.endswith("…")
    assert telegram_length(echo) <= ECHO_LIMIT
    assert telegram_length(reply) <= MESSAGE_LIMIT
    assert not [line for line in log_lines if line.startswith("ERROR")]
