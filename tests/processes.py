"""Several real processes of one bot at once, for the tests and benchmarks across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.botrunner import REPO_ROOT
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi

# Words of the log lines that must never appear when processes race for the same rows.
RACE_FAILURES = ("ERROR", "Traceback", "UNIQUE constraint", "duplicate key", "IntegrityError")


@dataclass
class Finished:
    """A process that ended: its exit status and everything it wrote."""

    status: int
    output: str

    @property
    def result(self) -> dict:
        """The JSON line a flight_sender printed last."""
        return json.loads(self.output.strip().splitlines()[-1])


def child_env(**variables: str) -> dict[str, str]:
    """The environment of a child process: none of the developer's COSMOBOT_ settings."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith("COSMOBOT_")}
    return {**kept, "PYTHONPATH": str(REPO_ROOT), **variables}


def new_images(root: Path, count: int) -> list[str]:
    """Make count images under root/cosmic and return their keys."""
    names = tuple(f"new-{n:02d}.jpg" for n in range(count))
    make_assets(root, names)
    return [f"cosmic/{name}" for name in names]


def race_senders(url: str, assets: Path, fake: FakeBotApi, keys: list[str], chats: list[int],
                 workdir: Path, timeout: float = 120, claims: bool = True) -> list[Finished]:
    """One flight_sender per chat, all asking for keys at the same moment."""
    go = workdir / "go"
    options = [] if claims else ["--no-claims"]
    commands = [[sys.executable, "-m", "tests.flight_sender", *options, url, str(assets),
                 fake.base_url, str(chat), str(go), *keys] for chat in chats]
    running = _start(commands, child_env(), workdir)
    _wait_for(lambda: all("ready" in _read(log) for _, log in running), timeout)
    go.touch()
    return _finish(running, timeout)


def race_warms(url: str, assets: Path, fake: FakeBotApi, chat: int, count: int,
               workdir: Path, timeout: float = 120) -> list[Finished]:
    """count `python -m cosmobot warm` started at once, to the same cache chat."""
    env = child_env(COSMOBOT_TOKEN=TOKEN, COSMOBOT_DATABASE_URL=url,
                    COSMOBOT_ASSETS_DIR=str(assets), COSMOBOT_API_URL=fake.base_url)
    command = [sys.executable, "-m", "cosmobot", "warm", "--chat", str(chat)]
    return _finish(_start([command] * count, env, workdir), timeout)


def _start(commands: list[list[str]], env: dict[str, str],
           workdir: Path) -> list[tuple[subprocess.Popen, Path]]:
    running = []
    for number, command in enumerate(commands):
        log = workdir / f"process-{number}.log"
        with log.open("w") as out:
            process = subprocess.Popen(command, cwd=workdir, env=env, stdout=out,
                                       stderr=subprocess.STDOUT)
        running.append((process, log))
    return running


def _finish(running: list[tuple[subprocess.Popen, Path]], timeout: float) -> list[Finished]:
    deadline = time.monotonic() + timeout
    finished = []
    for process, log in running:
        try:
            status = process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            status = process.wait()
        finished.append(Finished(status, _read(log)))
    return finished


def _wait_for(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"processes not ready within {timeout} s")
        time.sleep(0.05)


def _read(log: Path) -> str:
    return log.read_text() if log.exists() else ""
