"""Scenario: the daily round to 1,000, 10,000 and 100,000 subscribers, from outside the bot.

tests.benchmarks.daily_round's set-up (every subscriber due at start, users asking /cosmic
meanwhile; at 100,000 a tenth of them, see SIZES), with the bot a process of its own
(`counted_bot`), so that its peak memory (VmHWM) is its own and every database statement it
sends is counted. The fake Bot API answers 429 past Telegram's limits: 30 messages a second
overall, one a second per chat. The 1,000 round runs at those limits; the larger ones (and the
quick run) at a server whose overall limit was raised, stated in each row, with the bot paced
to it: they show what each chat costs cosmobot itself (database statements, CPU, memory).

Over the round (its first daily image to its last): every message sent per second (daily
images and replies), daily images delivered, lost and doubled (a loss or a double raises),
database statements and the bot's CPU time per image delivered (replies' photos counted
with the daily ones, their statements too), the bot's peak memory, and the reply time of each
/cosmic asked meanwhile.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from cosmobot.clock import utcnow
from cosmobot.config import Settings
from cosmobot.storage.database import open_database
from cosmobot.storage.models import Subscription
from tests.benchmarks import daily_round
from tests.benchmarks.counted_bot import read_readings
from tests.benchmarks.databases import emptied_postgres, sqlite_url
from tests.benchmarks.harness import Context, Goal, Row, timings
from tests.botrunner import BotProcess, warm_now
from tests.factories import TOKEN, make_assets
from tests.fakebotapi import FakeBotApi, FloodLimits, Limit

TELEGRAM = None  # the overall limit as Telegram sets it
RAISED = 400  # messages a second a server with a raised limit takes
# (subscribers, how many of them are due, the server's limit). A round of 100,000 takes this
# 2-core machine about 13 minutes at any limit (its CPU is the bound: see the CPU row), past
# the whole run's 10; at 100,000 a tenth are due, the others due tomorrow.
SIZES = ((1_000, 1_000, TELEGRAM), (10_000, 10_000, RAISED), (100_000, 10_000, RAISED))
QUICK_SIZES = ((300, 300, RAISED),)
POSTGRES_SIZES = ((1_000, 1_000, TELEGRAM), (10_000, 10_000, RAISED))
ASKERS, ASK_EVERY = 10, 2.0
CACHE_CHAT = -1001000000003
IMAGES = ("orion.jpg", "andromeda.png")
POLL_SECONDS = 1.0
# A round that delivers nothing for this long has stalled (the first image comes after the
# process has started, on a busy machine).
STALL_SECONDS = 60
# Readings this far before the first image and after the last bound the round's figures.
MARGIN_SECONDS = 0.5
RATE_GOAL = Goal("median", 28.0, minimum=True)
REPLY_GOAL = Goal("p95", 2.0, strict=True)
FLAT_GOAL = Goal("ratio", 1.1)  # peak memory next to the smallest round's


def run(context: Context) -> list[Row]:
    """On SQLite."""
    sizes = QUICK_SIZES if context.quick else SIZES
    return _measure(context, sizes, lambda n: sqlite_url(context.scratch, f"round{n}"))


def run_postgres(context: Context) -> list[Row]:
    """On PostgreSQL."""
    sizes = QUICK_SIZES if context.quick else POSTGRES_SIZES
    return _measure(context, sizes, lambda _: emptied_postgres(context.postgres_url))


def _measure(context: Context, sizes, fresh_database) -> list[Row]:
    assets = make_assets(context.scratch / "assets", IMAGES)
    rows: list[Row] = []
    smallest = None
    for subscribers, due, limit in sizes:
        url = fresh_database(subscribers)
        figures = _round(context, url, assets, (subscribers, due), limit)
        memory = figures.pop()
        rows += figures
        smallest = smallest or memory
        rows.append(memory if memory is smallest else memory.against(smallest, FLAT_GOAL))
    return rows


class CountedBot(BotProcess):
    """The bot as `tests.benchmarks.counted_bot`, writing its readings to a file."""

    def __init__(self, env: dict[str, str], cwd: Path, readings: Path,
                 pace: float | None) -> None:
        super().__init__(env, cwd)
        self.readings = readings
        self.pace = pace

    def start(self) -> CountedBot:
        argv = [sys.executable, "-m", "tests.benchmarks.counted_bot", str(self.readings)]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(argv + ([str(self.pace)] if self.pace else []),
                                            cwd=self.cwd, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)
        return self


def _round(context: Context, url: str, assets: Path, sizes: tuple[int, int],
           limit: int | None) -> list[Row]:
    api, (subscribers, due) = context.api, sizes
    api.add_group(CACHE_CHAT, "Cache")
    with context.full_speed():
        warm_now(Settings(token=TOKEN, database_url=url, assets_dir=assets,
                          api_url=api.base_url), CACHE_CHAT)
    daily_round.add_subscribers(url, subscribers, 0)
    if due < subscribers:
        _due_tomorrow(url, daily_round.FIRST_SUBSCRIBER + due)
    api.reset_calls()
    api.flood_limits = FloodLimits() if limit is None else FloodLimits(
        overall=Limit(limit, 1.0))
    readings = context.scratch / f"readings-{subscribers}"
    bot = CountedBot({"COSMOBOT_TOKEN": TOKEN, "COSMOBOT_DATABASE_URL": url,
                      "COSMOBOT_ASSETS_DIR": str(assets), "COSMOBOT_API_URL": api.base_url,
                      "COSMOBOT_LOG_LEVEL": "WARNING"}, context.scratch, readings, limit)
    stop, asked = threading.Event(), []
    asking = threading.Thread(target=daily_round.ask_cosmic,
                              args=(api, ASKERS, ASK_EVERY, stop, asked))
    bot.start()
    try:
        asking.start()
        _wait_for_round(api, due, bot)
    finally:
        stop.set()
        if asking.is_alive():
            asking.join()
        time.sleep(2 * context.rtt + 1)  # the last /cosmic asked gets its answer
        if bot.stop() != 0:
            raise AssertionError(f"the bot did not stop cleanly:\n{bot.output[-2000:]}")
        api.flood_limits = None
    return _figures(api, sizes, limit, asked, read_readings(readings))


def _due_tomorrow(url: str, first_chat: int) -> None:
    """Make the subscribers from first_chat on due tomorrow."""
    db = open_database(url)
    tomorrow = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(1)
    Subscription.update(next_at=tomorrow).where(Subscription.chat_id >= first_chat).execute()
    db.close()


def _wait_for_round(api: FakeBotApi, subscribers: int, bot: BotProcess) -> None:
    """Wait until every subscriber has had an image; raise if the round stalls."""
    delivered, progress_at = 0, time.monotonic()
    while delivered < subscribers:
        time.sleep(POLL_SECONDS)
        if len(_delivered(api)) > delivered:
            delivered, progress_at = len(_delivered(api)), time.monotonic()
        if time.monotonic() > progress_at + STALL_SECONDS or bot.process.poll() is not None:
            raise AssertionError(f"{delivered} of {subscribers} delivered when the round "
                                 f"stopped:\n{bot.output[-2000:]}")


def _delivered(api: FakeBotApi) -> Counter:
    """Daily images delivered, by chat."""
    return Counter(c.params["chat_id"] for c in api.calls("sendPhoto")
                   if c.status == 200 and c.params["chat_id"] >= daily_round.FIRST_SUBSCRIBER)


def _figures(api: FakeBotApi, sizes: tuple[int, int], limit: int | None,
             asked: list[tuple[int, float]], readings: list[tuple[float, int, int]]) -> list[Row]:
    (subscribers, due), per_chat = sizes, _delivered(api)
    doubled = sum(1 for count in per_chat.values() if count > 1)
    early = [chat for chat in per_chat if chat >= daily_round.FIRST_SUBSCRIBER + due]
    if len(per_chat) != due or doubled or early:
        raise AssertionError(f"{due - len(per_chat)} lost, {doubled} doubled, {len(early)} "
                             "sent a day early")
    daily = sorted(c.timestamp for c in api.calls("sendPhoto")
                   if c.status == 200 and c.params["chat_id"] >= daily_round.FIRST_SUBSCRIBER)
    first, last = daily[0], daily[-1]
    sent = [c.timestamp for c in api.calls() if c.status == 200
            and c.method in ("sendPhoto", "sendMessage") and first <= c.timestamp <= last]
    start = max((r for r in readings if r[0] <= first - MARGIN_SECONDS), default=readings[0])
    end = min((r for r in readings if r[0] >= last + MARGIN_SECONDS), default=readings[-1])
    images = len([c for c in api.calls("sendPhoto") if c.status == 200
                  and start[0] <= c.timestamp <= end[0]])
    server = "Telegram's limits" if limit is None else f"server limit raised to {limit}/s"
    due_now = f" ({due:,} due)" if due < subscribers else ""
    scale = f"{subscribers:,} subscribers{due_now}, {server}"
    # Asked while the round ran: one asked while the bot was starting waits for its start.
    replies = daily_round.reply_times(api, asked, (first, last))
    return [
        _single(f"{scale}: every message sent per second", "msg/s", len(sent) / (last - first),
                RATE_GOAL if limit is None else None),
        _single(f"{scale}: daily images delivered (0 lost, 0 doubled)", "images",
                len(per_chat)),
        _single(f"{scale}: database statements per image delivered", "stmts",
                (end[1] - start[1]) / images),
        _single(f"{scale}: bot CPU time per image delivered", "ms",
                (end[3] - start[3]) / images),
        timings(f"{scale}: /cosmic asked during the round, reply time", replies, "s",
                REPLY_GOAL),
        _single(f"{scale}: bot's peak memory (VmHWM)", "MB", readings[-1][2]),
    ]


def _single(what: str, unit: str, value: float, goal: Goal | None = None) -> Row:
    """A row of one figure."""
    return Row(what, unit, 1, value, value, value, value, goal=goal)
