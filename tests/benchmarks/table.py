"""The benchmark run's results: one table for a person, the same as JSON for a machine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.benchmarks.harness import UNITS, Outcome, Row

COLUMNS = ("scenario", "what", "median", "p95", "min", "max", "ratio", "goal")
# Columns whose figures line up on the right.
NUMERIC = frozenset({"median", "p95", "min", "max", "ratio"})


def render(outcomes: Sequence[Outcome], settings: str) -> str:
    """The table of every row, then a line per skipped or failed scenario."""
    cells = [dict(zip(COLUMNS, COLUMNS))]
    referenced = {(row.scenario, row.reference) for o in outcomes for row in o.rows}
    for outcome in outcomes:
        cells += [_cells(row, (row.scenario, row.what) in referenced) for row in outcome.rows]
    widths = {name: max(len(line[name]) for line in cells) for name in COLUMNS}
    lines = [settings, ""]
    lines += ["  ".join(_aligned(line[name], widths[name], name) for name in COLUMNS).rstrip()
              for line in cells]
    notes = [_note(outcome) for outcome in outcomes if outcome.skipped or outcome.error]
    return "\n".join(lines + ([""] + notes if notes else []))


def as_json(outcomes: Sequence[Outcome], settings: dict[str, Any]) -> dict[str, Any]:
    """Everything the table shows, figures in each row's unit."""
    return {"settings": settings, "scenarios": [_scenario_json(o) for o in outcomes]}


def _scenario_json(outcome: Outcome) -> dict[str, Any]:
    status = "error" if outcome.error else "skipped" if outcome.skipped else "ok"
    return {"name": outcome.scenario.name, "title": outcome.scenario.title, "status": status,
            "reason": outcome.skipped or outcome.error, "seconds": round(outcome.seconds, 1),
            "rows": [_row_json(row) for row in outcome.rows]}


def _row_json(row: Row) -> dict[str, Any]:
    scale = UNITS[row.unit]
    figures = {name: getattr(row, name) * scale for name in ("median", "p95", "min", "max")}
    return {"what": row.what, "unit": row.unit, "samples": row.samples, **figures,
            "ratio": row.ratio, "reference": row.reference,
            "goal": row.goal.describe(row.unit) if row.goal else None, "met": row.met}


def _cells(row: Row, is_reference: bool) -> dict[str, str]:
    scale = UNITS[row.unit]
    cells = {"scenario": row.scenario, "what": row.what}
    for name in ("median", "p95", "min", "max"):
        cells[name] = f"{_number(getattr(row, name) * scale)} {row.unit}"
    cells["ratio"] = "ref" if is_reference else "" if row.ratio is None else f"{row.ratio:.3f}"
    cells["goal"] = "" if row.goal is None else (
        f"{row.goal.describe(row.unit)}: {'met' if row.met else 'MISSED'}")
    return cells


def _number(value: float) -> str:
    """Three significant figures or more, never an exponent."""
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _aligned(text: str, width: int, column: str) -> str:
    return text.rjust(width) if column in NUMERIC else text.ljust(width)


def _note(outcome: Outcome) -> str:
    if outcome.error:
        last = outcome.error.strip().splitlines()[-1]
        return f"{outcome.scenario.name}: ERROR {last}"
    return f"{outcome.scenario.name}: skipped, {outcome.skipped}"
