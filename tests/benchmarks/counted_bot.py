"""`python -m cosmobot`, counting every database statement and reporting its peak memory.

Usage (as a benchmark's child process, configured by COSMOBOT_* variables as `run` is):
    python -m tests.benchmarks.counted_bot READINGS_FILE [MESSAGES_PER_SECOND]

Every statement peewee sends (queries, BEGIN, COMMIT, ROLLBACK, on every connection and thread)
is counted. A thread appends a reading to READINGS_FILE every READING_SECONDS and at exit: the
monotonic time (shared by every process on the host), the statements so far, the process's peak
resident memory (VmHWM) and its CPU time, so that a benchmark can take the figures over any
stretch of the run. MESSAGES_PER_SECOND paces the bot to a server whose overall limit was
raised to that (as paid broadcasts raise Telegram's); per-chat limits stay Telegram's.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from pathlib import Path

import peewee

READING_SECONDS = 0.2
_lock = threading.Lock()  # every database thread counts here
_counted = 0


def _counting(method):
    def counted(*args, **kwargs):
        global _counted
        with _lock:
            _counted += 1
        return method(*args, **kwargs)
    return counted


def count_statements() -> None:
    """Count each statement peewee sends, however it sends it."""
    for cls, name in ((peewee.Database, "execute_sql"), (peewee.Database, "begin"),
                      (peewee.Database, "commit"), (peewee.Database, "rollback"),
                      (peewee.SqliteDatabase, "begin"), (peewee.PostgresqlDatabase, "begin")):
        setattr(cls, name, _counting(cls.__dict__[name]))


def peak_memory_bytes() -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def write_readings(path: Path, stop: threading.Event) -> None:
    """Append a reading every READING_SECONDS until stop is set, and one more then."""
    with path.open("a") as readings:
        while True:
            readings.write(_reading())
            readings.flush()
            if stop.wait(READING_SECONDS):
                readings.write(_reading())
                return


def _reading() -> str:
    return f"{time.monotonic()} {_counted} {peak_memory_bytes()} {time.process_time()}\n"


def read_readings(path: Path) -> list[tuple[float, int, int, float]]:
    """The readings a counted bot wrote: (monotonic time, statements, peak bytes, CPU s)."""
    lines = path.read_text().splitlines() if path.exists() else []
    return [(float(at), int(count), int(peak), float(cpu))
            for at, count, peak, cpu in (line.split() for line in lines if line.count(" ") == 3)]


def pace_at(messages_per_second: float) -> None:
    """Pace the bot's messages overall at messages_per_second (a raised server limit)."""
    from cosmobot.botapi import ratelimit

    interval = (1.0 + ratelimit.JITTER_ALLOWANCE_SECONDS) / messages_per_second  # as for 30
    ratelimit.LaneRateLimiter.__init__.__defaults__ = (
        interval, *ratelimit.LaneRateLimiter.__init__.__defaults__[1:])


def main() -> int:
    """Run cosmobot's command line with the statements counted and the readings written."""
    readings = Path(sys.argv[1])
    if len(sys.argv) > 2:
        pace_at(float(sys.argv[2]))
    count_statements()
    stop = threading.Event()
    writer = threading.Thread(target=write_readings, args=(readings, stop), daemon=True)
    writer.start()

    def last_reading() -> None:
        stop.set()
        writer.join(timeout=5)

    atexit.register(last_reading)
    from cosmobot.cli import main as cosmobot_main

    return cosmobot_main(["run"])


if __name__ == "__main__":
    sys.exit(main())
