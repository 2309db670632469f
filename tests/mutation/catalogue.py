"""The mutants: one small bug each, in the code's own words, and the tests that must catch it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """Replace `before` (found exactly once in `path`) by `after`; `tests` must then fail."""

    name: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]
    why: str


MUTANTS: list[Mutant] = []
