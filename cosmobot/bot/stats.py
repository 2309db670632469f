"""/stats: what the bot has done, for its admins, as sections built by one function each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from telegram import Bot

from cosmobot import sender
from cosmobot.clock import utcnow
from cosmobot.schedule import daily
from cosmobot.storage import filecache, sendcounts
from cosmobot.storage.database import read_in_db_thread
from cosmobot.texts import text

# A section of the reply: its title and its lines.
Section = tuple[str, list[str]]
SectionBuilder = Callable[[Bot, str], Awaitable[Section]]


async def images_section(bot: Bot, language: str) -> Section:
    """How many images are installed, and how many the bot can send by file_id."""
    keys = sender.library().cosmic_keys
    await filecache.preload(bot.id, keys)  # one query; each check below is answered in memory
    cached = sum([await sender.is_cached(bot, key) for key in keys])
    return text(language, "stats_images"), [
        text(language, "stats_installed", count=len(keys)),
        text(language, "stats_cached", count=cached, total=len(keys)),
    ]


async def sends_section(bot: Bot, language: str) -> Section:
    """Photos sent by file_id and uploaded, since start and over the bot's life."""
    since_start, totals = sendcounts.since_start(bot.id), await sendcounts.totals(bot.id)
    lines = [
        text(language, f"stats_{name}", since_start=since_start[name], total=totals[name])
        for name in sendcounts.NAMES
    ]
    return text(language, "stats_sends"), lines


async def subscriptions_section(bot: Bot, language: str) -> Section:
    """Subscribers, today's daily images, and when the next round runs."""
    figures = await read_in_db_thread(daily.day_figures, bot.id, utcnow())
    when = figures.next_round_at
    next_round = when.astimezone(dt.timezone.utc).strftime("%H:%M:%S UTC") if when else "—"
    return text(language, "stats_daily"), [
        text(language, "stats_subscribers", active=figures.active, inactive=figures.inactive),
        text(language, "stats_set_aside", count=figures.set_aside),
        text(language, "stats_today", done=figures.done, due=figures.due,
             failed=figures.failed),
        text(language, "stats_next_round", at=next_round),
    ]


# The sections, in the order shown: one more section is one more function here.
SECTIONS: list[SectionBuilder] = [
    images_section,
    sends_section,
    subscriptions_section,
]


async def stats_report(bot: Bot, language: str) -> str:
    """Return the /stats reply in language."""
    sections = [await build(bot, language) for build in SECTIONS]
    blocks = ["\n".join([title, *(f"• {line}" for line in lines)]) for title, lines in sections]
    return "\n\n".join([text(language, "stats_title"), *blocks])
