"""This process, as the owner of what it holds in the database: marks, locks, claims."""

from __future__ import annotations

import os
import secrets

# Random as well as the pid: a restarted container may reuse the pid of the process it
# replaces, and a process on another host may have the same pid.
OWNER = f"{os.getpid()}-{secrets.token_hex(6)}"
