"""Benchmark: a daily round of many subscribers on the real Application and the fake Bot API.

Usage:
    python -m tests.benchmarks.daily_round [--subscribers 1000] [--latency 0.05]
                                           [--askers 10] [--every 2.0] [--unreadable 0]

Every subscriber is due when the bot starts. The fake Bot API answers after --latency seconds
and enforces Telegram's limits with 429s: 30 messages per second overall, one per second per
private chat, 20 per minute per group. While the
round runs, --askers other users each send /cosmic every --every seconds; the time from
their message to the photo reaching the fake is their reply time. The script prints
delivered, lost (no image), doubled (more than one), daily images and all messages per second
over the round, 429s received and the p95 reply time of /cosmic during the round.

--unreadable adds that many subscribers in a zone tzdata dropped long ago (`US/Pacific-New`),
due an hour before the others, as after a host upgrade: the script prints how many of them
the round set aside and how many images they got.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import math
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from cosmobot.clock import utcnow
from cosmobot.logs import configure_logging
from cosmobot.storage.database import apply_migrations, open_database
from cosmobot.storage.models import Subscription
from tests.botrunner import BotThread, bot_settings
from tests.factories import BOT_ID, TOKEN, make_assets
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi.limits import FloodLimits

FIRST_SUBSCRIBER = 1_000_000
FIRST_UNREADABLE = 2_000_000
DROPPED_ZONE = "US/Pacific-New"
FIRST_ASKER = 10


def add_subscribers(url: str, count: int, unreadable: int) -> None:
    db = open_database(url)
    apply_migrations()
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = [{"bot_id": BOT_ID, "chat_id": FIRST_SUBSCRIBER + n, "chat_type": "private",
             "language": "en", "local_time": "00:00", "zone": "UTC", "next_at": midnight}
            for n in range(count)]
    rows += [{"bot_id": BOT_ID, "chat_id": FIRST_UNREADABLE + n, "chat_type": "private",
              "language": "en", "local_time": "23:00", "zone": DROPPED_ZONE,
              "next_at": midnight - dt.timedelta(hours=1)} for n in range(unreadable)]
    with db.atomic():
        for start in range(0, len(rows), 500):
            Subscription.insert_many(rows[start:start + 500]).execute()
    db.close()


def ask_cosmic(api: FakeBotApi, askers: int, every: float, stop: threading.Event,
               asked: list[tuple[int, float]]) -> None:
    while not stop.is_set():
        for n in range(askers):
            chat = FIRST_ASKER + n
            asked.append((chat, time.monotonic()))
            api.push_text(chat, "/cosmic")
            stop.wait(every / askers)


def reply_times(api: FakeBotApi, asked: list[tuple[int, float]],
                between: tuple[float, float] = (-math.inf, math.inf)) -> list[float]:
    """Seconds from each /cosmic asked between the two moments to the chat's next photo.

    The next photo, not the n-th: a /cosmic sent while the chat's last image is still on its
    way is answered by that image (the bot sends no second one), so that is the user's wait.
    """
    photos: dict[int, list[float]] = {}
    for call in api.calls("sendPhoto"):
        if call.status == 200 and call.params["chat_id"] < FIRST_SUBSCRIBER:
            photos.setdefault(call.params["chat_id"], []).append(call.timestamp)
    for answered in photos.values():
        answered.sort()
    times = []
    for chat, at in asked:
        answered = photos.get(chat, [])
        following = bisect.bisect_left(answered, at)
        if between[0] <= at <= between[1] and following < len(answered):
            times.append(answered[following] - at)
    return times


def report_unreadable(api: FakeBotApi, url: str, unreadable: int) -> None:
    db = open_database(url)
    set_aside = Subscription.select().where(Subscription.set_aside.is_null(False)).count()
    db.close()
    sent = len([c for c in api.calls("sendPhoto") if c.params["chat_id"] >= FIRST_UNREADABLE])
    print(f"unreadable zone ({DROPPED_ZONE}): {set_aside} of {unreadable} set aside; "
          f"{sent} images sent to them")


def report(api: FakeBotApi, subscribers: int, asked: list[tuple[int, float]]) -> None:
    sends = [c for c in api.calls("sendPhoto")
             if FIRST_SUBSCRIBER <= c.params["chat_id"] < FIRST_UNREADABLE]
    done = [c for c in sends if c.status == 200]
    per_chat = Counter(c.params["chat_id"] for c in done)
    floods = len([c for c in api.calls() if c.status == 429])
    span = max(c.timestamp for c in done) - min(c.timestamp for c in done) if done else 0
    replies = sorted(reply_times(api, asked))
    p95 = replies[int(0.95 * (len(replies) - 1))] if replies else float("nan")
    print(f"subscribers: {subscribers}; latency: {api.latency * 1000:.0f} ms")
    print(f"delivered: {len(per_chat)}; lost: {subscribers - len(per_chat)}; "
          f"doubled: {sum(1 for n in per_chat.values() if n > 1)}")
    print(f"messages per second over the round: {len(done) / span if span else 0:.1f} "
          f"({len(done)} in {span:.1f} s)")
    every_send = [c for c in api.calls() if c.method in ("sendPhoto", "sendMessage")
                  and c.status == 200 and span and done[0].timestamp <= c.timestamp
                  <= done[-1].timestamp]
    print(f"all messages (daily images and replies) per second over the round: "
          f"{len(every_send) / span if span else 0:.1f}")
    print(f"429s received: {floods}")
    print(f"/cosmic during the round: {len(replies)} answered of {len(asked)}; "
          f"p95 reply {p95:.2f} s, median {statistics.median(replies) if replies else 0:.2f} s")


def measure(subscribers: int, latency: float, askers: int, every: float, unreadable: int,
            scratch: Path) -> None:
    with FakeBotApi([TOKEN]) as api:
        api.latency, api.flood_limits = latency, FloodLimits()
        settings = bot_settings(scratch, api, make_assets(scratch / "assets",
                                                          ("orion.jpg", "andromeda.png")))
        add_subscribers(settings.database_url, subscribers, unreadable)
        stop, asked = threading.Event(), []
        asking = threading.Thread(target=ask_cosmic, args=(api, askers, every, stop, asked))
        with BotThread(settings, api):
            asking.start()
            deadline = time.monotonic() + 30 + subscribers / 10
            while time.monotonic() < deadline and len({
                    c.params["chat_id"] for c in api.calls("sendPhoto")
                    if c.status == 200
                    and FIRST_SUBSCRIBER <= c.params["chat_id"] < FIRST_UNREADABLE}) < subscribers:
                time.sleep(0.2)
            stop.set()
            asking.join()
            time.sleep(2 * latency + 1)  # the last /cosmic asked gets its answer
        report(api, subscribers, asked)
        if unreadable:
            report_unreadable(api, settings.database_url, unreadable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--askers", type=int, default=10)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--unreadable", type=int, default=0)
    args = parser.parse_args()
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as scratch:
        measure(args.subscribers, args.latency, args.askers, args.every, args.unreadable,
                Path(scratch))


if __name__ == "__main__":
    main()
