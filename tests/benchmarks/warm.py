"""Benchmark: `cosmobot warm` for the shipped collection to a group-type cache chat.

Usage:
    python -m tests.benchmarks.warm [--assets assets/images] [--latency 0.05]

Runs `python -m cosmobot warm` as a real process against the fake Bot API, which enforces
Telegram's limits with 429s (20 messages a minute in a group), on a fresh SQLite database.
Prints how long the pass took, what it did and how many 429s the fake answered.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.botrunner import REPO_ROOT
from tests.factories import TOKEN
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi.limits import FloodLimits

CACHE_CHAT = -1001000000001


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=Path, default=REPO_ROOT / "assets" / "images")
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    with FakeBotApi([TOKEN]) as api, tempfile.TemporaryDirectory() as folder:
        api.latency = args.latency
        api.flood_limits = limits = FloodLimits()
        api.add_group(CACHE_CHAT, "Cache")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("COSMOBOT_")},
            "PYTHONPATH": str(REPO_ROOT), "COSMOBOT_TOKEN": TOKEN,
            "COSMOBOT_API_URL": api.base_url, "COSMOBOT_ASSETS_DIR": str(args.assets.resolve()),
            "COSMOBOT_DATABASE_URL": f"sqlite:///{Path(folder) / 'bot.db'}",
            "COSMOBOT_LOG_LEVEL": "WARNING",
        }
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "cosmobot", "warm", "--chat", str(CACHE_CHAT)],
                              cwd=folder, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
    uploads = [call for call in api.uploads() if call.status == 200]
    print(done.stdout.strip())
    print(f"exit status {done.returncode}; {len(uploads)} uploads in {elapsed:.1f} s "
          f"({len(uploads) / elapsed * 60:.1f} per minute); 429s answered: {limits.refused}")


if __name__ == "__main__":
    main()
