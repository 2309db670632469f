"""Times of day and zones: parsing what users type, and the next local HH:MM in a zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from importlib import resources

import pytest

from cosmobot.schedule import localtime
from cosmobot.schedule.localtime import local_date, next_local, parse_time, parse_zone, to_local


@pytest.mark.parametrize(("given", "expected"), [
    ("09:00", dt.time(9, 0)), ("9:05", dt.time(9, 5)), ("23:59", dt.time(23, 59)),
    ("00:00", dt.time(0, 0)),
])
def test_times_of_day_are_read(given, expected):
    assert parse_time(given) == expected


@pytest.mark.parametrize("given", ["25:61", "24:00", "12:60", "tomorrow", "9", "9.30", "", "-1:00"])
def test_anything_else_is_not_a_time(given):
    with pytest.raises(ValueError):
        parse_time(given)


@pytest.mark.parametrize(("given", "expected"), [
    ("Europe/Moscow", "Europe/Moscow"), ("America/New_York", "America/New_York"),
    ("+3", "+03:00"), ("+05:30", "+05:30"), ("+0530", "+05:30"), ("-4", "-04:00"),
    ("UTC+3", "+03:00"), ("UTC", "UTC"), ("utc", "UTC"), ("+0", "UTC"), ("+14", "+14:00"),
    ("+05:59", "+05:59"), ("US/Eastern", "US/Eastern"),
])
def test_zones_are_read_and_normalised(given, expected):
    assert parse_zone(given) == expected


@pytest.mark.parametrize("given", [
    "tomorrow", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "+15", "-13",
    "+05:75", "+05:60", "-03:60", "Europe/", "", "zone.tab", "tzdata.zi", "Etc", "__init__",
])
def test_unknown_zones_are_refused(given):
    with pytest.raises(ValueError):
        parse_zone(given)


def test_next_time_is_today_if_still_ahead_else_tomorrow():
    now = dt.datetime(2026, 6, 1, 5, 0)  # 08:00 in Moscow
    assert next_local(dt.time(9), "Europe/Moscow", now) == dt.datetime(2026, 6, 1, 6, 0)
    assert next_local(dt.time(7), "Europe/Moscow", now) == dt.datetime(2026, 6, 2, 4, 0)
    assert next_local(dt.time(9), "+05:30", now) == dt.datetime(2026, 6, 2, 3, 30)
    assert next_local(dt.time(9), "-04:00", now) == dt.datetime(2026, 6, 1, 13, 0)


@pytest.mark.parametrize(("zone", "before_change"), [
    ("Europe/Berlin", dt.datetime(2026, 3, 27, 12)),  # forward on 29 March
    ("Europe/Berlin", dt.datetime(2026, 10, 23, 12)),  # back on 25 October
    ("America/New_York", dt.datetime(2026, 3, 6, 18)),  # forward on 8 March
    ("America/New_York", dt.datetime(2026, 10, 30, 18)),  # back on 1 November
])
def test_nine_o_clock_stays_nine_o_clock_across_a_clock_change(zone, before_change):
    instant, seen = before_change, []
    for _ in range(4):
        instant = next_local(dt.time(9), zone, instant)
        seen.append(to_local(instant, zone))
    assert [(at.hour, at.minute) for at in seen] == [(9, 0)] * 4
    assert [(at.date() - seen[0].date()).days for at in seen] == [0, 1, 2, 3]
    assert len({at.utcoffset() for at in seen}) == 2


def test_a_time_the_clocks_skip_comes_as_far_after_the_jump():
    # Berlin jumps from 02:00 to 03:00 on 29 March 2026: 02:30 that day is 03:30.
    instant = next_local(dt.time(2, 30), "Europe/Berlin", dt.datetime(2026, 3, 28, 12))
    assert to_local(instant, "Europe/Berlin").strftime("%d %H:%M") == "29 03:30"


def test_a_time_that_happens_twice_is_taken_the_first_time():
    # Berlin goes back from 03:00 to 02:00 on 25 October 2026: 02:30 happens twice.
    first = next_local(dt.time(2, 30), "Europe/Berlin", dt.datetime(2026, 10, 24, 12))
    assert first == dt.datetime(2026, 10, 25, 0, 30)  # 02:30 summer time
    assert next_local(dt.time(2, 30), "Europe/Berlin", first) == dt.datetime(2026, 10, 26, 1, 30)


def test_local_date_follows_the_zone():
    instant = dt.datetime(2026, 6, 1, 22, 0)
    assert local_date(instant, "UTC") == dt.date(2026, 6, 1)
    assert local_date(instant, "Asia/Tokyo") == dt.date(2026, 6, 2)
    assert local_date(dt.datetime(2026, 6, 1, 2, 0), "-04:00") == dt.date(2026, 5, 31)


def test_a_chat_west_of_utc_gets_this_evenings_time_not_tomorrows():
    # 20:00 on 1 June in UTC-5 is already 2 June in UTC.
    evening = dt.datetime(2026, 6, 2, 1, 0)
    assert next_local(dt.time(21, 0), "-05:00", evening) == dt.datetime(2026, 6, 2, 2, 0)
    assert next_local(dt.time(21, 0), "America/Chicago", evening) == dt.datetime(2026, 6, 2, 2, 0)
    assert next_local(dt.time(19, 0), "-05:00", evening) == dt.datetime(2026, 6, 3, 0, 0)


@pytest.fixture
def host_zones(tmp_path):
    """A host whose zone files are wrong (Berlin holds UTC's rules) and lack US/Eastern."""
    utc_rules = resources.files(localtime.TZDATA_PACKAGE).joinpath("UTC").read_bytes()
    (tmp_path / "Europe").mkdir()
    (tmp_path / "Europe" / "Berlin").write_bytes(utc_rules)
    zoneinfo.reset_tzpath([str(tmp_path)])
    zoneinfo.ZoneInfo.clear_cache()
    yield
    zoneinfo.reset_tzpath()
    zoneinfo.ZoneInfo.clear_cache()


def test_zones_come_from_the_tzdata_package_not_the_host(host_zones):
    assert zoneinfo.ZoneInfo("Europe/Berlin").utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(0)
    summer = dt.datetime(2026, 7, 1, 12, 0)
    assert to_local(summer, "Europe/Berlin").utcoffset() == dt.timedelta(hours=2)
    assert parse_zone("US/Eastern") == "US/Eastern"  # a legacy name some hosts drop
    assert to_local(summer, "US/Eastern").utcoffset() == dt.timedelta(hours=-4)


@pytest.mark.parametrize(("local_time", "zone", "unreadable"), [
    ("09:00", "Europe/Berlin", False), ("09:00", "+05:30", False), ("09:00", "UTC", False),
    ("09:00", "Mars/Olympus_Mons", True), ("09:00", "+05:75", True), ("9am", "UTC", True),
    ("09:00", "../../etc/localtime", True),
])
def test_a_stored_time_or_zone_that_cannot_be_read_is_told_apart(local_time, zone, unreadable):
    assert bool(localtime.unreadable(local_time, zone)) is unreadable
