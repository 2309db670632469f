"""Benchmark: how long another user's /help waits behind a group flooding the bot with commands.

Usage:
    python -m tests.benchmarks.flood_group [--commands 1000] [--members 5] [--rounds 3]

The real Application long-polls the fake Bot API, which enforces Telegram's flood limits (30
messages a second overall, one a second per private chat, 20 a minute per group; 429 beyond
them). The members of one group send `--commands` /help at once; Boris then sends /help in his
private chat. The script prints how long Boris waited for his answer, per round and the median,
and how many of the group's commands were answered once the group's backlog had drained.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cosmobot.logs import configure_logging
from tests.botrunner import BotThread, bot_settings, texts
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi, FloodLimits

GROUP, BORIS, FIRST_MEMBER = -1001234567890, 1002, 3001
# Long enough for the old code, which answers Boris only after most of the flood.
ANSWER_LIMIT_SECONDS = 4 * 3600
# A group's answers go out 3 s apart: this long without one means its backlog has drained.
QUIET_SECONDS = 10


def one_round(scratch: Path, commands: int, members: int) -> tuple[float, int, int]:
    """Run one flood; return Boris's /help delay, the group's answers and the 429s."""
    with FakeBotApi([TOKEN]) as fake:
        assets = make_assets(scratch / "assets", ("orion.jpg",))
        fake.add_group(GROUP)
        with BotThread(bot_settings(scratch, fake, assets), fake):
            fake.flood_limits = limits = FloodLimits()
            for number in range(commands):
                fake.push_text(GROUP, "/help", user_id=FIRST_MEMBER + number % members)
            started = time.monotonic()
            fake.push_text(BORIS, "/help")
            fake.wait_until(lambda: texts(fake, BORIS), timeout=ANSWER_LIMIT_SECONDS)
            delay = time.monotonic() - started
            answered = wait_until_quiet(fake)
    return delay, answered, limits.refused


def wait_until_quiet(fake: FakeBotApi) -> int:
    """Wait until the group gets no more answers; return how many it got."""
    answered = -1
    while answered != len(texts(fake, GROUP)):
        answered = len(texts(fake, GROUP))
        time.sleep(QUIET_SECONDS)
    return answered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=1000, help="/help sent in the group")
    parser.add_argument("--members", type=int, default=5, help="group members sending them")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure_logging("CRITICAL")  # a thousand dropped updates would only slow the run
    delays = []
    for number in range(args.rounds):
        with tempfile.TemporaryDirectory() as scratch:
            delay, answered, refused = one_round(Path(scratch), args.commands, args.members)
        delays.append(delay)
        print(f"round {number + 1}: /help answered after {delay:.3f} s; the group got "
              f"{answered} of {args.commands} answers; 429s: {refused}", flush=True)
    print(f"group commands: {args.commands} from {args.members} members")
    print(f"median /help delay: {statistics.median(delays):.3f} s")


if __name__ == "__main__":
    main()
