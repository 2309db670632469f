"""Benchmark: Telegram's 429s when 3 webhook workers answer 300 users' /cosmic within 5 s.

Usage:
    python -m tests.benchmarks.webhook_workers [--users 300] [--seconds 5] [--workers 3]
                                               [--postgres URL]

Runs webhook workers (`python -m cosmobot run` with COSMOBOT_WEBHOOK_*, one listen port each)
of one bot on one database: a SQLite file, and PostgreSQL when a URL is given (or
COSMOBOT_TEST_POSTGRES_URL is set; its tables are dropped first). The fake Bot API keeps
Telegram's flood limits (30 messages a second per bot, one a second per private chat) and
posts the updates to the workers in turn, as a load balancer would. The images are cached
first, so each answer is one send by file_id. Prints the 429s (goal 0), how many users got
their photo (goal all), and when the last answer came.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import socket
import tempfile
import time
from pathlib import Path

import httpx

from tests.benchmarks.databases import emptied_postgres
from tests.botrunner import BotProcess, bot_settings, photos, warm_now
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi, FloodLimits

HOOK_URL = "https://bot.example.org/hook"
SECRET = "benchmark-secret"
CACHE_CHAT = -100_777
FIRST_USER = 50_000
IMAGES = ("orion.jpg", "m31.png", "crab.jpg", "pillars.png")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serving(address: str) -> bool:
    try:
        return httpx.get(f"{address}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def start_workers(api: FakeBotApi, url: str, assets: Path, folder: Path,
                  count: int) -> tuple[list[BotProcess], list[str]]:
    """Start the workers, wait until they serve and the webhook is set, and route to them."""
    processes, addresses = [], []
    for _ in range(count):
        port = free_port()
        env = {"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": url,
               "COSMOBOT_ASSETS_DIR": str(assets), "COSMOBOT_API_URL": api.base_url,
               "COSMOBOT_WEBHOOK_URL": HOOK_URL, "COSMOBOT_WEBHOOK_SECRET": SECRET,
               "COSMOBOT_WEBHOOK_LISTEN": f"127.0.0.1:{port}"}
        processes.append(BotProcess(env, folder).start())
        addresses.append(f"http://127.0.0.1:{port}")
    api.wait_until(lambda: all(serving(a) for a in addresses), timeout=60)
    api.wait_until(lambda: api.webhook() is not None, timeout=30)
    api.route_webhook(addresses)
    return processes, addresses


def settled(api: FakeBotApi, chats: range, quiet: float = 10.0) -> None:
    """Wait until every chat got a message, or nothing was sent for `quiet` seconds."""
    while not all(api.sent_to(chat) for chat in chats):
        last = max((c.timestamp for c in api.calls()), default=0.0)
        if time.monotonic() - last > quiet:
            return
        time.sleep(0.2)


def one_run(url: str, folder: Path, users: int, seconds: float, workers: int) -> str:
    """Push the users' /cosmic over `seconds`; return the figures as one line."""
    with FakeBotApi([TOKEN]) as api:
        api.add_chat(CACHE_CHAT)
        assets = make_assets(folder / "assets", IMAGES)
        warm_now(dataclasses.replace(bot_settings(folder, api, assets), database_url=url),
                 CACHE_CHAT)
        processes, _ = start_workers(api, url, assets, folder, workers)
        try:
            api.flood_limits = limits = FloodLimits()
            chats = range(FIRST_USER, FIRST_USER + users)
            began = time.monotonic()
            for n, chat in enumerate(chats):
                time.sleep(max(0.0, began + n * seconds / users - time.monotonic()))
                api.push_text(chat, "/cosmic")
            api.wait_until(lambda: sum(d.error is None for d in api.deliveries()) >= users,
                           timeout=120)
            # A user gets the photo or, when Telegram kept refusing, a text saying so, or
            # nothing at all when that was refused too: wait for all, or for a quiet spell.
            settled(api, chats)
            answered = sum(bool(photos(api, chat)) for chat in chats)
            last = max(c.timestamp for c in api.calls() if c.status == 200)
        finally:
            for process in processes:
                process.stop()
        refused = limits.refused
    return (f"{workers} webhook workers, {users} users' /cosmic within {seconds:g} s: "
            f"{refused} 429s (goal 0), {answered}/{users} got their photo, the last "
            f"{last - began:.1f} s after the first /cosmic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("COSMOBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    backends = [("SQLite file", lambda folder: f"sqlite:///{folder / 'bot.db'}")]
    if args.postgres:
        backends.append(("PostgreSQL", lambda folder: emptied_postgres(args.postgres)))
    for name, url_for in backends:
        with tempfile.TemporaryDirectory() as folder:
            line = one_run(url_for(Path(folder)), Path(folder), args.users, args.seconds,
                           args.workers)
        print(f"{name}: {line}", flush=True)


if __name__ == "__main__":
    main()
