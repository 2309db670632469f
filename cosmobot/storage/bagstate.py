"""A chat's round through a bot's images, in a few numbers, and the picks that move it on.

Pure: no database, no event loop. A BagState is what one row of shuffle_bags holds; Numbers
is the bot's image numbers as this process knows them (cosmobot.storage.numbering).

The round goes through the image numbers in legs. Its first leg is the numbers given when it
began; once that is walked, the next leg is the numbers given since, and so on until there
are no more. Each leg is walked in the order Shuffle(seed, leg_start) puts it in, so an image
added during a round (a new number, in a later leg) joins it, and a number whose image is not
installed (removed, say) is simply passed by.

What the chat has seen this round: the legs before the one under way, the steps taken in
that one, and `ahead`, the few numbers it was shown out of the walk's order (a search, or an
image on its way to the chat passed by). The walk forgets those when it comes to them. At
most AHEAD_LIMIT are added; a bag carried over from the older table may start with more, and
forgets them as its walk goes on.

So a pick costs O(1) in the collection's size: a few steps of the walk (one per image removed
or shown ahead that it passes), and a row of fixed size, whatever the collection.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from cosmobot.storage.shuffle import Shuffle

AHEAD_LIMIT = 64


class Numbers(Protocol):
    """A bot's image numbers as this process knows them."""

    @property
    def count(self) -> int:
        """How many numbers are given: 0 to count - 1."""

    def is_live(self, number: int) -> bool:
        """Whether number's image is installed now."""


def new_seed() -> int:
    """A seed for a new round's order (a positive 63-bit number: a BIGINT in any database)."""
    return random.getrandbits(63)


@dataclass(frozen=True)
class Stop:
    """Where the walk found a live number the chat has not seen."""

    number: int
    leg_start: int
    leg_end: int
    step: int
    passed: frozenset[int]  # numbers of `ahead` the walk went by before it


@dataclass(frozen=True)
class BagState:
    """Where a chat is in its round (see the module's docstring)."""

    seed: int
    leg_start: int = 0
    leg_end: int = 0
    step: int = 0
    ahead: frozenset[int] = field(default_factory=frozenset)
    last: int | None = None  # the number shown last
    shown: int = 0  # numbers seen this round

    def has_seen(self, number: int) -> bool:
        """Whether the chat has seen number this round."""
        if number in self.ahead or number < self.leg_start:
            return True
        if number >= self.leg_end:
            return False
        return self._shuffle().step_of(number - self.leg_start) < self.step

    def walk(self, numbers: Numbers) -> Iterator[Stop]:
        """The live numbers the chat has not seen this round, in the round's order."""
        start, end, step = self.leg_start, self.leg_end, self.step
        passed: set[int] = set()
        while True:
            if step < end - start:
                shuffle = Shuffle(self.seed, start, end - start)
                for at in range(step, end - start):
                    number = start + shuffle.at(at)
                    if number in self.ahead:
                        passed.add(number)
                    elif numbers.is_live(number):
                        yield Stop(number, start, end, at, frozenset(passed))
            if numbers.count <= end:
                return
            start, end, step = end, numbers.count, 0  # the numbers given since: the next leg

    def is_done(self, numbers: Numbers) -> bool:
        """Whether the chat has seen every live number this round."""
        return next(self.walk(numbers), None) is None

    def took(self, stop: Stop) -> BagState:
        """This state once the chat is shown the number the walk came to at stop."""
        return replace(self, leg_start=stop.leg_start, leg_end=stop.leg_end, step=stop.step + 1,
                       ahead=self.ahead - stop.passed, last=stop.number, shown=self.shown + 1)

    def showing(self, number: int, numbers: Numbers) -> BagState:
        """This state once the chat is shown number, which it has not seen this round."""
        first = next(self.walk(numbers), None)
        if first is not None and first.number == number:
            return self.took(first)
        return self.took_ahead(number)

    def took_ahead(self, number: int) -> BagState:
        """This state once the chat is shown number out of the walk's order.

        Kept among `ahead` while there is room; beyond, it is shown and not kept (it may come
        once more this round).
        """
        if len(self.ahead) >= AHEAD_LIMIT:
            return replace(self, last=number)
        return replace(self, ahead=self.ahead | {number}, last=number, shown=self.shown + 1)

    def marked(self, number: int, numbers: Numbers, reseed: int | None = None) -> BagState | None:
        """This state once the chat is shown number; None if it saw it this round already.

        reseed is the seed of the round the pick opened, if it did: when this round is done,
        that round opens here too.
        """
        if not self.has_seen(number):
            return self.showing(number, numbers)
        if reseed is not None and self.is_done(numbers):
            return BagState(reseed, last=self.last).showing(number, numbers)
        return None

    def unmarked(self, number: int) -> BagState | None:
        """This state with number unseen again (its send failed); None if that cannot be told.

        It can while number is among `ahead` or the walk's last step, as a pick just left it.
        """
        if number in self.ahead:
            return replace(self, ahead=self.ahead - {number}, shown=self.shown - 1)
        if (self.leg_start <= number < self.leg_end and self.step > 0
                and self._shuffle().step_of(number - self.leg_start) == self.step - 1):
            return replace(self, step=self.step - 1, shown=self.shown - 1)
        return None

    def seen_numbers(self, count: int) -> set[int]:
        """Every number below count the chat has seen this round (O(count): for a look)."""
        return {number for number in range(count) if self.has_seen(number)}

    def _shuffle(self) -> Shuffle:
        return Shuffle(self.seed, self.leg_start, self.leg_end - self.leg_start)


@dataclass(frozen=True)
class Choice:
    """A pick: the number to show, and the bag's state once it is shown."""

    number: int
    state: BagState | None  # None: shown, but the bag does not change (nowhere to keep it)
    reseed: int | None = None  # the seed of the new round it opened
    repeat: bool = False  # seen this round already (a search that found nothing new)


def next_pick(state: BagState, numbers: Numbers, on_their_way: Collection[int]) -> Choice | None:
    """The chat's next image in its round; it opens a new round when this one is done.

    An image on its way to the chat is passed by while there is another. A new round does
    not open with the image shown last, when there is another. None when nothing is live.
    """
    choice = _first_of(state, numbers, on_their_way, or_else_first=False)
    if choice is not None:
        return choice
    fresh = BagState(new_seed(), last=state.last)
    avoid = {*on_their_way, *([] if state.last is None else [state.last])}
    choice = _first_of(fresh, numbers, avoid, or_else_first=True)
    return None if choice is None else replace(choice, reseed=fresh.seed)


def _first_of(state: BagState, numbers: Numbers, avoid: Collection[int],
              or_else_first: bool) -> Choice | None:
    """The walk's first stop not to avoid (kept ahead if it is not the walk's next)."""
    first = None
    for stop in state.walk(numbers):
        first = first or stop
        if stop.number not in avoid:
            kept = state.took(stop) if stop is first else state.took_ahead(stop.number)
            return Choice(stop.number, kept)
    if first is None or not or_else_first:
        return None
    return Choice(first.number, state.took(first))


def match_pick(state: BagState, numbers: Numbers, candidates: Sequence[int],
               on_their_way: Collection[int]) -> Choice | None:
    """A random candidate the chat has not seen this round; if none, any but the last shown.

    For a search: the round goes on, it never opens a new one. An image on its way is never
    picked while there is another. With `ahead` full, candidates seen already come first.
    """
    if not candidates:
        return None
    free = [number for number in candidates if number not in on_their_way] or list(candidates)
    unseen = [number for number in free if not state.has_seen(number)]
    if unseen and len(state.ahead) < AHEAD_LIMIT:
        number = random.choice(unseen)
        return Choice(number, state.showing(number, numbers))
    seen = [number for number in free if number not in unseen]
    others = [number for number in seen if number != state.last]
    if others or not unseen:
        number = random.choice(others or seen)
        return Choice(number, replace(state, last=number), repeat=True)
    return Choice(random.choice(unseen), None)
