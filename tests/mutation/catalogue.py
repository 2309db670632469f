"""The mutants: one small bug each, in the code's own words, and the tests that must catch it.

They are grouped by layer in the modules named `*_mutants.py`; each names its module, the
text it replaces (found exactly once), the module's own tests, and the bug a user would meet.
"""

from __future__ import annotations

from tests.mutation import (
    bot_mutants,
    flight_mutants,
    schedule_mutants,
    send_mutants,
    several_bots_mutants,
    storage_mutants,
)
from tests.mutation.mutant import Mutant

MUTANTS: list[Mutant] = [
    *schedule_mutants.MUTANTS,
    *storage_mutants.MUTANTS,
    *send_mutants.MUTANTS,
    *bot_mutants.MUTANTS,
    *several_bots_mutants.MUTANTS,
    *flight_mutants.MUTANTS,
]

__all__ = ["MUTANTS", "Mutant"]
