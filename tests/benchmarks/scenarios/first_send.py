"""Scenario: the first send of an image (its upload) next to a cached send, what the cache buys.

tests.benchmarks.send_latency's rounds: each starts as a new process on a new database, sends
the image (an upload of the largest shipped one, about 500 KB) and then again (by file_id).
"""

from __future__ import annotations

import asyncio

from tests.benchmarks import send_latency
from tests.benchmarks.harness import Context, Row, timings

ROUNDS = (20, 4)  # full, quick


def run(context: Context) -> list[Row]:
    image = send_latency.pick_image(None, context.scratch)
    uploads, cached = asyncio.run(send_latency.measure_on(
        context.api, context.size(*ROUNDS), image, context.scratch))
    reference = timings("cached send, by file_id", cached)
    size = f"{image.stat().st_size / 1024:.0f} KiB"
    return [reference, timings(f"first send, an upload of {size}", uploads).against(reference)]
