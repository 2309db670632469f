"""Benchmark: how soon a standby takes over when the leader is killed (SIGKILL).

Usage:
    python -m tests.benchmarks.failover [--runs 5] [--postgres URL]

Runs two `python -m cosmobot run` processes of one bot on one database against the fake Bot
API: a SQLite file, and PostgreSQL when a URL is given (or COSMOBOT_TEST_POSTGRES_URL is set;
its tables are kept, the migrations applied). Once one leads and the other stands by, the
leader gets SIGKILL and a user's /help is queued at Telegram. Prints, per run and as the
median, the seconds from the kill to the standby's first poll and to its answer.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import tempfile
import time
from pathlib import Path

from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.botrunner import BotProcess, texts
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi

ALICE = 1001
# Seconds the standby stands by before the kill: at least one try, then a random moment
# between two tries, as a real death would fall.
STANDING = 1.2


def one_run(url: str, folder: Path) -> tuple[float, float]:
    """Kill a leader; return the seconds until the standby polled and until it answered."""
    open_database(url)
    try:
        apply_migrations()
    finally:
        close_database()
    with FakeBotApi([TOKEN]) as api:
        env = {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": url,
               "COSMOBOT_ASSETS_DIR": str(make_assets(folder / "assets")),
               "COSMOBOT_API_URL": api.base_url}
        processes = [BotProcess(env, folder).start() for _ in range(2)]
        try:
            leader = api.wait_until(lambda: next(
                (p for p in processes if "This process (" in p.output), None), timeout=30)
            api.wait_until(lambda: any("Standing by" in p.output for p in processes), timeout=30)
            time.sleep(STANDING + random.random())
            leader.process.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            api.push_text(ALICE, "/help")
            api.wait_until(lambda: texts(api, ALICE), timeout=30)
        finally:
            for process in processes:
                process.stop()
        polled = min(c.timestamp for c in api.calls("getUpdates") if c.timestamp > killed)
        answered = next(c.timestamp for c in api.calls("sendMessage") if c.status == 200)
    return polled - killed, answered - killed


def measure(name: str, url_for, runs: int) -> None:
    figures = []
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            figures.append(one_run(url_for(Path(folder)), Path(folder)))
        print(f"{name} run {run + 1}: first poll {figures[-1][0]:.2f} s, "
              f"answer {figures[-1][1]:.2f} s after the kill")
    polled, answered = (statistics.median(column) for column in zip(*figures))
    print(f"{name}: the standby polls {polled:.2f} s and answers {answered:.2f} s after the "
          f"leader's SIGKILL (medians of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("COSMOBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    measure("SQLite file", lambda folder: f"sqlite:///{folder / 'bot.db'}", args.runs)
    if args.postgres:
        measure("PostgreSQL", lambda folder: args.postgres, args.runs)


if __name__ == "__main__":
    main()
