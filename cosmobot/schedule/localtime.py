"""Local time of day and time zones for the daily image: parsing, and the next local HH:MM.

Pure functions, no I/O. Instants are naive UTC datetimes, as the database stores them.

Daylight saving: a chat's next image is computed from its local time of day in its zone
each time, never by adding 24 hours, so 09:00 stays 09:00 local across a clock change. On the
day a local time does not exist (clocks jump 02:00 -> 03:00 and the chat asked for 02:30) the
image comes as far after the jump as the time was after 02:00 (03:30): zoneinfo reads such a
time with the offset from before the change. A local time that happens twice (clocks go back)
is taken the first time, so the image still comes once.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = "UTC"
TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# "+3", "-4", "+05:30", "+0530", optionally after "UTC" or "GMT".
OFFSET_PATTERN = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# An IANA name is letters, digits and _ + - in parts joined by "/"; never a file path.
ZONE_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
# Every real zone lies between UTC-12:00 and UTC+14:00.
MIN_OFFSET, MAX_OFFSET = dt.timedelta(hours=-12), dt.timedelta(hours=14)
UTC_NAMES = ("UTC", "GMT", "Z", "ETC/UTC")


def parse_time(text: str) -> dt.time:
    """Return the time of day in "HH:MM" (24-hour); ValueError for anything else."""
    match = TIME_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"not a time of day: {text!r}")
    return dt.time(int(match[1]), int(match[2]))


def format_time(value: dt.time) -> str:
    """Return a time of day as "HH:MM"."""
    return value.strftime("%H:%M")


def parse_zone(text: str) -> str:
    """Return the zone's normalised name: an IANA name, "UTC" or an offset like "+05:30".

    ValueError for an unknown zone or an offset no place on Earth uses.
    """
    text = text.strip()
    if text.upper() in UTC_NAMES:
        return UTC
    match = OFFSET_PATTERN.match(text)
    if match:
        return _offset_name(match[1], int(match[2]), int(match[3] or 0))
    if not ZONE_NAME_PATTERN.match(text):
        raise ValueError(f"not a time zone: {text!r}")
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone: {text!r}") from None
    return text


def _offset_name(sign: str, hours: int, minutes: int) -> str:
    offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    if minutes >= 60 or not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise ValueError(f"no time zone has the offset {sign}{hours}:{minutes:02}")
    if not offset:
        return UTC
    return f"{sign}{hours:02}:{minutes:02}"


def zone_info(name: str) -> dt.tzinfo:
    """Return the tzinfo for a name parse_zone returned."""
    if name == UTC:
        return dt.timezone.utc
    match = OFFSET_PATTERN.match(name)
    if match:
        offset = dt.timedelta(hours=int(match[2]), minutes=int(match[3] or 0))
        return dt.timezone(-offset if match[1] == "-" else offset)
    return ZoneInfo(name)


def to_local(instant: dt.datetime, zone: str) -> dt.datetime:
    """Return a naive UTC instant as an aware datetime in zone."""
    return instant.replace(tzinfo=dt.timezone.utc).astimezone(zone_info(zone))


def local_date(instant: dt.datetime, zone: str) -> dt.date:
    """Return the date in zone at a naive UTC instant."""
    return to_local(instant, zone).date()


def instant_of(day: dt.date, at: dt.time, zone: str) -> dt.datetime:
    """Return the naive UTC instant of local time `at` on day in zone (see the module note)."""
    local = dt.datetime.combine(day, at, tzinfo=zone_info(zone))  # fold=0: the first one
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def next_local(at: dt.time, zone: str, after: dt.datetime) -> dt.datetime:
    """Return the first naive UTC instant after `after` when it is `at` o'clock in zone."""
    day = local_date(after, zone)
    # Today's time, else tomorrow's; a day more in case a clock change ate the difference.
    for offset in range(3):
        candidate = instant_of(day + dt.timedelta(days=offset), at, zone)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a local time recurs every day")
