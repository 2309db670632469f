"""What a benchmark scenario gets (Context), what it returns (rows of figures), and its goals.

A scenario is a function of a Context returning Rows. Each Row sums up the samples of one
thing measured (median, p95, min, max), and may carry the ratio of its median to a reference
row's, measured side by side in the same run, and a goal on one of those figures.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakebotapi import FakeBotApi

# How each unit shows a figure kept in seconds (or, for MB, in bytes).
UNITS = {"s": 1.0, "ms": 1e3, "µs": 1e6, "MB": 1e-6, "B": 1.0, "rows": 1.0, "msg/s": 1.0,
         "images": 1.0, "stmts": 1.0}
# Wider than Telegram's 30 messages a second overall: a bot's pacing never holds a message
# sent this long after its last one (each goes to a chat of its own).
UNPACED_GAP_SECONDS = 0.05


@dataclass(frozen=True)
class Goal:
    """A bound on one figure of a row: its median, p95, max or ratio."""

    figure: str
    limit: float  # in seconds for times, plain for a ratio
    strict: bool = False  # "<" rather than "≤"
    minimum: bool = False  # a floor: "≥" (or ">") rather than "≤"

    def met(self, row: Row) -> bool:
        """Whether the row's figure is within the bound."""
        value = getattr(row, self.figure)
        if self.minimum:
            return value > self.limit if self.strict else value >= self.limit
        return value < self.limit if self.strict else value <= self.limit

    def describe(self, unit: str) -> str:
        """The goal as a reader sees it: "ratio ≤ 1.03", "p95 < 20 ms", "median ≥ 28 msg/s"."""
        bound = (">" if self.strict else "≥") if self.minimum else ("<" if self.strict else "≤")
        if self.figure == "ratio":
            return f"ratio {bound} {self.limit:g}"
        return f"{self.figure} {bound} {self.limit * UNITS[unit]:g} {unit}"


@dataclass
class Row:
    """One thing measured in a scenario: the summary of its samples, in seconds."""

    what: str
    unit: str
    samples: int
    median: float
    p95: float
    min: float
    max: float
    scenario: str = ""  # filled in by the runner
    reference: str | None = None  # the row `ratio` divides by
    ratio: float | None = None
    goal: Goal | None = None

    @property
    def met(self) -> bool | None:
        """Whether the row meets its goal; None without one."""
        return None if self.goal is None else self.goal.met(self)

    def against(self, reference: Row, goal: Goal | None = None) -> Row:
        """This row with the ratio of its median to the reference's (and a goal on it)."""
        self.reference, self.ratio = reference.what, self.median / reference.median
        self.goal = goal or self.goal
        return self


def timings(what: str, seconds: Sequence[float], unit: str = "ms",
            goal: Goal | None = None) -> Row:
    """Sum up samples (in seconds) as a row shown in unit."""
    if not seconds:
        raise ValueError(f"no samples for {what!r}")
    ordered = sorted(seconds)
    return Row(what, unit, len(ordered), statistics.median(ordered), percentile(ordered, 95),
               ordered[0], ordered[-1], goal=goal)


def percentile(ordered: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile of sorted samples."""
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Context:
    """What a scenario runs with: the fake Bot API, the network it models, sizes, databases."""

    api: FakeBotApi
    rtt: float  # seconds each answer of the fake is delayed by
    bandwidth: float | None  # bytes per second an upload arrives at
    quick: bool
    scratch: Path  # a folder of the scenario's own, removed after it
    postgres_url: str | None = None

    def size(self, full: int, quick: int) -> int:
        """The full run's number, or the quick run's."""
        return quick if self.quick else full

    @contextmanager
    def full_speed(self) -> Iterator[None]:
        """Set-up at the fake's full speed: no round trip, no upload bandwidth."""
        self.api.latency, self.api.upload_bandwidth = 0.0, None
        try:
            yield
        finally:
            self.api.latency, self.api.upload_bandwidth = self.rtt, self.bandwidth


@dataclass(frozen=True)
class Scenario:
    """One benchmark scenario: a name for --only, one line on what it measures, its body."""

    name: str
    title: str
    run: Callable[[Context], list[Row]]
    needs_postgres: bool = False


@dataclass
class Outcome:
    """What running one scenario gave: rows, or why it was skipped, or the error it raised."""

    scenario: Scenario
    rows: list[Row] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None
    seconds: float = 0.0
