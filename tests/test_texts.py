"""Every text and caption the bot builds stays within Telegram's limits, in both languages."""

from __future__ import annotations

import string

import pytest

from cosmobot.images.metadata import ImageMeta
from cosmobot.texts import (
    CAPTION_LIMIT,
    LANGUAGES,
    MESSAGE_LIMIT,
    TEXTS,
    caption,
    shorten,
    telegram_length,
    text,
)

GALAXY = "\N{MILKY WAY}"  # beyond the BMP: two UTF-16 code units, one Python character
# Whatever a user may type or an image's metadata may hold, at its worst.
HUGE_VALUES = ("q" * 5000, GALAXY * 3000, "туманность " * 500)


def fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


TEMPLATES = [(language, key) for language in LANGUAGES for key, template in TEXTS[language].items()
             if fields(template)]


@pytest.mark.parametrize("value", HUGE_VALUES)
@pytest.mark.parametrize(("language", "key"), TEMPLATES)
def test_no_message_text_exceeds_telegrams_limit(language, key, value):
    values = {name: value for name in fields(TEXTS[language][key])}
    built = text(language, key, **values)
    assert telegram_length(built) <= MESSAGE_LIMIT
    assert built.endswith("…")  # shortened, not dropped: the user still gets an answer


@pytest.mark.parametrize("value", HUGE_VALUES)
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_caption_exceeds_telegrams_limit(language, value):
    for meta in (ImageMeta(titles={language: value}, credit="NASA"),
                 ImageMeta(titles={language: "Orion"}, credit=value),
                 ImageMeta(titles={language: value}, credit=value)):
        assert 0 < telegram_length(caption(meta, language)) <= CAPTION_LIMIT


def test_lengths_count_what_telegram_may_count():
    assert telegram_length("Орёл") == 4
    assert telegram_length(GALAXY) == 2


def test_shorten_keeps_what_fits_and_marks_the_cut():
    assert shorten("short", 5) == "short"
    assert shorten("a little longer", 9) == "a little…"  # no space left before the mark
    assert shorten(GALAXY * 10, 6) == GALAXY * 2 + "…"  # a pair of code units is never split
    assert shorten("anything", 1) == "…"
    assert shorten("anything", 0) == ""
