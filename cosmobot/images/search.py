"""Finding images by title: every query word must begin some word of an English or Russian title.

Case does not matter, nor how the text is encoded (a decomposed `ё`, full-width `ＮＧＣ`), and
`ё` matches `е`: Russian writers often leave its dots out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from cosmobot.images.assets import AssetLibrary
from cosmobot.images.metadata import ImageMeta

# Anything but letters and digits separates words ("NGC-346", "(M42)", "«Аполлона-16»").
_SEPARATORS = re.compile(r"[\W_]+")
SEARCH_LANGUAGES = ("en", "ru")


def words(text: str) -> list[str]:
    """Split text into normalised words: NFKC, case-folded, with `ё` read as `е`."""
    # NFKC first: it composes `е` + U+0308 into `ё` and turns `ＮＧＣ` into `NGC`.
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return [word for word in _SEPARATORS.split(folded) if word]


def title_words(meta: ImageMeta) -> set[str]:
    """The normalised words of an image's titles in every language searched."""
    return {word for language in SEARCH_LANGUAGES for word in words(meta.title(language))}


def matches(query: Iterable[str], candidates: set[str]) -> bool:
    """Whether every query word begins one of the candidate words."""
    return all(any(word.startswith(part) for word in candidates) for part in query)


def find(library: AssetLibrary, query: str) -> list[str]:
    """Keys of the installed images whose titles match query, in the library's order."""
    parts = words(query)
    if not parts:
        return []
    return [key for key in library.cosmic_keys
            if matches(parts, title_words(library.metadata(key)))]
