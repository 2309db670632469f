"""Scenario: inline queries answered by the real Application, every image cached.

tests.benchmarks.inline_latency's queries (a mix of English and Russian words, and empty
ones), each timed from the update pushed onto the bot's held getUpdates to its
answerInlineQuery reaching the fake, less the round trip the fake adds on the way (half to
the bot, half back): what is left is the bot's own time to answer. First with the shipped
collection, then with 10,000 generated images titled like the shipped ones; the rows of both
are stored as uploads would have stored them (one upload's file_id for all: the bot sends it
like any other).
"""

from __future__ import annotations

from pathlib import Path


from cosmobot.config import Settings
from cosmobot.images.assets import AssetLibrary
from tests.benchmarks import inline_latency
from tests.benchmarks.databases import cache_every_image
from tests.benchmarks.generated import SHIPPED, generate_collection
from tests.benchmarks.harness import Context, Goal, Row, timings
from tests.benchmarks.pollers import wait_for_held_poll
from tests.botrunner import BotThread, bot_settings
from tests.factories import TOKEN, make_image

QUERIES = (200, 12)  # full, quick: with the shipped collection
GENERATED = (10_000, 300)
GENERATED_QUERIES = (100, 10)
GOAL = Goal("p95", 0.020, strict=True)


def run(context: Context) -> list[Row]:
    api = context.api
    api.add_group(inline_latency.CACHE_CHAT, "Cache")
    shipped = bot_settings(_folder(context, "shipped"), api, SHIPPED)
    photo = make_image(context.scratch / "upload.jpg")
    with context.full_speed():
        cache_every_image(shipped, photo, inline_latency.CACHE_CHAT)
    count = context.size(*GENERATED)
    generated = bot_settings(_folder(context, "generated"), api, generate_collection(
        context.scratch / "collection", count))
    with context.full_speed():
        cache_every_image(generated, photo, inline_latency.CACHE_CHAT)
    return [timings(f"answer, the {_images(shipped)} shipped images cached (network left out)",
                    _answer_times(context, shipped, context.size(*QUERIES)), goal=GOAL),
            timings(f"answer, {count:,} images cached (network left out)",
                    _answer_times(context, generated, context.size(*GENERATED_QUERIES)),
                    goal=GOAL)]


def _folder(context: Context, name: str) -> Path:
    folder = context.scratch / name
    folder.mkdir()
    return folder


def _images(settings: Settings) -> int:
    return AssetLibrary(settings.assets_dir).scan()


def _answer_times(context: Context, settings: Settings, queries: int) -> list[float]:
    """Seconds to each answer, the mix of queries in turn; each query once first, uncounted."""
    mix = inline_latency.MIX
    with BotThread(settings, context.api):
        for query in mix:
            _ask(context, query)
        return [_ask(context, mix[n % len(mix)]) for n in range(queries)]


def _ask(context: Context, query: str) -> float:
    wait_for_held_poll(context.api, TOKEN)
    seconds, answer = inline_latency.ask(context.api, query)
    if not answer["results"]:
        raise AssertionError(f"no cached photo answered {query!r}")
    return seconds - context.rtt  # the network's share, as the fake models it
