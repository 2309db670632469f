"""Benchmark: what the fake Bot API's oracle adds to each call, beside the call's round trip.

Usage:
    python -m tests.benchmarks.oracle_cost [--rounds 300]

Each round makes real calls through telegram.Bot to the fake (sendMessage, sendPhoto by
file_id, getUpdates with one update waiting), timing each round trip; then it runs the
oracle's two checks (the request, the answer) on exactly what that call sent and got, timing
them. The round trip already includes the checks, so the ratio is their share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import time
from collections.abc import Awaitable, Callable

from PIL import Image
from telegram import Bot

from tests.factories import TOKEN
from tests.fakebotapi import Call, FakeBotApi
from tests.fakebotapi.oracle import Oracle

Send = Callable[[], Awaitable[object]]


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 30, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def oracle_seconds(call: Call) -> float:
    """How long the oracle takes to check this call's request and answer."""
    oracle = Oracle()
    body = {"ok": True, "result": call.result}
    started = time.perf_counter()
    oracle.check_request(call.method, call.params, {})
    oracle.check_answer(call.method, call.status or 200, body)
    elapsed = time.perf_counter() - started
    assert not oracle.violations(), oracle.violations()
    return elapsed


async def timed(api: FakeBotApi, send: Send) -> tuple[float, float]:
    started = time.perf_counter()
    await send()
    round_trip = time.perf_counter() - started
    return round_trip, oracle_seconds(api.calls()[-1])


async def measure(rounds: int) -> dict[str, list[tuple[float, float]]]:
    with FakeBotApi([TOKEN]) as api:
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            file_id = (await bot.send_photo(1, small_png())).photo[-1].file_id
            sends: dict[str, Send] = {
                "sendMessage": lambda: bot.send_message(1, "Hello, Ada!"),
                "sendPhoto by file_id": lambda: bot.send_photo(1, file_id, caption="Orion"),
                "getUpdates, 1 update": lambda: bot.get_updates(timeout=0),
            }
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in sends}
            for _ in range(rounds):
                api.push_text(1, "/cosmic")
                for name, send in sends.items():
                    results[name].append(await timed(api, send))
                last = api.calls("getUpdates")[-1].result[-1]["update_id"]
                await bot.get_updates(offset=last + 1, timeout=0)  # confirm it: one waits a round
    return results


def report(rounds: int, results: dict[str, list[tuple[float, float]]]) -> None:
    print(f"rounds: {rounds}")
    print(f"{'call':24} {'round trip':>12} {'oracle':>10} {'share':>7}")
    for name, timings in results.items():
        round_trip = statistics.median(t for t, _ in timings) * 1000
        oracle = statistics.median(o for _, o in timings) * 1000
        print(f"{name:24} {round_trip:9.3f} ms {oracle:7.3f} ms {oracle / round_trip:6.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    report(args.rounds, asyncio.run(measure(args.rounds)))


if __name__ == "__main__":
    main()
