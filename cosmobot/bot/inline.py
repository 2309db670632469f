"""Inline mode: `@bot nebula` in any chat, answered with the cached photos whose titles match.

Telegram lets an inline answer name a photo only by file_id or URL, so only images cached for
this bot are offered; the others are warmed in the background, when a cache chat is set, and
show up in later answers.
"""

from __future__ import annotations

import hashlib
import math
import random
import re

from loguru import logger
from telegram import Bot, InlineQueryResultCachedPhoto, InlineQueryResultsButton
from telegram.error import BadRequest, TelegramError

from cosmobot import sender
from cosmobot.clock import utcnow
from cosmobot.images import search
from cosmobot.schedule.warm import BackgroundWarmer
from cosmobot.storage import filecache
from cosmobot.texts import caption, text

# Telegram's most results per answer.
PAGE_SIZE = 50
# Seconds Telegram may reuse an answer: short, so newly cached images show within a minute.
CACHE_SECONDS = 30
# Telegram drops an answer that comes more than 10 s after the query; the answer itself must
# not wait longer than the time left.
ANSWER_TIMEOUT_SECONDS = 8
START_PARAMETER = "inline"
# The offsets this bot hands out: where a later page starts, in plain ASCII digits.
NEXT_PAGE_OFFSET = re.compile(r"[1-9][0-9]{0,8}")
# Strides of the daily order, primes that scatter neighbours: one coprime to the count is drawn.
_STRIDES = (7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
            97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179)


async def answer_inline(bot: Bot, query_id: str, user_id: int, query: str, offset: str,
                        language: str, warmer: BackgroundWarmer | None = None) -> None:
    """Answer an inline query with a page of cached photos; log, never raise, if that fails."""
    keys = search.find(sender.library(), query) if query.strip() else sender.library().cosmic_keys
    cached = await _with_rows(bot, keys)
    start = _page_start(offset)
    if query.strip():
        page_keys = cached[start:start + PAGE_SIZE]
    else:
        page_keys = _daily_page(cached, user_id, start)
    page = await _file_ids(bot, page_keys)
    if (len(cached) < len(keys) or len(page) < len(page_keys)) and warmer is not None:
        warmer.start(bot)  # the missing ones join later answers once uploaded
    more = start + PAGE_SIZE < len(cached)
    results = [_result(key, file_id, language) for key, file_id in page]
    button = _button(language, bool(keys)) if not page else None
    # The last page leaves next_offset out rather than "": PTB 22.8, with Defaults set, turns an
    # empty string into "[]" (it takes it for an empty list of poll options).
    try:
        await bot.answer_inline_query(
            query_id, results, cache_time=CACHE_SECONDS, is_personal=not query.strip(),
            next_offset=str(start + PAGE_SIZE) if more else None, button=button,
            read_timeout=ANSWER_TIMEOUT_SECONDS, write_timeout=ANSWER_TIMEOUT_SECONDS,
            connect_timeout=ANSWER_TIMEOUT_SECONDS, pool_timeout=ANSWER_TIMEOUT_SECONDS,
        )
    except BadRequest as error:
        if "query is too old" not in error.message.lower():
            logger.warning("Could not answer inline query {!r}: {}", query, error)
            return
        # The user typed on, or we were slow: Telegram has moved on, and so do we.
        logger.info("Inline query {!r} expired before its answer: {}", query, error)
    except TelegramError as error:
        logger.warning("Could not answer inline query {!r}: {}", query, error)


def _page_start(offset: str) -> int:
    """Where the page asked for starts; an offset the bot never handed out means the first."""
    if NEXT_PAGE_OFFSET.fullmatch(offset) and int(offset) % PAGE_SIZE == 0:
        return int(offset)
    if offset:
        # Clients send back the next_offset the bot gave; anything else was made up.
        logger.debug("Inline offset {!r} was never handed out; answering the first page", offset)
    return 0


def _daily_page(keys: list[str], user_id: int, start: int) -> list[str]:
    """A page of keys in an order of this user's and today's: paging stays stable all day.

    The order steps through keys by a stride coprime to their number, from an offset, both
    drawn for the user and the day: each key once, without shuffling thousands for one page.
    """
    if not keys:
        return []
    count = len(keys)
    draw = random.Random(f"{user_id}:{utcnow().date().isoformat()}")
    stride = draw.choice([n for n in _STRIDES if math.gcd(n, count) == 1] or [1]) % count or 1
    first = draw.randrange(count)
    positions = range(start, min(start + PAGE_SIZE, count))
    return [keys[(first + stride * position) % count] for position in positions]


async def _with_rows(bot: Bot, keys: list[str]) -> list[str]:
    """The keys bot has a cached row for (maybe for older file content), in the order given."""
    known = filecache.keys_in_memory(bot.id)
    unknown = [key for key in keys if key not in known]
    if unknown:
        await filecache.preload(bot.id, unknown)  # one query instead of one per image
        known = filecache.keys_in_memory(bot.id)
    return [key for key in keys if key in known]


async def _file_ids(bot: Bot, keys: list[str]) -> list[tuple[str, str]]:
    """The keys bot can send by a file_id for their current content, each with it."""
    found = []
    for key in keys:
        file_id = await sender.cached_file_id(bot, key)
        if file_id is not None:
            found.append((key, file_id))
    return found


def _result(key: str, file_id: str, language: str) -> InlineQueryResultCachedPhoto:
    meta = sender.library().metadata(key)
    # Result ids may hold at most 64 bytes; asset keys may be longer.
    result_id = hashlib.blake2s(key.encode(), digest_size=16).hexdigest()
    return InlineQueryResultCachedPhoto(
        result_id, file_id, title=meta.title(language), caption=caption(meta, language)
    )


def _button(language: str, matched: bool) -> InlineQueryResultsButton:
    label = text(language, "inline_not_ready" if matched else "inline_no_match")
    return InlineQueryResultsButton(label, start_parameter=START_PARAMETER)
