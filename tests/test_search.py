"""Finding images by title (English and Russian, by word prefix, `ё` as `е`), and picking one."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosmobot.images import search
from cosmobot.images.assets import AssetLibrary
from cosmobot.storage.bagstate import BagState, match_pick
from tests.factories import make_assets

SHIPPED = Path(__file__).resolve().parent.parent / "assets" / "images"


@pytest.fixture(scope="module")
def shipped() -> AssetLibrary:
    library = AssetLibrary(SHIPPED)
    library.scan()
    return library


def titles(library: AssetLibrary, query: str) -> list[str]:
    return [library.metadata(key).title("en") for key in search.find(library, query)]


def test_words_are_casefolded_split_and_read_yo_as_ye():
    assert search.words("Туманность Орёл (M16)") == ["туманность", "орел", "m16"]
    assert search.words("«Аполлона-16», NGC_346!") == ["аполлона", "16", "ngc", "346"]
    assert search.words("  ,. ") == []


@pytest.mark.parametrize("query", ["neb", "туманн", "Туманность Орёл", "туманность орел",
                                   "EAGLE", "орё", "m16"])
def test_the_eagle_nebula_is_found_in_either_language(shipped, query):
    assert "Eagle Nebula (M16)" in titles(shipped, query)


def test_every_word_must_begin_a_title_word(shipped):
    assert titles(shipped, "Туманность Орёл") == ["Eagle Nebula (M16)"]
    assert titles(shipped, "eagle nebula") == ["Stellar Spire in the Eagle Nebula",
                                               "Eagle Nebula (M16)"]
    assert titles(shipped, "ebula") == []  # inside a word is no match
    assert titles(shipped, "eagle galaxy") == []


def test_words_of_both_languages_may_be_mixed(shipped):
    assert titles(shipped, "sombrero галактика") == ["Sombrero Galaxy (M104)"]


def test_an_empty_query_finds_nothing(shipped):
    assert search.find(shipped, " ") == []


class Installed:
    """Image numbers 0 to count - 1, all installed."""

    def __init__(self, count: int) -> None:
        self.count = count

    def is_live(self, number: int) -> bool:
        return 0 <= number < self.count


# The chat has seen images 0, 1 and 2 this round (2 last), out of 4.
SEEN_THREE = BagState(seed=7, ahead=frozenset({0, 1, 2}), last=2)


def test_a_search_prefers_what_the_chat_has_not_seen():
    assert {match_pick(SEEN_THREE, Installed(4), [0, 1, 3], ()).number for _ in range(50)} == {3}


def test_a_search_of_only_seen_images_avoids_the_last_one_and_keeps_the_round():
    picks = [match_pick(SEEN_THREE, Installed(4), [1, 2], ()) for _ in range(50)]
    assert {pick.number for pick in picks} == {1}
    assert all(pick.state.ahead == SEEN_THREE.ahead and pick.reseed is None for pick in picks)
    assert match_pick(SEEN_THREE, Installed(4), [2], ()).number == 2
    assert match_pick(SEEN_THREE, Installed(4), [], ()) is None


# A `ё` typed as `е` + U+0308 (COMBINING DIAERESIS), as some keyboards and pastes give it.
DECOMPOSED_YO = "е\u0308"


def test_words_are_normalised_before_they_are_compared():
    assert search.words(f"ОР{DECOMPOSED_YO.upper()}Л ＮＧＣ３４６") == ["орел", "ngc346"]
    assert search.words("Ｍ１６") == search.words("m16")


@pytest.mark.parametrize("query", ["ＥＡＧＬＥ", "ｍ１６", f"туманность ор{DECOMPOSED_YO}л",
                                   f"ОР{DECOMPOSED_YO.upper()}Л"])
def test_a_query_in_another_unicode_form_finds_the_title(shipped, query):
    assert "Eagle Nebula (M16)" in titles(shipped, query)


NORMALISED_TITLES = f"""
["ngc.jpg"]
title.en = "ＮＧＣ 602 in full-width letters"
title.ru = "Звёздное скопление"

["eagle.jpg"]
title.en = "Eagle"
title.ru = "Ор{DECOMPOSED_YO}л"
"""


@pytest.mark.parametrize(("query", "found"), [("ngc 602", "ngc.jpg"), ("орел", "eagle.jpg"),
                                              ("Орёл", "eagle.jpg")])
def test_a_title_in_another_unicode_form_is_found(tmp_path, query, found):
    root = make_assets(tmp_path / "assets", ("ngc.jpg", "eagle.jpg"))
    (root / "cosmic" / "credits.toml").write_text(NORMALISED_TITLES, encoding="utf-8")
    library = AssetLibrary(root)
    library.scan()
    assert search.find(library, query) == [f"cosmic/{found}"]


def test_a_rescan_brings_new_titles_into_the_search(tmp_path):
    root = make_assets(tmp_path / "assets", ("orion-nebula.jpg",))
    library = AssetLibrary(root)
    library.scan()
    assert search.find(library, "crab") == []
    make_assets(root, ("crab-nebula.jpg",))
    library.rescan_if_changed()
    assert search.find(library, "crab") == ["cosmic/crab-nebula.jpg"]
    assert search.find(library, "nebula") == ["cosmic/crab-nebula.jpg", "cosmic/orion-nebula.jpg"]


def test_an_image_discarded_after_the_scan_is_no_longer_found(tmp_path):
    library = AssetLibrary(make_assets(tmp_path / "assets", ("crab-nebula.jpg", "crab-pulsar.jpg")))
    library.scan()
    assert len(search.find(library, "crab")) == 2
    library.discard("cosmic/crab-pulsar.jpg", "not a valid image")
    assert search.find(library, "crab") == ["cosmic/crab-nebula.jpg"]


def test_query_words_find_every_word_they_begin(tmp_path):
    names = ("nebula.jpg", "nebulae-field.jpg", "neb.jpg", "ne.jpg", "nf.jpg", "nebulb.jpg")
    library = AssetLibrary(make_assets(tmp_path / "assets", names))
    library.scan()
    assert search.find(library, "neb") == ["cosmic/neb.jpg", "cosmic/nebula.jpg",
                                           "cosmic/nebulae-field.jpg", "cosmic/nebulb.jpg"]
    assert search.find(library, "nebula") == ["cosmic/nebula.jpg", "cosmic/nebulae-field.jpg"]
