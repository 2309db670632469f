"""This process, as the owner of what it marks in the database (a send, an upload's claim)."""

from __future__ import annotations

import os
import secrets

# Random as well as the pid: a restarted container may reuse the pid of the process it
# replaces, and a process on another host may have the same pid.
OWNER = f"{os.getpid()}-{secrets.token_hex(6)}"
