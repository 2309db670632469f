"""Benchmark: PostgreSQL down for a minute under a running bot answering /cosmic.

Usage:
    python -m tests.benchmarks.outage [--down 60] [--images 20] [--every 1.0]

Needs a PostgreSQL cluster of its own that it may stop and start, as `.ci/run` makes:
COSMOBOT_TEST_OUTAGE_URL (an empty database you own there, which is emptied) and
COSMOBOT_TEST_OUTAGE_CLUSTER ("15 outage"). A real `python -m cosmobot` runs against the fake
Bot API; half the images are cached first. Then the server is stopped for --down seconds,
while a new user asks `/cosmic WORD` every --every seconds, for cached and new images in turn.
The leader rides out a server that is plainly down (it keeps polling), so what is asked
meanwhile is answered at once, from memory, cached or uploaded anew. Printed: the images
asked for during the outage and how many got their photo (and how long after the asking), the
uploads made, the file_ids of those lost (not in the database once it is back), the uploads a
restarted bot makes for those images, and the outage's lines in the log.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

from tests.botrunner import BotProcess, photos
from tests.conftest import _empty_postgres
from tests.dblocks import query_one
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi
from tests.pgcluster import OUTAGE_CLUSTER, OUTAGE_URL, Cluster

WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "iota", "kappa",
         "lambda", "omicron", "sigma", "upsilon", "omega", "orion", "vela", "lyra", "draco",
         "cygnus", "aquila")
FIRST_USER = 5000
ANSWER_SECONDS = 30


def ask(api: FakeBotApi, chat: int, word: str) -> bool:
    """Ask for the image named word; whether its photo came within ANSWER_SECONDS."""
    api.push_text(chat, f"/cosmic {word}")
    try:
        api.wait_until(lambda: photos(api, chat), timeout=ANSWER_SECONDS)
    except AssertionError:
        return False
    return True


def photo_times(api: FakeBotApi) -> dict[int, float]:
    """When each chat got its first photo (the fake's clock)."""
    times: dict[int, float] = {}
    for call in api.calls("sendPhoto"):
        if call.status == 200:
            times.setdefault(int(call.params["chat_id"]), call.timestamp)
    return times


def new_uploads(api: FakeBotApi) -> set[str]:
    """The titles of the images uploaded since the calls were last reset."""
    return {call.params["caption"].splitlines()[0].lower() for call in api.uploads()
            if call.status == 200}


def stored(url: str, word: str) -> bool:
    row = query_one(url, "SELECT COUNT(*) FROM image_assets WHERE asset_key = %s",
                    (f"cosmic/{word}.jpg",))
    return row[0] == 1


def start_bot(env: dict, folder: Path, api: FakeBotApi) -> BotProcess:
    polls = len(api.calls("getUpdates"))
    bot = BotProcess(env, folder).start()
    api.wait_until(lambda: len(api.calls("getUpdates")) > polls, timeout=60)
    return bot


def during_outage(api: FakeBotApi, cluster: Cluster, words: list[str], down: float,
                  every: float) -> tuple[dict[int, float], float]:
    """Stop the server for `down` seconds, a user asking every `every` s meanwhile.

    Returns when each chat asked (time.monotonic(), the fake's clock) and when the server was
    started again.
    """
    cluster.stop()
    stopped, asked = time.monotonic(), {}
    users = itertools.count(FIRST_USER)
    for word in itertools.cycle(words):
        if time.monotonic() - stopped > down:
            break
        chat = next(users)
        asked[chat] = time.monotonic()
        api.push_text(chat, f"/cosmic {word}")
        time.sleep(max(0.0, every - (time.monotonic() - asked[chat])))
    cluster.start()
    return asked, time.monotonic()


def answered(api: FakeBotApi, asked: dict[int, float]) -> dict[int, float]:
    """Wait (ANSWER_SECONDS at most once all could be) for every chat's photo; seconds each."""
    try:
        api.wait_until(lambda: set(asked) <= set(photo_times(api)), timeout=4 * ANSWER_SECONDS)
    except AssertionError:
        pass
    times = photo_times(api)
    return {chat: times[chat] - at for chat, at in asked.items() if chat in times}


def run(args: argparse.Namespace, folder: Path) -> None:
    cluster = Cluster(OUTAGE_CLUSTER, OUTAGE_URL)
    cluster.start()
    _empty_postgres(OUTAGE_URL)
    words = list(WORDS[:args.images])
    make_assets(folder / "assets", tuple(f"{word}.jpg" for word in words))
    with FakeBotApi([TOKEN]) as api:
        env = {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": OUTAGE_URL,
               "COSMOBOT_ASSETS_DIR": str(folder / "assets"), "COSMOBOT_API_URL": api.base_url}
        bot = start_bot(env, folder, api)
        try:
            cached = words[::2]
            for number, word in enumerate(cached):
                ask(api, FIRST_USER - 1 - number, word)
            api.reset_calls()
            asked, back_at = during_outage(api, cluster, words, args.down, args.every)
            waits = answered(api, asked)
            during = sum(photo_times(api)[chat] < back_at for chat in waits)
            uploaded = new_uploads(api)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(stored(OUTAGE_URL, w) for w in uploaded):
                time.sleep(0.5)
        finally:
            bot.stop(timeout=60)
        lost = [word for word in uploaded if not stored(OUTAGE_URL, word)]
        api.reset_calls()
        again = start_bot(env, folder, api)
        try:
            for number, word in enumerate(sorted(uploaded)):
                ask(api, FIRST_USER - 100 - number, word)
        finally:
            again.stop(timeout=60)
        after_restart = len(new_uploads(api))
    print(f"PostgreSQL down for {args.down:.0f} s; {len(cached)} of {len(words)} images cached "
          f"before; one /cosmic every {args.every:.1f} s")
    print(f"images asked for during the outage: {len(asked)}; sent: {len(waits)} ({during} "
          f"before the server was back); seconds from asking to the photo: median "
          f"{statistics.median(waits.values()):.1f}, max {max(waits.values()):.1f}")
    print(f"uploads of new images: {len(uploaded)}; their file_ids lost: {len(lost)}")
    print(f"uploads after a restart, asking for those images again: {after_restart}")
    print(f"log: 'Database unreachable' x{bot.output.count('Database unreachable')}, "
          f"'reachable again' x{bot.output.count('Database reachable again')}, "
          f"ERROR lines: {bot.output.count('| ERROR')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--down", type=float, default=60.0)
    parser.add_argument("--images", type=int, default=20, choices=range(2, len(WORDS) + 1),
                        metavar=f"2..{len(WORDS)}")
    parser.add_argument("--every", type=float, default=1.0)
    args = parser.parse_args()
    if not (OUTAGE_URL and OUTAGE_CLUSTER):
        parser.error("set COSMOBOT_TEST_OUTAGE_URL and COSMOBOT_TEST_OUTAGE_CLUSTER (see .ci/run)")
    with tempfile.TemporaryDirectory() as folder:
        run(args, Path(folder))


if __name__ == "__main__":
    main()
