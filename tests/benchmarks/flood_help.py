"""Benchmark: how long another user's /help waits while one chat floods "Another one".

Usage:
    python -m tests.benchmarks.flood_help [--presses 300] [--rate 1.0] [--rounds 3]

The real Application long-polls the fake Bot API, which limits each chat to `--rate`
messages per second the way Telegram does (429 with retry_after beyond it). Alice gets an
image, then presses "Another one" `--presses` times; Boris then sends /help. The script
prints how long Boris waited for his answer, per round and the median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cosmobot.logs import configure_logging
from tests.botrunner import BotThread, bot_settings, photos, texts
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi

ALICE, BORIS = 1001, 1002


def one_round(scratch: Path, presses: int, rate: float) -> float:
    """Run one flood and return Boris's /help delay in seconds."""
    with FakeBotApi([TOKEN]) as fake:
        assets = make_assets(scratch / "assets", ("orion.jpg", "vela.jpg"))
        with BotThread(bot_settings(scratch, fake, assets), fake):
            fake.chat_rate_limit = rate
            fake.push_text(ALICE, "/cosmic")
            fake.wait_until(lambda: photos(fake, ALICE))
            for _ in range(presses):
                fake.push_callback(ALICE, "cosmic")
            started = time.monotonic()
            fake.push_text(BORIS, "/help")
            fake.wait_until(lambda: texts(fake, BORIS), timeout=300)
            delay = time.monotonic() - started
            # Let the backlog drain quickly, so the bot shuts down in time.
            fake.chat_rate_limit = None
    return delay


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=300)
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per chat")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_logging("CRITICAL")  # thousands of retry warnings would only slow the run
    delays = []
    for number in range(args.rounds):
        with tempfile.TemporaryDirectory() as scratch:
            delays.append(one_round(Path(scratch), args.presses, args.rate))
        print(f"round {number + 1}: /help answered after {delays[-1]:.3f} s")
    print(f"presses: {args.presses}; per-chat limit: {args.rate} msg/s")
    print(f"median /help delay: {statistics.median(delays):.3f} s")


if __name__ == "__main__":
    main()
