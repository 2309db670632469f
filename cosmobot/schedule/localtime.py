"""Local time of day and time zones for the daily image: parsing, and the next local HH:MM.

Pure functions, no I/O. Instants are naive UTC datetimes, as the database stores them.

Daylight saving: a chat's next image is computed from its local time of day in its zone
each time, never by adding 24 hours, so 09:00 stays 09:00 local across a clock change. On the
day a local time does not exist (clocks jump 02:00 -> 03:00 and the chat asked for 02:30) the
image comes as far after the jump as the time was after 02:00 (03:30): zoneinfo reads such a
time with the offset from before the change. A local time that happens twice (clocks go back)
is taken the first time, so the image still comes once.

Zones come from the pinned `tzdata` package's files, never the host's: a host upgrade that
drops legacy names (`US/Eastern`) changes nothing. They are read without touching the
process's zoneinfo search path, which belongs to whoever embeds cosmobot.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from importlib import resources
from zoneinfo import ZoneInfo

UTC = "UTC"
TIME_PATTERN = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
# "+3", "-4", "+05:30", "+0530", optionally after "UTC" or "GMT".
OFFSET_PATTERN = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# An IANA name is letters, digits and _ + - in parts joined by "/"; never a file path.
ZONE_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
# Every real zone lies between UTC-12:00 and UTC+14:00.
MIN_OFFSET, MAX_OFFSET = dt.timedelta(hours=-12), dt.timedelta(hours=14)
UTC_NAMES = ("UTC", "GMT", "Z", "ETC/UTC")
# Where the IANA zone files live: the tzdata package pinned in requirements.txt.
TZDATA_PACKAGE = "tzdata.zoneinfo"


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
    iana_zone(text)
    return text


def _offset_name(sign: str, hours: int, minutes: int) -> str:
    offset = _offset(sign, hours, minutes)
    if not offset:
        return UTC
    return f"{sign}{hours:02}:{minutes:02}"


def _offset(sign: str, hours: int, minutes: int) -> dt.timedelta:
    offset = dt.timedelta(hours=hours, minutes=minutes) * (-1 if sign == "-" else 1)
    if minutes >= 60 or not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise ValueError(f"no time zone has the offset {sign}{hours}:{minutes:02}")
    return offset


@functools.lru_cache(maxsize=None)
def iana_zone(name: str) -> ZoneInfo:
    """Return the IANA zone `name` from the tzdata package; ValueError if it has none."""
    if not ZONE_NAME_PATTERN.match(name):
        raise ValueError(f"not a time zone: {name!r}")
    try:
        with resources.files(TZDATA_PACKAGE).joinpath(*name.split("/")).open("rb") as data:
            return ZoneInfo.from_file(data, key=name)
    except (OSError, ValueError):  # no such file, a folder, or not a zone file
        raise ValueError(f"unknown time zone: {name!r}") from None


def zone_info(name: str) -> dt.tzinfo:
    """Return the tzinfo for a name parse_zone returned; ValueError if it cannot be loaded."""
    if name == UTC:
        return dt.timezone.utc
    match = OFFSET_PATTERN.match(name)
    if match:
        return dt.timezone(_offset(match[1], int(match[2]), int(match[3] or 0)))
    return iana_zone(name)


def unreadable(local_time: str, zone: str) -> str | None:
    """Return why a stored time of day and zone cannot be used, or None if they can."""
    try:
        parse_time(local_time)
    except ValueError as error:
        return str(error)
    return unreadable_zone(zone)


def unreadable_zone(zone: str) -> str | None:
    """Return why a stored zone cannot be used, or None if it can."""
    try:
        zone_info(zone)
    except ValueError as error:
        return str(error)
    return None


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
