"""Date-time groups (``091341Z NOV 07``) and 2-digit year resolution."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from etl._century import century as century  # the one two-digit-year rule (re-exported for _core)

MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}

# Precedence prosign(s), then DDHHMM + zone letter, month, year (2 or 4 digits).
DTG_LINE = re.compile(
    r"^[ \t]*(?P<prec>[ZOPR](?:[ \t]+[ZOPR])?)[ \t]+(?P<dtg>(?P<day>\d{2})[ \t]?(?P<hh>\d{2})(?P<mm>\d{2})"
    r"[ \t]?(?P<zone>[A-Z])[ \t]*(?P<mon>[A-Za-z]{3})[ \t]*(?P<yy>\d{2}|\d{4}))"
    # after the DTG: an operating signal (``ZFF4``, ``ZDK``) or a relay comment in parentheses
    # (``O 091547Z OCT 09 (CCY ADC1AECC MSI3311-632)``)
    r"(?:[ \t]+Z[A-Z]{2}\w*.*|[ \t]+\(.*\))?[ \t]*$",
    re.M,
)
DTG_LINE_FIRST = "OPRZ"
"""The letters a precedence + DTG line starts with (for :func:`etl.parse._lines.line_search`)."""
DTG_BARE = re.compile(
    # a line holding only a DTG, no precedence (partial extracts: "281413Z Jul 03")
    r"^[ \t]*(?P<dtg>(?P<day>\d{2})(?P<hh>\d{2})(?P<mm>\d{2})(?P<zone>[A-Z])[ \t]+(?P<mon>[A-Za-z]{3})[ \t]+"
    r"(?P<yy>\d{2}|\d{4}))[ \t]*$",
    re.M,
)
DTG_BARE_FIRST = "0-9"
DTG_ANY = re.compile(
    r"\b(?P<dtg>(?P<day>\d{2})[ \t]?(?P<hh>\d{2})(?P<mm>\d{2})(?P<zone>[A-Za-z])[ \t]*(?P<mon>[A-Za-z]{3})"
    r"[ \t]*(?P<yy>\d{2}|\d{4}))\b"
)


def zone_offset(letter: str) -> timedelta | None:
    """Military time-zone letter -> UTC offset (Z = UTC, A..M east skipping J, N..Y west)."""
    letter = letter.upper()
    if letter == "Z":
        return timedelta(0)
    if "A" <= letter <= "I":
        return timedelta(hours=ord(letter) - ord("A") + 1)
    if "K" <= letter <= "M":
        return timedelta(hours=ord(letter) - ord("K") + 10)
    if "N" <= letter <= "Y":
        return timedelta(hours=-(ord(letter) - ord("N") + 1))
    return None


def dtg_to_datetime(day: str, hh: str, mm: str, zone: str, mon: str, yy: str) -> datetime | None:
    """The UTC instant of a DTG, or None when it is not a real time."""
    month = MONTHS.get(mon.upper())
    offset = zone_offset(zone)
    if month is None or offset is None:
        return None
    try:
        local = datetime(century(int(yy)), month, int(day), int(hh), int(mm), tzinfo=timezone(offset))
    except ValueError:
        return None
    return local.astimezone(UTC)


_CREATED_ISO = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")
"""A publisher ``created`` value written year-month-day (``2010-02-24 08:48``)."""


_CREATED_US = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2}))?")
"""A publisher ``created`` value written month/day/year (``2/24/2010 8:48``)."""


def parse_created(value: str, precision: str | None) -> datetime | None:
    """Publisher ``created`` (``YYYY-MM-DD HH:MM``) as UTC; minutes dropped when only the hour is true."""
    m = _CREATED_ISO.match(value)
    if not m:
        m2 = _CREATED_US.match(value)
        if not m2:
            return None
        mo, d, y, h, mi = m2.groups()
    else:
        y, mo, d, h, mi = m.groups()
    hour = int(h) if h else 0
    minute = int(mi) if mi else 0
    if precision == "hour":
        minute = 0
    try:
        return datetime(int(y), int(mo), int(d), hour, minute, tzinfo=UTC)
    except ValueError:
        return None
