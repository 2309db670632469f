"""Benchmark: a herd of users asking for the same new image at once, on the fake Bot API.

Usage:
    python -m tests.benchmarks.herd [--users 10] [--latency 0.3] [--rounds 5] [--flood 2]

Every answer of the fake API is delayed by --latency seconds (a model of the round trip to
Telegram). One user's request uploads the image; the others wait for that upload and then
send by its file_id. The script prints when each user had the photo, counted from the moment
all asked, as medians over the rounds. With --flood N, the first send by file_id is answered
with a 429 asking for N seconds, as Telegram does for a chat over its own limit.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from telegram import Bot
from telegram.request import HTTPXRequest

from cosmobot import sender
from cosmobot.images.assets import AssetLibrary
from cosmobot.logs import configure_logging
from cosmobot.storage.database import apply_migrations, open_database
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi


async def timed_send(bot: Bot, chat_id: int, key: str, started: float) -> float:
    await sender.send_image(bot, chat_id, key)
    return time.perf_counter() - started


async def arm_flood(api: FakeBotApi, seconds: int) -> None:
    # Once the upload is answered, the next sendPhoto to arrive (a send by file_id) is the
    # flood-limited one: its answer comes `latency` seconds after it arrives.
    while not any(call.status for call in api.uploads()):
        await asyncio.sleep(0.001)
    api.fail_next("sendPhoto", status=429, retry_after=seconds)


async def one_round(bot: Bot, api: FakeBotApi, users: int, flood: int | None,
                    scratch: Path, number: int, image: Path | None = None) -> list[float]:
    """Seconds from the start to each user's photo, earliest first; the image is new to all.

    image: the file to send (default: a small generated one).
    """
    root = make_assets(scratch / f"assets{number}", (f"new{number}.jpg",))
    if image is not None:
        (root / "cosmic" / f"new{number}.jpg").write_bytes(image.read_bytes())
    library = AssetLibrary(root)
    library.scan()
    sender.configure(library)
    open_database(f"sqlite:///{scratch / f'round{number}.db'}")
    apply_migrations()
    api.reset_calls()
    armed = asyncio.create_task(arm_flood(api, flood)) if flood else None
    started = time.perf_counter()
    finished = await asyncio.gather(*(
        timed_send(bot, 100 + user, f"cosmic/new{number}.jpg", started) for user in range(users)
    ))
    if armed:
        await armed
    assert len([call for call in api.uploads() if call.status == 200]) == 1
    return sorted(finished)


def herd_bot(api: FakeBotApi, users: int) -> Bot:
    """A bot with a connection for every user, and a few more."""
    return Bot(TOKEN, base_url=api.base_url,
               request=HTTPXRequest(connection_pool_size=users + 8))


async def measure(users: int, latency: float, rounds: int, flood: int | None,
                  scratch: Path) -> None:
    with FakeBotApi([TOKEN]) as api:
        async with herd_bot(api, users) as bot:
            await bot.get_me()  # open the connection pool before the clock starts
            api.latency = latency
            results = [await one_round(bot, api, users, flood, scratch, n)
                       for n in range(rounds)]
    medians = [statistics.median(times) for times in zip(*results)]
    print(f"users: {users}; latency: {latency * 1000:.0f} ms; rounds: {rounds}; "
          f"flood-limited first waiter: {f'{flood} s' if flood else 'no'}")
    print("photo delivered at (s, median of rounds, earliest first):")
    print("  " + "  ".join(f"{seconds:.2f}" for seconds in medians))
    print(f"last delivery: {medians[-1]:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--flood", type=int, help="retry_after of a 429 for the first waiter")
    args = parser.parse_args()
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(measure(args.users, args.latency, args.rounds, args.flood, Path(scratch)))


if __name__ == "__main__":
    main()
