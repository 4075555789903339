"""TAGS line: split into clean tags (space, comma or mixed separators; person tags in parentheses)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\((?P<paren>[^)]*)\)?|(?P<word>[^\s,;()]+)")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9&\-]*$")
_DROP = frozenset({"SIPDIS", "TAGS", "TAG", "AND", "NOFORN"})


def split_tags(raw: str) -> list[str]:
    """Clean tags of a TAGS value, in order, without duplicates.

    ``PGOV, KPKO UN SU RS`` -> 5 tags (the peer gives 3). ``OVIP (CLINTON, HILLARY)`` ->
    ``OVIP``, ``CLINTON, HILLARY``.
    """
    out: list[str] = []
    seen: set[str] = set()
    for m in _TOKEN.finditer(raw):
        paren = m.group("paren")
        if paren is not None:
            tag = " ".join(paren.replace(" ,", ",").split()).strip(" ,.").upper()
        else:
            tag = m.group("word").strip(".:-").upper()
        tag = tag.replace("(", "").replace(")", "").strip(" ,.:-")
        if not tag or not any(c.isalnum() for c in tag) or tag in _DROP or tag in seen:
            continue
        seen.add(tag)
        out.append(tag)
    return out
