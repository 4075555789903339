"""The E.O. line: executive order number and the declassification instruction (DECL)."""

from __future__ import annotations

import re
from datetime import date

from etl._century import century

EO_LINE = re.compile(
    r"^[ \t]*E\.?[ \t]?(?:O|0(?=\.))\.?(?=[ \t:\d])[ \t]*(?P<num>\d{5})?[ \t]*[:;.]?[ \t]*(?P<rest>.*)$", re.M | re.I
)
EO_ANY = re.compile(r"E\.[O0]\.[ \t]*(?P<num>\d{5})[ \t]*[:;]?[ \t]*(?P<rest>.*)$", re.M | re.I)
_TAGS_GLUE = re.compile(r"\s*(?:\b|(?<=\d))(?:T?AGS?\s*:|TAGS\b).*$", re.I)
_DECL_LINE = re.compile(r"^(?:DECL(?:ASSIFY(?:[ \t]+ON)?)?|DECLAS)\b[ \t]*[:;.]?[ \t]*(?P<v>.*)$", re.I)
_DOWNGRADE = re.compile(r"^DNG\b[ \t]*[:;]?[ \t]*(?P<v>.*)$", re.I)

# What a DECL value says (its kind in DECL_KINDS): a date written month/day/year or year-month-day, N/A,
# OADR (originating agency's determination required), an exemption X1..X8 or 25X/50X, a GDS schedule, a
# duration in years; DNG is the downgrade instruction beside it.
_MONTH_DAY_YEAR = re.compile(r"(?<!\d)(\d{1,2})[ \t]*[/.-][ \t]*(\d{1,2})[ \t]*[/.-][ \t]*(\d{4}|\d{2})(?!\d)")
_YEAR_MONTH_DAY = re.compile(r"(?<!\d)(\d{4})[ \t]*[/.-][ \t]*(\d{1,2})[ \t]*[/.-][ \t]*(\d{1,2})(?!\d)")
_NOT_APPLICABLE = re.compile(r"^N[ \t]*/?[ \t]*A\b", re.I)
_OADR = re.compile(r"\bOADR\b", re.I)
_EXEMPTION_X1_X8 = re.compile(r"^X[ \t]*([1-8])\b", re.I)
_EXEMPTION_25X = re.compile(r"\b(?:25|50)[ \t]*X[ \t]*\d", re.I)
_GDS = re.compile(r"\b[XN]?GDS\b", re.I)
_DURATION = re.compile(r"\bYEARS?\b", re.I)

DECL_KINDS = ("date", "n/a", "oadr", "x1-x8", "25x", "gds", "duration", "downgrade", "text", "none")


def resolve_year(yy: int, ref_year: int | None) -> int:
    """4-digit year of a 2-digit DECL year: the century putting it nearest ten years after the cable."""
    if yy >= 100:
        return yy
    if ref_year is None:
        return century(yy)
    target = ref_year + 10
    best = min((c + yy for c in (1900, 2000, 2100)), key=lambda y: abs(y - target))
    return best


def parse_date(text: str, ref_year: int | None) -> tuple[date | None, str | None]:
    """First calendar date in ``text`` (M/D/Y, M/D/YY, Y/M/D, M-D-YY). Returns (date, problem)."""
    m = _YEAR_MONTH_DAY.search(text)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _MONTH_DAY_YEAR.search(text)
        if not m:
            return None, None
        mo, d, yraw = int(m.group(1)), int(m.group(2)), m.group(3)
        y = resolve_year(int(yraw), ref_year)
    try:
        return date(y, mo, d), None
    except ValueError:
        return None, f"decl: impossible date {m.group(0)!r}"


def eo_parts(line: str, m: re.Match[str] | None = None) -> tuple[str | None, str]:
    """(E.O. number, rest after it) of an E.O. line (TAGS glued on the same line cut off). ``m``: the caller's
    EO_LINE match of the line as it stands in its text (:class:`etl.parse._body.TopLines`), whose groups are
    those of a match of ``line`` (its match stripped) but for blanks at the end of ``rest``, stripped here."""
    if m is None:
        m = EO_LINE.match(line) or EO_ANY.search(line)
        if not m:
            return None, ""
    rest = m.group("rest")
    if not rest.isascii() or "ag" in rest.lower():  # every _TAGS_GLUE match holds "ag" (ASCII text: in any case)
        rest = _TAGS_GLUE.sub("", rest)
    rest = rest.strip()
    return m.group("num"), rest


def decl_value(rest: str) -> str | None:
    """The declassification instruction as written (after ``DECL:``; ``N/A``; ``DNG: CO 01/26/2021``)."""
    rest = rest.strip()
    if not rest:
        return None
    m = _DECL_LINE.match(rest)
    if m:
        return m.group("v").strip() or None
    return rest


_DECLASSIFIED = re.compile(r"DECLASSIFIED", re.I)
"""A release stamp in the DECL value (``DECLASSIFIED/RELEASED``)."""


def classify_decl(raw: str | None, ref_year: int | None) -> tuple[str, date | None, str | None]:
    """(decl_kind, decl_date, problem) for a DECL value as written."""
    if raw is None or not raw.strip():
        return "none", None, None
    v = raw.strip()
    if _DOWNGRADE.match(v):
        d, problem = parse_date(v, ref_year)
        return "downgrade", d, problem
    if _NOT_APPLICABLE.match(v):
        return "n/a", None, None
    d, problem = parse_date(v, ref_year)
    if d is not None or problem is not None:
        if _DECLASSIFIED.search(v):
            return "text", None, None
        return "date", d, problem
    if _OADR.search(v):
        return "oadr", None, None
    if _EXEMPTION_25X.search(v):
        return "25x", None, None
    if _EXEMPTION_X1_X8.match(v):
        return "x1-x8", None, None
    if _GDS.search(v):
        return "gds", None, None
    if _DURATION.search(v):
        return "duration", None, None
    return "text", None, None
