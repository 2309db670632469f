"""Benchmark: how long an inline query takes from its arrival at the bot to its answer.

Usage:
    python -m tests.benchmarks.inline_latency [--queries 200] [--assets assets/images]

Caches every image of the collection first (a warm-up at the fake's full speed), then runs
the real Application against the fake Bot API and types the queries one after another, a mix
of words and empty ones. The time of each is from the moment the fake hands the update over
(pushed onto the bot's held getUpdates) to the moment the bot's answerInlineQuery reaches the
fake. Prints the median and p95, then the titles answered for three English and three Russian
queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from loguru import logger

from tests.botrunner import REPO_ROOT, BotThread, bot_settings, warm_now
from tests.factories import TOKEN
from tests.fakebotapi import FakeBotApi

CACHE_CHAT = -1001000000001
USER = 4242
MIX = ("neb", "galaxy", "", "туманн", "orion", "галакт", "jupiter", "Туманность Орёл", "m")
SHOWN = (("neb", "en"), ("galaxy", "en"), ("orion", "en"),
         ("туманн", "ru"), ("галакт", "ru"), ("Туманность Орёл", "ru"))


def ask(api: FakeBotApi, query: str, language: str = "en") -> tuple[float, dict]:
    """Type one inline query; return the seconds to its answer, and the answer."""
    pushed = time.monotonic()
    update = api.push_inline_query(USER, query, language_code=language)
    query_id = update["inline_query"]["id"]
    api.wait_until(lambda: api.inline_answer(query_id))
    call = next(call for call in api.calls("answerInlineQuery")
                if call.params["inline_query_id"] == query_id)
    return call.timestamp - pushed, call.params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--assets", type=Path, default=REPO_ROOT / "assets" / "images")
    args = parser.parse_args()
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    with FakeBotApi([TOKEN]) as api, \
            tempfile.TemporaryDirectory() as folder:
        api.add_group(CACHE_CHAT, "Cache")
        settings = bot_settings(Path(folder), api, args.assets)
        warm_now(settings, CACHE_CHAT)
        with BotThread(settings, api):
            ask(api, "neb")  # the first answer also reads every fingerprint: not counted
            times = [ask(api, MIX[n % len(MIX)])[0] for n in range(args.queries)]
            shown = [(query, ask(api, query, language)[1]) for query, language in SHOWN]
    times_ms = sorted(seconds * 1000 for seconds in times)
    p95 = times_ms[max(0, round(0.95 * len(times_ms)) - 1)]
    print(f"{len(times_ms)} inline queries, every image cached ({args.assets}):")
    print(f"  arrival to answer: median {statistics.median(times_ms):.1f} ms, "
          f"p95 {p95:.1f} ms, max {times_ms[-1]:.1f} ms")
    for query, answer in shown:
        titles = [result["title"] for result in answer["results"]]
        print(f"\n{query!r}: {len(titles)} results")
        for title in titles:
            print(f"  {title}")


if __name__ == "__main__":
    main()
