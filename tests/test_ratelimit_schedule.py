"""The overall schedule of the rate limiter, on a clock the test moves (no event loop)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cosmobot.botapi import ratelimit
from cosmobot.botapi.ratelimit import OVERALL_WINDOW_COUNT, LaneRateLimiter

INTERVAL = 1.0  # one unit of the test's clock


@pytest.fixture
def clock(monkeypatch):
    now = SimpleNamespace(value=100.0)
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=lambda: now.value))
    return now


def take_at(limiter: LaneRateLimiter, clock, moment: float) -> None:
    clock.value = moment
    assert limiter._slot_free(urgent=False), f"no slot at {moment}"
    limiter._take_next_slot()


def free_at(limiter: LaneRateLimiter, clock, moment: float) -> bool:
    clock.value = moment
    return limiter._slot_free(urgent=False)


def test_a_message_that_left_late_does_not_push_the_next_one_back(clock):
    limiter = LaneRateLimiter(INTERVAL)
    take_at(limiter, clock, 100.0)
    take_at(limiter, clock, 101.3)  # woken 0.3 late
    assert not free_at(limiter, clock, 101.7)  # never closer than half an interval
    assert free_at(limiter, clock, 102.0)  # the schedule's moment, not 102.3


def test_the_window_holds_back_a_message_its_schedule_would_let_go(clock):
    limiter = LaneRateLimiter(INTERVAL)
    take_at(limiter, clock, 99.0)
    take_at(limiter, clock, 100.45)  # late, and the schedule's next moment stays at 101
    for moment in range(101, 101 + OVERALL_WINDOW_COUNT - 1):
        take_at(limiter, clock, float(moment))  # on time, up to 129
    # The schedule says 130, but that would be the window's 31st message in 29.55 intervals.
    assert not free_at(limiter, clock, 130.0)
    assert free_at(limiter, clock, 100.45 + OVERALL_WINDOW_COUNT * INTERVAL)


def test_after_a_quiet_while_the_schedule_starts_again_from_now(clock):
    limiter = LaneRateLimiter(INTERVAL)
    take_at(limiter, clock, 100.0)
    take_at(limiter, clock, 500.0)
    assert not free_at(limiter, clock, 500.4)
    take_at(limiter, clock, 500.5)
    assert not free_at(limiter, clock, 501.4)  # back on an interval's spacing
    assert free_at(limiter, clock, 501.5)
