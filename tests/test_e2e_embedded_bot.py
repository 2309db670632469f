"""End to end: the README's horoscope bot, its own Application, sends through cosmobot's cache."""

from __future__ import annotations

import asyncio
import datetime
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.ext import Application

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage.database import close_database
from tests.botrunner import REPO_ROOT, photos
from tests.examples import horoscope_bot
from tests.factories import TOKEN, make_assets

ALICE, BORIS = 1001, 1002
SECTION = "## Use the sender in your own bot"


class RunningExample:
    """The example's Application, long-polling the fake API from its own thread."""

    def __init__(self, application: Application, fake) -> None:
        self.application, self.fake = application, fake
        self.loop = asyncio.new_event_loop()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="horoscope-bot", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            # What the example's run_polling() does, minus the signal handlers a thread can't own.
            self.application.run_polling(stop_signals=None, close_loop=False)
        except BaseException as error:  # surfaced in the test's thread
            self.error = error
        finally:
            self.loop.close()

    def __enter__(self) -> RunningExample:
        polls_before = len(self.fake.calls("getUpdates"))
        self._thread.start()
        self.fake.wait_until(
            lambda: self.error or len(self.fake.calls("getUpdates")) > polls_before
        )
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.loop.call_soon_threadsafe(self.application.stop_running)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the example bot did not shut down"
        if self.error:
            raise self.error


@pytest.fixture(autouse=True)
def fresh_sender() -> Iterator[None]:
    yield
    close_database()
    sender.configure(AssetLibrary(Path("assets/images")))


def ask_for_horoscope(fake, chat_id: int) -> dict:
    """Send /horoscope from chat_id and return the photo the bot answered with."""
    before = len(photos(fake, chat_id))
    fake.push_text(chat_id, "/horoscope")
    return fake.wait_until(lambda: photos(fake, chat_id)[before:])[0]


def todays_captions() -> set[str]:
    """Today's horoscope above the image's title and credit (either side of midnight)."""
    today = datetime.date.today()
    return {f"{horoscope_bot.todays_horoscope(today + datetime.timedelta(days=days))}\n\n"
            "The Orion Nebula\nImage: Jane Doe" for days in (-1, 0, 1)}


def test_the_readme_shows_the_example_file_exactly():
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split(SECTION, 1)[1]
    shown = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    assert shown == Path(horoscope_bot.__file__).read_text()


def test_horoscope_bot_uploads_once_then_sends_by_file_id_also_after_a_restart(tmp_path,
                                                                               fake_api):
    database_url = f"sqlite:///{tmp_path / 'horoscope.db'}"
    assets = make_assets(tmp_path / "assets", ("orion.jpg",))
    (assets / "cosmic" / "credits.toml").write_text(
        '["orion.jpg"]\ntitle.en = "The Orion Nebula"\ncredit = "Jane Doe"\n')
    sender.setup(database_url, assets)
    with RunningExample(horoscope_bot.build_application(TOKEN, fake_api.base_url), fake_api):
        first = ask_for_horoscope(fake_api, ALICE)
        again = ask_for_horoscope(fake_api, ALICE)
        other = ask_for_horoscope(fake_api, BORIS)
    assert {first["caption"], again["caption"], other["caption"]} <= todays_captions()
    assert len(fake_api.uploads()) == 1
    file_id = first["photo"][-1]["file_id"]
    assert [call.params["photo"] for call in fake_api.file_id_sends()] == [file_id, file_id]

    # A restart: a new Application and a fresh setup() on the same database file.
    fake_api.reset_calls()
    sender.setup(database_url, assets)
    with RunningExample(horoscope_bot.build_application(TOKEN, fake_api.base_url), fake_api):
        after_restart = ask_for_horoscope(fake_api, BORIS)
    assert after_restart["caption"] in todays_captions()
    assert fake_api.uploads() == []
    assert [call.params["photo"] for call in fake_api.file_id_sends()] == [file_id]
