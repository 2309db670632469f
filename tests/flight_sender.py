"""A process of its own that sends images through cosmobot's sender, as a webhook worker would.

For the tests and the benchmark of single flight across processes: several of these race for
the same uncached images on one database.

Usage:
    python -m tests.flight_sender [--no-claims] DATABASE_URL ASSETS_DIR API_URL CHAT_ID GO_FILE
                                  KEY...

It sets the sender up, prints "ready", waits until GO_FILE exists, asks for every KEY at once
in chat CHAT_ID, waits for the new file_ids to reach the database, then prints one JSON line:
{"sent": photos sent, "last": seconds from GO_FILE to the last photo}. Exit status 0 when
every KEY was sent. --no-claims leaves upload claims out, as cosmobot was before them: the
benchmark's comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from telegram import Bot
from telegram.request import HTTPXRequest

from cosmobot import sender
from cosmobot.logs import configure_logging
from cosmobot.storage import uploadclaims
from tests.factories import TOKEN

GO_POLL_SECONDS = 0.005


async def send_all(args: argparse.Namespace) -> dict:
    request = HTTPXRequest(connection_pool_size=len(args.keys) + 4)
    async with Bot(TOKEN, base_url=args.api_url, request=request) as bot:
        print("ready", flush=True)
        go = Path(args.go_file)
        while not go.exists():
            await asyncio.sleep(GO_POLL_SECONDS)
        started = time.monotonic()

        async def one(key: str) -> float | None:
            message = await sender.send_image(bot, args.chat_id, key)
            return time.monotonic() - started if message is not None else None

        finished = await asyncio.gather(*(one(key) for key in args.keys))
    await sender.shutdown()
    sent = [seconds for seconds in finished if seconds is not None]
    return {"sent": len(sent), "last": max(sent, default=0.0)}


@asynccontextmanager
async def no_claim(*args: object) -> AsyncIterator[None]:
    """An upload turn without a claim: every process uploads what it has not cached."""
    yield None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-claims", action="store_true")
    parser.add_argument("database_url")
    parser.add_argument("assets_dir")
    parser.add_argument("api_url")
    parser.add_argument("chat_id", type=int)
    parser.add_argument("go_file")
    parser.add_argument("keys", nargs="+")
    args = parser.parse_args()
    configure_logging("INFO", [TOKEN])
    if args.no_claims:
        uploadclaims.upload_turn = no_claim
    sender.setup(args.database_url, args.assets_dir)
    result = asyncio.run(send_all(args))
    print(json.dumps(result), flush=True)
    return 0 if result["sent"] == len(args.keys) else 1


if __name__ == "__main__":
    sys.exit(main())
