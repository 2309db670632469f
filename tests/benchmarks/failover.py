"""Benchmark: how soon a standby takes over when the leader is killed (SIGKILL).

Usage:
    python -m tests.benchmarks.failover [--runs 5] [--round 1000] [--postgres URL]

Runs two `python -m cosmobot run` processes of one bot on one database against the fake Bot
API: a SQLite file, and PostgreSQL when a URL is given (or COSMOBOT_TEST_POSTGRES_URL is set;
its tables are kept, the migrations applied). Once one leads and the other stands by, the
leader gets SIGKILL and a user's /help is queued at Telegram. Prints, per run and as the
median, the seconds from the kill to the standby's first poll and to its answer.

Then, once per database, a daily round of --round chats (all due, none served yet) is cut by
the leader's SIGKILL midway, at a random point between a tenth and a half of it. Prints the
chats served twice (goal 0), the chats left without their image, the sends the killed leader
had on their way (counted as delivered by the new leader once their lease ran out, never
sent again), the seconds from the kill to the standby's first poll, and to the round's end.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from cosmobot.clock import utcnow
from cosmobot.storage.database import apply_migrations, close_database, open_database
from cosmobot.storage.models import Subscription
from tests.botrunner import BotProcess, texts
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi

ALICE = 1001
BOT_ID = int(TOKEN.split(":")[0])
FIRST_CHAT = 20_000
SETTLED = re.compile(r"The daily image to chat (\d+) was on its way when the bot was killed")
# How long the rest of a round may take: its sends at Telegram's 30 a second, the lease.
ROUND_END_SECONDS = 180
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


def subscribe_due(url: str, chats: int) -> None:
    """Migrate, and subscribe `chats` chats due since midnight that had no image yet."""
    db = open_database(url)
    try:
        apply_migrations()
        Subscription.delete().execute()
        midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        rows = [{"bot_id": BOT_ID, "chat_id": FIRST_CHAT + n, "chat_type": "private",
                 "language": "en", "local_time": "00:00", "zone": "UTC", "next_at": midnight}
                for n in range(chats)]
        with db.atomic():
            for start in range(0, len(rows), 100):
                Subscription.insert_many(rows[start:start + 100]).execute()
    finally:
        close_database()


def photos_by_chat(api: FakeBotApi) -> Counter:
    return Counter(c.params["chat_id"] for c in api.calls("sendPhoto") if c.status == 200)


def round_run(url: str, folder: Path, chats: int) -> dict[str, float]:
    """Kill the leader midway through a round of `chats`; what became of the round."""
    subscribe_due(url, chats)
    everyone = {FIRST_CHAT + n for n in range(chats)}
    with FakeBotApi([TOKEN]) as api:
        env = {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": url,
               "COSMOBOT_ASSETS_DIR": str(make_assets(folder / "assets")),
               "COSMOBOT_API_URL": api.base_url}
        processes = [BotProcess(env, folder).start() for _ in range(2)]
        try:
            leader = api.wait_until(lambda: next(
                (p for p in processes if "This process (" in p.output), None), timeout=30)
            standby = next(p for p in processes if p is not leader)
            cut_at = random.randint(chats // 10, chats // 2)
            api.wait_until(lambda: len(photos_by_chat(api)) >= cut_at, timeout=120)
            leader.process.send_signal(signal.SIGKILL)
            killed = time.monotonic()

            def settled() -> set[int]:
                return {int(chat) for chat in SETTLED.findall(standby.output)}

            try:
                api.wait_until(lambda: set(photos_by_chat(api)) | settled() >= everyone,
                               timeout=ROUND_END_SECONDS)
            except AssertionError:
                pass  # reported below as chats left without their image
            ended = time.monotonic()
        finally:
            for process in processes:
                process.stop()
        counts, gone = photos_by_chat(api), settled()
        polled = min(c.timestamp for c in api.calls("getUpdates") if c.timestamp > killed)
    return {"served twice": sum(n > 1 for n in counts.values()),
            "without an image": len(everyone - set(counts) - gone),
            "counted as delivered": len(gone - set(counts)), "cut at": cut_at,
            "takeover": polled - killed, "round end": ended - killed}


def measure_round(name: str, url_for, chats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        figures = round_run(url_for(Path(folder)), Path(folder), chats)
    print(f"{name}: leader killed after {figures['cut at']} of {chats} chats' images: "
          f"{figures['served twice']} chats served twice, {figures['without an image']} left "
          f"without an image, {figures['counted as delivered']} on their way counted as "
          f"delivered; the standby polled {figures['takeover']:.2f} s after the kill and the "
          f"round ended {figures['round end']:.1f} s after it")


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
    parser.add_argument("--round", type=int, default=1000, help="chats in the killed round")
    parser.add_argument("--postgres", default=os.environ.get("COSMOBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    measure("SQLite file", lambda folder: f"sqlite:///{folder / 'bot.db'}", args.runs)
    if args.postgres:
        measure("PostgreSQL", lambda folder: args.postgres, args.runs)
    measure_round("SQLite file", lambda folder: f"sqlite:///{folder / 'bot.db'}", args.round)
    if args.postgres:
        measure_round("PostgreSQL", lambda folder: args.postgres, args.round)


if __name__ == "__main__":
    main()
