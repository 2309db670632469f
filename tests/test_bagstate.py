"""A chat's round in a few numbers: the shuffle, the walk, picks, searches, claims merged."""

from __future__ import annotations

import importlib.util
import random
from dataclasses import dataclass, field, replace

import pytest

from cosmobot.storage import bagstate
from cosmobot.storage.bagstate import AHEAD_LIMIT, BagState, match_pick, next_pick
from cosmobot.storage.database import MIGRATIONS_DIR
from cosmobot.storage.shuffle import Shuffle


@dataclass
class Numbers:
    """A bot's numbers 0 to count - 1, all live but those removed."""

    count: int
    removed: set[int] = field(default_factory=set)

    def is_live(self, number: int) -> bool:
        return 0 <= number < self.count and number not in self.removed


def picks(state: BagState, numbers: Numbers, count: int) -> tuple[list[int], BagState]:
    """count picks one after another, each on the state the last one left."""
    shown = []
    for _ in range(count):
        choice = next_pick(state, numbers, ())
        shown.append(choice.number)
        state = choice.state
    return shown, state


def test_a_shuffle_is_a_permutation_both_ways_whatever_its_size():
    for size in [*range(1, 130), 1000, 4097]:
        shuffle = Shuffle(random.getrandbits(63), random.randrange(1000), size)
        order = [shuffle.at(step) for step in range(size)]
        assert sorted(order) == list(range(size))
        assert [shuffle.step_of(index) for index in order] == list(range(size))


def test_a_shuffle_is_the_same_on_every_machine_and_in_the_migration_that_rolls_back():
    # Every chat's progress is in these orders: a change to them would lose it.
    assert [Shuffle(42, 0, 10).at(step) for step in range(10)] == [
        3, 8, 1, 7, 0, 4, 9, 6, 2, 5]
    frozen = _migration("008_shuffle_bags_of_fixed_size")
    for seed, salt, size in ((42, 0, 10), (2**62 + 7, 81, 1000), (5, 3, 1)):
        shuffle = Shuffle(seed, salt, size)
        assert frozen.shuffled(seed, salt, size, size) == [shuffle.at(s) for s in range(size)]


def _migration(name: str):
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seeds_shuffle_the_collection_differently():
    firsts = {Shuffle(random.getrandbits(63), 0, 81).at(0) for _ in range(2000)}
    assert len(firsts) > 75  # each of 81 images opens some rounds


def test_each_round_shows_every_number_once_and_never_opens_with_the_last_one():
    numbers, state = Numbers(9), BagState(1)
    for _ in range(20):
        shown, state = picks(state, numbers, 9)
        assert sorted(shown) == list(range(9))
        following = next_pick(state, numbers, ())
        assert following.reseed is not None and following.number != shown[-1]
    assert state.shown == 9 and state.is_done(numbers)


def test_numbers_given_during_a_round_join_it():
    numbers = Numbers(5)
    shown, state = picks(BagState(3), numbers, 3)
    numbers.count = 8  # three images added
    more, state = picks(state, numbers, 5)
    assert sorted(shown + more) == list(range(8))
    assert next_pick(state, numbers, ()).reseed is not None  # only then a new round


def test_numbers_whose_images_are_gone_are_passed_by_and_the_round_ends_without_them():
    numbers = Numbers(6)
    shown, state = picks(BagState(4), numbers, 2)
    numbers.removed = {next(n for n in range(6) if n not in shown)}
    more, state = picks(state, numbers, 3)
    assert sorted(shown + more) == sorted(set(range(6)) - numbers.removed)
    assert state.is_done(numbers)


def test_what_the_walk_passed_is_seen_and_nothing_else():
    numbers = Numbers(50)
    shown, state = picks(BagState(8), numbers, 20)
    assert {n for n in range(50) if state.has_seen(n)} == set(shown)
    assert state.seen_numbers(50) == set(shown)


def test_a_pick_passes_by_an_image_on_its_way_and_keeps_it_unseen():
    numbers, state = Numbers(3), BagState(5)
    walk_next = next_pick(state, numbers, ()).number
    choice = next_pick(state, numbers, {walk_next})
    assert choice.number != walk_next and not choice.state.has_seen(walk_next)
    assert choice.state.ahead == {choice.number}
    # With every image on its way, a send still gets one.
    assert next_pick(state, numbers, {0, 1, 2}).number in {0, 1, 2}


def test_a_new_round_opens_with_neither_the_last_image_nor_one_on_its_way():
    numbers = Numbers(3)
    _, state = picks(BagState(6), numbers, 3)
    firsts = {next_pick(state, numbers, {(state.last + 1) % 3}).number for _ in range(60)}
    assert firsts == {(state.last + 2) % 3}


def test_two_picks_from_the_same_row_never_both_claim_one_image():
    numbers = Numbers(4)
    _, row = picks(BagState(9), numbers, 2)
    mine, theirs = next_pick(row, numbers, ()), next_pick(row, numbers, ())
    assert mine.number == theirs.number  # worked out alike from the same row
    landed = row.marked(theirs.number, numbers)
    assert landed == theirs.state
    assert landed.marked(mine.number, numbers) is None  # taken: this pick is worked out again


def test_a_new_round_opened_elsewhere_takes_the_round_a_late_claim_would_open():
    numbers = Numbers(2)
    _, done = picks(BagState(2), numbers, 2)
    theirs = next_pick(done, numbers, ())
    mine = next_pick(done, numbers, ())
    landed = done.marked(theirs.number, numbers, theirs.reseed)
    assert landed == theirs.state
    merged = landed.marked(mine.number, numbers, mine.reseed)
    if mine.number == theirs.number:
        assert merged is None
    else:  # the other image: the second of the round the other opened
        assert merged.seed == theirs.reseed and merged.shown == 2


def test_an_image_given_back_comes_next_again():
    numbers = Numbers(5)
    _, state = picks(BagState(11), numbers, 2)
    choice = next_pick(state, numbers, ())
    back = choice.state.unmarked(choice.number)
    assert replace(back, last=state.last) == state  # which image came last is not known
    assert next_pick(back, numbers, ()).number == choice.number
    ahead = state.took_ahead(4 if choice.number != 4 else 3)
    assert ahead.unmarked(max(ahead.ahead)).ahead == state.ahead
    # Once another pick has moved on, which step it was can no longer be told: it stays seen.
    after = next_pick(choice.state, numbers, ()).state
    assert after.unmarked(choice.number) is None


def test_a_search_takes_an_unseen_match_and_keeps_the_round_going():
    numbers = Numbers(10)
    shown, state = picks(BagState(12), numbers, 3)
    unseen = [n for n in range(10) if n not in shown]
    choice = match_pick(state, numbers, [shown[0], unseen[0]], ())
    assert choice.number == unseen[0] and choice.state.has_seen(unseen[0])
    assert choice.state.shown == 4 and choice.reseed is None
    more, end = picks(choice.state, numbers, 6)
    assert sorted(shown + [unseen[0]] + more) == list(range(10))  # no repeat in the round
    assert end.is_done(numbers)
    fresh = next_pick(end, numbers, ())  # a new round forgets it: it may keep only its own
    assert fresh.reseed is not None and fresh.state.ahead <= {fresh.number}  # (not the last)


def test_a_search_of_seen_images_avoids_the_last_one_and_changes_only_the_last():
    numbers = Numbers(10)
    shown, state = picks(BagState(13), numbers, 3)
    choices = [match_pick(state, numbers, shown[1:], ()) for _ in range(40)]
    assert {c.number for c in choices} == {shown[1]} and all(c.repeat for c in choices)
    assert choices[0].state == replace(state, last=shown[1])
    assert match_pick(state, numbers, [shown[2]], ()).number == shown[2]
    assert match_pick(state, numbers, [], ()) is None


def test_two_searches_at_once_never_take_one_image_though_every_match_was_seen():
    numbers = Numbers(10)
    shown, state = picks(BagState(15), numbers, 4)
    # The first search's image is on its way; the second takes the other seen match.
    for _ in range(20):
        assert match_pick(state, numbers, shown[:2], {shown[0]}).number == shown[1]
    # Unseen matches: the one on its way is left for the other.
    unseen = [n for n in range(10) if n not in shown][:2]
    assert match_pick(state, numbers, unseen, {unseen[0]}).number == unseen[1]


def test_searches_out_of_order_keep_the_row_bounded():
    numbers = Numbers(10_000)
    state = BagState(14)
    for _ in range(AHEAD_LIMIT + 20):
        candidates = random.sample(range(1, 10_000), 3)
        state = match_pick(state, numbers, candidates, ()).state or state
    assert len(state.ahead) == AHEAD_LIMIT
    # Full: a search takes a match seen already, and with none, shows one it cannot keep.
    seen = max(state.ahead)
    assert match_pick(state, numbers, [seen, 0], ()).number == seen
    unkept = match_pick(state, numbers, [0], ())
    assert unkept.number == 0 and unkept.state is None


@pytest.mark.parametrize("size", [1, 2, 81, 100_000])
def test_the_row_stays_the_same_size_whatever_the_collection(size):
    numbers = Numbers(size)
    state = BagState(bagstate.new_seed())
    shown, state = picks(state, numbers, min(size, 50))
    assert len(state.ahead) == 0 and state.shown == min(size, 50)
    assert max(state.leg_start, state.leg_end, state.step) <= size
