"""Running the real bot against the fake Bot API: in a thread, or as a separate process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from telegram import Bot

from cosmobot import sender
from cosmobot.bot.app import build_application
from cosmobot.bot.lifecycle import run_application
from cosmobot.config import Settings
from cosmobot.images.assets import AssetLibrary
from cosmobot.schedule.warm import warm_cache
from cosmobot.storage import filecache
from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.factories import TOKEN
from tests.fakebotapi import FakeBotApi

REPO_ROOT = Path(__file__).resolve().parent.parent


def bot_settings(tmp_path: Path, fake: FakeBotApi, assets_dir: Path) -> Settings:
    """Settings for a bot with a fresh SQLite file in tmp_path, talking to the fake API."""
    return Settings(
        token=TOKEN,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        assets_dir=assets_dir,
        api_url=fake.base_url,
    )


def photos(fake: FakeBotApi, chat_id: int) -> list[dict]:
    """The photo messages the bot delivered to chat_id."""
    return [message for message in fake.sent_to(chat_id) if "photo" in message]


def texts(fake: FakeBotApi, chat_id: int) -> list[str]:
    """The texts of the text messages the bot delivered to chat_id."""
    return [message["text"] for message in fake.sent_to(chat_id) if "text" in message]


def warm_now(settings: Settings, chat_id: int) -> None:
    """Cache every image for the bot before it starts, at the fake's full speed (no pacing)."""
    async def warm() -> bool:
        library = AssetLibrary(settings.assets_dir)
        library.scan()
        sender.configure(library)
        async with Bot(settings.token, base_url=settings.api_url) as bot:
            report = await warm_cache(bot, chat_id)
        await filecache.settle()
        return report.complete

    open_database(settings.database_url)
    apply_migrations()
    try:
        assert asyncio.run(warm()), "the warm-up left images uncached"
    finally:
        close_database()


class BotThread:
    """The real Application, long-polling the fake API from its own thread and event loop."""

    def __init__(self, settings: Settings, fake: FakeBotApi) -> None:
        self.settings, self.fake = settings, fake
        self.application = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cosmobot", daemon=True)

    def _run(self) -> None:
        try:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            # What `cosmobot run` does, minus the signal handlers a non-main thread can't own.
            open_database(self.settings.database_url)
            apply_migrations()
            self.application = build_application(self.settings)
            run_application(self.application, stop_signals=None, loop=self.loop)
        except BaseException as error:  # surfaced by start()/stop() in the test's thread
            self.error = error

    def start(self) -> BotThread:
        """Start the bot and wait until it is polling."""
        polls_before = len(self.fake.calls("getUpdates"))
        self._thread.start()
        self.fake.wait_until(
            lambda: self.error or (
                self.application is not None and self.application.running
                and len(self.fake.calls("getUpdates")) > polls_before
            )
        )
        if self.error:
            raise self.error
        return self

    def stop(self) -> None:
        """Stop polling the way a stop signal would, and wait for a clean shutdown."""
        if self.loop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        assert not self._thread.is_alive(), "the bot did not shut down"
        if self.error:
            raise self.error

    def __enter__(self) -> BotThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class BotProcess:
    """`python -m cosmobot run` (or another command) as a child process, output captured."""

    def __init__(self, env: dict[str, str], cwd: Path, command: str = "run") -> None:
        self.command = command
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("COSMOBOT_")},
            "PYTHONPATH": str(REPO_ROOT),
            **env,
        }
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        # A file, not a pipe: a chatty DEBUG run must never block on a full pipe.
        self.log_path = cwd / f"bot-{id(self)}.log"

    @property
    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text() if self.log_path.exists() else ""

    def start(self) -> BotProcess:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cosmobot", self.command],
                cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def stop(self, timeout: float = 30) -> int:
        """Send SIGINT (Ctrl+C), wait for the exit and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.wait(timeout)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the process to exit on its own; return its exit status."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
