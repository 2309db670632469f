"""Whether the database can be reached: an outage is logged once as it starts and once as it ends.

Every database user reports here (the database threads, and connections of their own such as
shared pacing's), so an outage makes two lines in the log, not one per query; the others ask
`is_unreachable(error)` to keep their own failures out of the log meanwhile.
"""

from __future__ import annotations

import threading
import time

import peewee
from loguru import logger

# What a database says when it cannot be reached at all (server down or restarting, connection
# lost), as against a lock held too long or a query it refuses.
UNREACHABLE_MARKERS = (
    "connection", "could not connect", "server closed", "terminating", "shutting down",
    "starting up", "recovery mode", "timeout expired", "could not receive", "could not send",
    "ssl syscall", "unable to open database", "disk i/o error",
)


def is_unreachable(error: BaseException) -> bool:
    """Whether error says the database cannot be reached (not a lock, not a bad query)."""
    if not isinstance(error, (peewee.OperationalError, peewee.InterfaceError)):
        return False
    text = str(error).lower()
    return any(marker in text for marker in UNREACHABLE_MARKERS)


class _Outage:
    """Whether the database is unreachable, and since when."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.since: float | None = None

    def failed(self, error: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        logger.warning("Database unreachable ({}); cached images are still sent, and what is "
                       "to be written waits until it is back", _first_line(error))

    def succeeded(self) -> None:
        if self.since is None:  # the usual case, without taking the lock
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            logger.info("Database reachable again after {:.0f} s", time.monotonic() - since)


_outage = _Outage()


def note_failure(error: BaseException) -> None:
    """Report a failed database call; one that says the database is unreachable starts an outage."""
    if is_unreachable(error):
        _outage.failed(error)


def note_success() -> None:
    """Report a database call that worked: it ends an outage."""
    _outage.succeeded()


def forget() -> None:
    """Forget an outage under way, unreported (a test's database, closed while it was away)."""
    _outage.since = None


def is_down() -> bool:
    """Whether the database was unreachable at the last call that reached it, or tried to."""
    return _outage.since is not None


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
