"""One mutant: a small bug in one module, and the tests that must notice it."""

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
