"""Scenario: the start-up scan of the assets folder at 1,000, 10,000 and 100,000 images.

The bot scans at start without opening the images, then checks their headers in the
background while it answers: both are timed, and the memory the library holds after both.
Each scan runs in a fresh process (this checkout's code, its working directory the repo)
that has imported the bot first, so its resident memory grows by what the library keeps of
the images: the figure is VmRSS after the scan less before it. The images are small copies
of one valid JPEG, titled in a sidecar like the shipped ones (the scan reads the titles too).
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.benchmarks.generated import generate_collection
from tests.benchmarks.harness import Context, Goal, Row, timings
from tests.botrunner import REPO_ROOT

SIZES = ((1_000, 10_000, 100_000), (200, 1_000))  # full, quick
RUNS = {100_000: 1}  # scans of each size; 3 unless named here
SCAN_GOAL = {10_000: Goal("median", 0.5, strict=True)}
# Runs in the child: import the bot, scan, report seconds and the growth of VmRSS in bytes.
MEASURE = """
import json, sys, time
from pathlib import Path
import cosmobot.bot.app
from cosmobot.images.assets import AssetLibrary

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

before = rss()
started = time.perf_counter()
library = AssetLibrary(Path(sys.argv[1]))
count = library.scan(headers=False)
scanned = time.perf_counter()
library.check_headers()
checked = time.perf_counter()
print(json.dumps({"seconds": scanned - started, "headers": checked - scanned,
                  "rss": rss() - before, "count": len(library.cosmic_keys)}))
"""


def run(context: Context) -> list[Row]:
    rows = []
    for count in SIZES[1] if context.quick else SIZES[0]:
        root = generate_collection(context.scratch / f"assets-{count}", count)
        scans = [_scan(root, count) for _ in range(RUNS.get(count, 3))]
        rows.append(timings(f"start-up scan, {count:,} images", [s["seconds"] for s in scans],
                            "ms", SCAN_GOAL.get(count)))
        rows.append(timings(f"header check after start, in the background, {count:,} images",
                            [s["headers"] for s in scans], "ms"))
        rows.append(timings(f"resident memory the library adds, {count:,} images",
                            [s["rss"] for s in scans], "MB"))
    return rows


def _scan(root, count: int) -> dict:
    child = subprocess.run([sys.executable, "-c", MEASURE, str(root)], cwd=REPO_ROOT,
                           capture_output=True, text=True, check=True)
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    if figures["count"] != count:
        raise AssertionError(f"the scan found {figures['count']} images of {count}")
    return figures
