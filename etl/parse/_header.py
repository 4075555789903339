"""Routing header: splitting a whole telegram, DTG line, FM line, addressees."""

from __future__ import annotations

import re

from etl.parse._classif import LEVEL

_HEADERISH = re.compile(
    r"^[ \t]*(?:VZCZC|[ZOPR]{2}[ \t]+R[A-Z]{3,}|DE[ \t]+R[A-Z]{3,}|ZN[YR][ \t]|[ZOPR](?:[ \t]+[ZOPR])?[ \t]+\d{6}Z"
    r"|FM[ \t]|TO[ \t]|INFO[ \t]|PAGE[ \t]+\d|ACTION[ \t]|R[ \t]+\d{6}|P[ \t]+\d{6}|O[ \t]+\d{6})",
)
_BANNER_LINE = re.compile(r"^[ \t]*" + LEVEL, re.M | re.I)
_BLANK = re.compile(r"\n[ \t]*\n")

FM_LINE = re.compile(r"^[ \t]*FM[ \t]+(?P<fm>\S.*?)[ \t]*$", re.M)


def split_cable(text: str) -> tuple[str, str]:
    """Split a whole telegram into (routing header, body from the banner on).

    Text that does not start with routing lines has no header: ``("", text)``.
    """
    stripped = text.lstrip("\n")
    first = stripped.split("\n", 1)[0]
    if not _HEADERISH.match(first):
        return "", text
    m = _BANNER_LINE.search(stripped)
    if m:
        return stripped[: m.start()].rstrip("\n"), stripped[m.start():]
    blank = _BLANK.search(stripped)
    if blank:
        return stripped[: blank.start()], stripped[blank.end():]
    return stripped, ""
