"""`python -m tests.benchmarks`: every scenario against the fake Bot API, in one table.

Each scenario gets a fake Bot API of its own on 127.0.0.1, answering after the round trip
given (--rtt) and taking uploads at the bandwidth given (--bandwidth), and a scratch folder.
A scenario that raises is reported and makes the exit status 1; timings never do.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from cosmobot import sender
from cosmobot.logs import configure_logging
from cosmobot.storage.database import close_database
from tests.benchmarks import table
from tests.benchmarks.harness import Context, Outcome, Scenario
from tests.benchmarks.scenarios import SCENARIOS
from tests.factories import OTHER_TOKEN, TOKEN
from tests.fakebotapi import FakeBotApi

DEFAULT_RTT_MS = 50.0
DEFAULT_BANDWIDTH = 2_000_000  # bytes per second
POSTGRES_VARIABLE = "COSMOBOT_TEST_POSTGRES_URL"
NO_POSTGRES = f"no PostgreSQL: give --postgres URL or set {POSTGRES_VARIABLE}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, checked: --only names known scenarios."""
    names = [scenario.name for scenario in SCENARIOS]
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Every benchmark scenario against the fake Bot API, in one table.",
        epilog="scenarios:\n" + "\n".join(f"  {s.name:22} {s.title}" for s in SCENARIOS))
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds and smaller sizes, the same code paths: under a minute")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=names,
                        help="run these scenarios only")
    parser.add_argument("--rtt", type=float, default=DEFAULT_RTT_MS, metavar="MS",
                        help=f"round trip of every call, in ms (default {DEFAULT_RTT_MS:g})")
    parser.add_argument("--bandwidth", type=float, default=DEFAULT_BANDWIDTH,
                        metavar="BYTES_PER_S", help="upload bandwidth; 0: unlimited "
                        f"(default {DEFAULT_BANDWIDTH:,})")
    parser.add_argument("--postgres", metavar="URL", default=os.environ.get(POSTGRES_VARIABLE),
                        help=f"an empty PostgreSQL database whose tables the run may drop "
                        f"(default: ${POSTGRES_VARIABLE})")
    args = parser.parse_args(argv)
    if args.rtt < 0 or args.bandwidth < 0:
        parser.error("--rtt and --bandwidth cannot be negative")
    return args


def run_scenario(scenario: Scenario, args: argparse.Namespace) -> Outcome:
    """Run one scenario on a fake Bot API and in a scratch folder of its own."""
    outcome = Outcome(scenario)
    if scenario.needs_postgres and not args.postgres:
        outcome.skipped = NO_POSTGRES
        return outcome
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="cosmobot-bench-") as scratch, \
                FakeBotApi([TOKEN, OTHER_TOKEN]) as api:
            rtt, bandwidth = args.rtt / 1000, args.bandwidth or None
            api.latency, api.upload_bandwidth = rtt, bandwidth
            context = Context(api, rtt, bandwidth, args.quick, Path(scratch), args.postgres)
            outcome.rows = scenario.run(context)
    except Exception:  # reported with the rest; the run goes on with the next scenario
        outcome.error = traceback.format_exc()
        print(f"{scenario.name} failed:\n{outcome.error}", file=sys.stderr)
    finally:
        close_database()
        sender.configure(None)
    for row in outcome.rows:
        row.scenario = scenario.name
    outcome.seconds = time.monotonic() - started
    return outcome


def settings_of(args: argparse.Namespace) -> dict:
    """What the figures depend on, for the table's head and the JSON."""
    return {"rtt_ms": args.rtt, "upload_bandwidth": args.bandwidth or None,
            "run": "quick" if args.quick else "full", "cpus": os.cpu_count(),
            "postgres": bool(args.postgres)}


def headline(args: argparse.Namespace, seconds: float) -> str:
    """One line on how the figures were made."""
    bandwidth = f"{args.bandwidth / 1e6:g} MB/s" if args.bandwidth else "unlimited"
    return (f"fake Bot API on 127.0.0.1: round trip {args.rtt:g} ms, uploads at {bandwidth}; "
            f"{'quick' if args.quick else 'full'} run on {os.cpu_count()} CPUs "
            f"in {seconds:.0f} s")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenarios, print the results; 1 if a scenario failed, else 0."""
    args = parse_args(argv)
    configure_logging("WARNING")  # per-send INFO lines would only add noise to the timings
    started = time.monotonic()
    outcomes = []
    for scenario in SCENARIOS:
        if args.only and scenario.name not in args.only:
            continue
        print(f"running {scenario.name}: {scenario.title}", file=sys.stderr, flush=True)
        outcomes.append(run_scenario(scenario, args))
    if args.json:
        print(json.dumps(table.as_json(outcomes, settings_of(args)), indent=2,
                         ensure_ascii=False))
    else:
        print(table.render(outcomes, headline(args, time.monotonic() - started)))
    return 1 if any(outcome.error for outcome in outcomes) else 0
