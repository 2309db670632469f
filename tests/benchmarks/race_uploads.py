"""Benchmark: processes of one bot racing for the same uncached images, on one database.

Usage:
    python -m tests.benchmarks.race_uploads [--processes 4] [--images 10] [--latency 0.2]
                                            [--rounds 3] [--postgres URL]

Each process (tests/flight_sender.py, a real process with cosmobot's sender, as a webhook
worker) asks for every image at the same moment, in a chat of its own, against the fake Bot
API, whose every answer comes --latency seconds late. Printed per database (a SQLite file, and
PostgreSQL when --postgres or COSMOBOT_TEST_POSTGRES_URL names an empty database you own, which
is emptied): the uploads made in all (goal: one per image) and the time from the start to the
last photo any process sent, medians of the rounds; beside them, one process alone asking as
much, and the processes without upload claims (as cosmobot was before them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from cosmobot.logs import configure_logging
from cosmobot.storage.database import apply_migrations, close_database, open_database
from tests.conftest import _empty_postgres
from tests.fakebotapi import FakeBotApi
from tests.factories import TOKEN
from tests.processes import RACE_FAILURES, new_images, race_senders

FIRST_CHAT = 101


def fresh_database(kind: str, postgres: str | None, folder: Path) -> str:
    if kind == "postgresql":
        _empty_postgres(postgres)
        url = postgres
    else:
        url = f"sqlite:///{folder / 'bot.db'}"
    open_database(url)
    apply_migrations()
    close_database()
    return url


def one_round(kind: str, postgres: str | None, processes: int, images: int,
              latency: float, claims: bool) -> tuple[int, float, bool]:
    """Uploads, seconds to the last photo, and whether every process ended cleanly."""
    with FakeBotApi([TOKEN]) as api, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = fresh_database(kind, postgres, folder)
        keys = new_images(folder / "assets", images)
        api.latency = latency
        chats = list(range(FIRST_CHAT, FIRST_CHAT + processes))
        finished = race_senders(url, folder / "assets", api, keys, chats, folder,
                                claims=claims)
        uploads = len([call for call in api.uploads() if call.status == 200])
    clean = all(process.status == 0 and process.result["sent"] == images
                and not any(word in process.output for word in RACE_FAILURES)
                for process in finished)
    return uploads, max(process.result.get("last", 0.0) for process in finished), clean


def measure(kind: str, postgres: str | None, args: argparse.Namespace) -> None:
    for processes, claims in ((1, True), (args.processes, True), (args.processes, False)):
        rounds = [one_round(kind, postgres, processes, args.images, args.latency, claims)
                  for _ in range(args.rounds)]
        uploads = statistics.median(r[0] for r in rounds)
        last = statistics.median(r[1] for r in rounds)
        clean = "all clean" if all(r[2] for r in rounds) else "SOME FAILED"
        how = "" if claims else ", no claims"
        print(f"  {kind:10} {processes} process(es){how:11} x {args.images} images: "
              f"uploads {uploads:.0f} (max {max(r[0] for r in rounds)}), "
              f"last photo after {last:.2f} s; {clean}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--images", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("COSMOBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    configure_logging("ERROR")
    print(f"latency {args.latency * 1000:.0f} ms; rounds {args.rounds}; medians:")
    for kind in ("sqlite", "postgresql") if args.postgres else ("sqlite",):
        measure(kind, args.postgres, args)


if __name__ == "__main__":
    main()
