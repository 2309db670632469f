"""Run the mutation check: `python -m tests.mutation [--only NAME ...] [--list]`.

Each mutant replaces one piece of text in one module (it must occur exactly once) and runs
the tests named for it in a copy of the checkout; the mutant is caught when they fail. The
tests first run once unmutated: a failure there is reported and ends the check, since a
mutant could not be told apart from it. A caught mutant's line names the test that failed
first, so that a catch by a flaky test can be told from a real one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.mutation.catalogue import MUTANTS, Mutant

REPO_ROOT = Path(__file__).resolve().parents[2]
# A hang the mutant causes is ended by pytest-timeout inside this bound, and counts as caught.
RUN_TIMEOUT_SECONDS = 900
CAUGHT, SURVIVED, STALE = "caught", "SURVIVED", "stale"


def copy_checkout(target: Path) -> None:
    """Copy the files git knows of (committed or not) into target."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT, check=True, capture_output=True, text=True,
    ).stdout.splitlines()
    for name in listed:
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run_tests(checkout: Path, tests: tuple[str, ...]) -> tuple[int, str]:
    """Run the tests in the checkout; return pytest's exit status and what it printed."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return 1, f"no result after {RUN_TIMEOUT_SECONDS} s"
    return done.returncode, done.stdout + done.stderr


def first_failure(output: str) -> str:
    """The test pytest's summary names first as failed (so a flaky catch can be told apart)."""
    for line in output.splitlines():
        # "ERROR tests/...", not a captured log line at ERROR ("ERROR    aiohttp.server:...").
        if line.startswith(("FAILED tests/", "ERROR tests/")):
            return line.split(" - ")[0]
    return output.strip().splitlines()[-1] if output.strip() else "no output"


def try_mutant(checkout: Path, mutant: Mutant) -> tuple[str, str]:
    """Put the mutant in, run its tests, take it out; return what became of it, and by what."""
    path = checkout / mutant.path
    original = path.read_text()
    if original.count(mutant.before) != 1:
        return STALE, ""
    path.write_text(original.replace(mutant.before, mutant.after))
    try:
        status, output = run_tests(checkout, mutant.tests)
    finally:
        path.write_text(original)
    return (SURVIVED, "") if status == 0 else (CAUGHT, first_failure(output))


def main(argv: list[str] | None = None) -> int:
    """Run the chosen mutants and print one line each, then the score."""
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    if args.list:
        for mutant in chosen:
            print(f"{mutant.name:40} {mutant.path}: {mutant.why}")
        return 0
    with tempfile.TemporaryDirectory(prefix="cosmobot-mutation-") as scratch:
        checkout = Path(scratch)
        copy_checkout(checkout)
        baseline = sorted({test for mutant in chosen for test in mutant.tests})
        status, output = run_tests(checkout, tuple(baseline))
        if status != 0:
            print(f"The tests fail without any mutant: {' '.join(baseline)}\n"
                  + "\n".join(output.splitlines()[-30:]), file=sys.stderr)
            return 2
        results = []
        for mutant in chosen:
            started = time.monotonic()
            outcome, failed = try_mutant(checkout, mutant)
            results.append(outcome)
            print(f"{outcome:9} {time.monotonic() - started:6.1f}s  {mutant.name:40} {mutant.why}"
                  + (f"  [{failed}]" if failed else ""), flush=True)
    caught, stale = results.count(CAUGHT), results.count(STALE)
    print(f"\n{caught} of {len(results) - stale} mutants caught"
          + (f"; {stale} stale (their text is no longer in the code)" if stale else ""))
    return 0 if SURVIVED not in results and not stale else 1


if __name__ == "__main__":
    sys.exit(main())
