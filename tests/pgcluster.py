"""A PostgreSQL cluster of the tests' own that they may stop and start: a database outage.

`.ci/run` makes it (`pg_createcluster 15 outage -p 5433`) and exports its URL in
COSMOBOT_TEST_OUTAGE_URL and its version and name in COSMOBOT_TEST_OUTAGE_CLUSTER ("15 outage").
"""

from __future__ import annotations

import os
import subprocess
import time

import psycopg2

OUTAGE_URL = os.environ.get("COSMOBOT_TEST_OUTAGE_URL")
OUTAGE_CLUSTER = os.environ.get("COSMOBOT_TEST_OUTAGE_CLUSTER")
START_SECONDS = 60
# The pids holding a leader lock (class, key) in the connection's own database: advisory locks
# of other databases (another test run, another worker) share the server's pg_locks.
LEADER_LOCK_HOLDERS = ("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND classid = %s AND objid = %s AND objsubid = 2 AND database = "
                       "(SELECT oid FROM pg_database WHERE datname = current_database())")


class Cluster:
    """One PostgreSQL cluster, stopped and started with pg_ctlcluster."""

    def __init__(self, spec: str, url: str) -> None:
        self.version, self.name = spec.split()
        self.url = url

    def stop(self) -> None:
        """Stop the server at once (`-m fast`): every session ends, as in a restart."""
        self._ctl("stop", "-m", "fast")

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        if not self.is_up():
            self._ctl("start")
        deadline = time.monotonic() + START_SECONDS
        while not self.is_up():
            if time.monotonic() > deadline:
                raise AssertionError(f"cluster {self.version} {self.name} did not start")
            time.sleep(0.1)

    def is_up(self) -> bool:
        """Whether the server takes connections."""
        try:
            psycopg2.connect(self.url, connect_timeout=2).close()
        except psycopg2.OperationalError:
            return False
        return True

    def _ctl(self, *action: str) -> None:
        # As root pg_ctlcluster runs the server as its owner; anyone else asks sudo to.
        run_as = [] if os.geteuid() == 0 else ["sudo", "-n", "-u", "postgres"]
        subprocess.run([*run_as, "pg_ctlcluster", "--skip-systemctl-redirect", self.version,
                        self.name, *action], check=True, capture_output=True, timeout=60)
