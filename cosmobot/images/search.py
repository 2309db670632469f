"""Finding images by title: every query word must begin some word of an English or Russian title.

Case does not matter, nor how the text is encoded (a decomposed `ё`, full-width `ＮＧＣ`), and
`ё` matches `е`: Russian writers often leave its dots out.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
import weakref

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


class TitleIndex:
    """Which images each normalised title word belongs to, built once per scan of a library."""

    def __init__(self, library: AssetLibrary) -> None:
        self._keys_of: dict[str, set[str]] = {}
        for key in library.cosmic_keys:
            for word in title_words(library.metadata(key)):
                self._keys_of.setdefault(word, set()).add(key)
        # Sorted, the words that begin with a query word are one run: found by bisection.
        self._vocabulary = sorted(self._keys_of)

    def matching(self, query: list[str]) -> set[str]:
        """Keys whose titles have, for every query word, a word that begins with it."""
        found: set[str] | None = None
        for part in query:
            keys = self._beginning_with(part)
            found = keys if found is None else found & keys
            if not found:
                return set()
        return found or set()

    def _beginning_with(self, part: str) -> set[str]:
        keys: set[str] = set()
        for position in range(bisect.bisect_left(self._vocabulary, part), len(self._vocabulary)):
            word = self._vocabulary[position]
            if not word.startswith(part):
                break
            keys |= self._keys_of[word]
        return keys


# Each library's index, with the scan it was built from; dropped with the library.
_indexes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def index_of(library: AssetLibrary) -> TitleIndex:
    """The title index of library's latest scan, built at the first search after it."""
    built = _indexes.get(library)
    if built is None or built[0] != library.generation:
        built = (library.generation, TitleIndex(library))
        _indexes[library] = built
    return built[1]


def find(library: AssetLibrary, query: str) -> list[str]:
    """Keys of the installed images whose titles match query, in the library's order."""
    parts = words(query)
    if not parts:
        return []
    # An image discarded since the scan is still in the index, but no longer in the library.
    return sorted(key for key in index_of(library).matching(parts) if library.get(key))
