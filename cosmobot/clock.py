"""The one clock cosmobot reads: every part asks it for the time, so tests move time for all.

Instants are naive UTC datetimes, as both databases store them.
"""

from __future__ import annotations

import datetime as dt
import time

_offset = dt.timedelta(0)


def utcnow() -> dt.datetime:
    """Return the current UTC time as a naive datetime."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) + _offset


def set_offset(offset: dt.timedelta) -> None:
    """Run the clock `offset` ahead of the system clock (behind, if negative), everywhere."""
    global _offset
    _offset = offset


def wall_seconds() -> float:
    """Return seconds since the epoch on the system clock, never offset.

    For what several processes time together (leases, shared pacing): they share the system
    clock, not one process's offset.
    """
    return time.time()
