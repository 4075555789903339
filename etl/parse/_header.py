"""Routing header fields: DTG line, FM line, addressees (the header is found by :mod:`etl.parse._layout`)."""

from __future__ import annotations

import re
from functools import lru_cache

from etl.parse._dtg import DTG_BARE, DTG_LINE
from etl.parse._lines import line_heads, line_search

FM_LINE = re.compile(r"^[ \t]*FM[ \t]+(?P<fm>\S.*?)[ \t]*$", re.M)
FM_FIRST = "F"


# ----------------------------------------------------------------------------- routing header fields
_VZCZC = re.compile(r"(VZCZC(?<!\wVZCZC)[A-Z]{3}\d*)")
"""The transmission id (``\\bVZCZC...`` written literal first: a pattern that opens with ``\\b`` is tried at
every character)."""
_PROSIGN_LINE = re.compile(r"^[ \t]*(?P<pro>[ZOPR]{2})[ \t]+(?P<ris>R[A-Z0-9]{3,8}(?:[ \t]+R[A-Z0-9]{3,8})*)[ \t]*$", re.M)
_RI_LINE = re.compile(r"^[ \t]*R[A-Z0-9]{3,8}(?:[ \t]+R[A-Z0-9]{3,8})*[ \t]*$")
DE_LINE = re.compile(
    r"^[ \t]*DE[ \t]+(?P<station>R[A-Z0-9]{3,8})[ \t]+#?(?P<serial>\d{1,7})(?:[ \t]*/[ \t]*(?P<section>\d{1,3}))?"
    r"[ \t]+(?P<jul>\d{3})(?P<time>\d{4})\b",
    re.M,
)
ZN_LINE = re.compile(r"^[ \t]*(?P<zn>ZN[YR])[ \t]+(?P<word>[A-Z]{5})\b", re.M)
_PAGE_BREAK = re.compile(r"^[ \t]*PAGE[ \t]+\d+[ \t]+.*$")
_ADDR = re.compile(
    r"^(?:(?P<ri>R[A-Z0-9]{3,8})[ \t]*/[ \t]*)?(?P<addr>.*?)"
    r"(?:[ \t]+(?P<prec>FLASH|NIACT[ \t]+IMMEDIATE|IMMEDIATE|PRIORITY|PIORITY|ROUTINE))?"
    r"(?:[ \t]+(?P<mcn>\d{4,}))?[ \t]*$"
)
_TO_START = re.compile(r"^[ \t]*TO[ \t]+(?P<rest>.*)$")
_INFO_START = re.compile(r"^[ \t]*INFO[ \t]+(?P<rest>.*)$")
_TO_OR_INFO = re.compile(r"^[ \t]*(?:TO|INFO)[ \t]", re.M)
"""The first TO or INFO line: the addressee lists start there (the lines above it add nothing)."""
# Office distribution lists of partial extracts / PlusD teletype (``INFO  LOG-00   NP-00 ... /006W``): not
# addressees.
_DISTRIBUTION = re.compile(r"^[ \t]*(?:[A-Z][A-Z0-9]{0,6}-\d{2,3}[ \t]+)+(?:[A-Z][A-Z0-9]{0,6}-\d{2,3})?(?:[ \t]*/\d{3}[A-Z]?)?"
                           r"(?:[ \t]+[RW])?[ \t]*$|^[ \t]*(?:[A-Z][A-Z0-9]{0,6}-\d{2,3})[ \t]*$|^[ \t]*-{5,}")
_ROUTING_LINE = re.compile(r"^[ \t]*(?:FM[ \t]+\S|[ZOPR](?:[ \t]+[ZOPR])?[ \t]+\d{6}[ \t]?Z\b)")
_ROUTING_FIRST = frozenset("FZOPR")
_ROUTING_SECOND = frozenset(" \tM")
"""The character after a routing line's first (``FM``, or a prosign and a blank): an addressee's routing
indicator (``RUEHC/...``) is not tried."""
# Lines that end an addressee list: lower-case text, a line without letters (a number, a date), a cable id (a database row or
# preamble leaked after the header: ``50972`` / ``2006-01-27 20:41:00`` / ``06MEXICO456`` / ``Embassy Mexico``).
_NOT_ADDRESS = re.compile(r"[ \t]*(?:\d{4}-\d\d-\d\d|\d{1,2}/\d{1,2}/\d{2,4}\b|\d{2}[A-Z]{2,}\d+[ \t]*$)")
_XMT = re.compile(r"^[ \t]*XMT[ \t]+(?P<rest>.*)$")
_END_ADDR = re.compile(r"^[ \t]*(?:BT|ZEN|ZFR|ZFF)\b|^[ \t]*$")

SECURITY_WORD_LEVEL = {
    "CCCCC": "CONFIDENTIAL", "SSSSS": "SECRET", "UUUUU": "UNCLASSIFIED", "EEEEE": "UNCLASSIFIED",
    "TTTTT": "TOP SECRET", "SSSAA": "SECRET", "UUUAA": "UNCLASSIFIED",
}


def addressee(line: str) -> dict[str, object]:
    """``RUEHC/SECSTATE WASHDC IMMEDIATE 5172`` -> routing indicator, address, precedence, MCN."""
    ri, addr, prec, mcn = address_parts(line.strip())
    return {"routing_indicator": ri, "address": addr, "precedence": prec, "mcn": mcn, "excluded": []}


_RI_PART = re.compile(r"(?P<ri>R[A-Z0-9]{3,8})[ \t]*/[ \t]*")


_TAIL_REVERSED = re.compile(
    r"(?:(?P<mcn>\d{4,})[ \t]+)?"
    r"(?:(?P<prec>HSALF|ETAIDEMMI[ \t]+TCAIN|ETAIDEMMI|YTIROIRP|YTIROIP|ENITUOR)[ \t]+)?"
)
"""The tail of _ADDR (``[blanks PREC][blanks MCN]``) read on the reversed address, from its start: the lazy
address of _ADDR ends where the longest such tail that ends the line starts, and a pattern anchored at the
reversed line's start finds it in one match (_ADDR tries the tail after every character). Each part needs
its blanks before it (after it, reversed), so the address keeps its first word."""


def _address_split(line: str) -> tuple[str | None, str, str | None, str | None]:
    """``_ADDR.match(line)``'s (ri, addr, prec, mcn) for a stripped line, read from the right
    (:data:`_TAIL_REVERSED`)."""
    r = _RI_PART.match(line)
    rest = line[r.end():] if r else line
    t = _TAIL_REVERSED.match(rest[::-1])
    assert t is not None  # both parts are optional
    mcn, prec = t.group("mcn", "prec")
    return ((r.group("ri") if r else None), rest[:len(rest) - t.end()], prec and prec[::-1], mcn and mcn[::-1])


def address_parts(line: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(routing indicator, address, precedence, MCN) of a stripped addressee line. The MCN (four digits or more
    after a blank) changes from cable to cable, the rest of the line does not: an ASCII line's MCN is split off
    here and the rest is read once (:func:`_address_parts`, cached) with a stand-in MCN."""
    if line[-4:].isdigit() and line.isascii():
        head = line.rstrip("0123456789")
        if head[-1:] in (" ", "\t"):
            mcn = line[len(head):]
            head = head.rstrip(" \t")
            r = _RI_PART.match(head)
            if r is None or r.end() < len(head):  # the blanks before the MCN are not the RI's (``RUEHC/ 1234``)
                ri, addr, prec, _ = _address_parts(head + " 0000")
                return ri, addr, prec, mcn
    return _address_parts(line)


@lru_cache(maxsize=8192)
def _address_parts(line: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(routing indicator, address, precedence, MCN) of a stripped addressee line (cached: collectives and
    posts repeat from cable to cable)."""
    ri, addr, prec, mcn = _address_split(line)
    if mcn is None and prec is None:  # a 3-digit MCN (1970s): "SECSTATE WASHDC 475", not "CTF 164"
        words = addr.split()
        if len(words) >= 3 and len(words[-1]) == 3 and words[-1].isdigit():
            addr, mcn = " ".join(words[:-1]), words[-1]
    if prec:
        prec = " ".join(prec.split())
        if prec == "PIORITY":
            prec = "PRIORITY"
    return ri, " ".join(addr.split()) or None, prec, mcn


def upper_case(text: str) -> bool:
    """``text.isupper()``; an ASCII text is compared with its upper- and lower-cased copies (no lower-case letter,
    some letter), three times cheaper than ``isupper``, which looks every character up in the Unicode tables."""
    if text.isascii():
        return text.upper() == text and text.lower() != text
    return text.isupper()


def addressees(header: str, lines: HeaderLines | None = None
               ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """TO and INFO addressees (one per line; XMT lines fill ``excluded`` of the collective above). ``lines``: the
    header's landmark lines, when the caller has them."""
    to: list[dict[str, object]] = []
    info: list[dict[str, object]] = []
    current: list[dict[str, object]] | None = None
    first = lines.to_info if lines is not None else line_search(_TO_OR_INFO, header, "TI")
    if first is None:
        return to, info
    for line in header[first.start():].split("\n"):
        # each rule is tried only on a line that starts the way it must (its first word or character)
        word = line.lstrip(" \t")
        first_char = word[:1]
        if first_char == "P" and word.startswith("PAGE") and _PAGE_BREAK.match(line):
            continue
        m = None
        if first_char == "T":
            m = _TO_START.match(line) if word.startswith("TO") else None
            if m:
                if to or info:  # a second TO block: a copy of the header follows (pages that repeat it)
                    break
                current = to
        elif first_char == "I":
            m = _INFO_START.match(line) if word.startswith("INFO") else None
            if m:
                if info:
                    break
                current = info
        if m:
            line = m.group("rest")
            word = line.lstrip(" \t")
            first_char = word[:1]
            if first_char == "P" and word.startswith("PAGE") and _PAGE_BREAK.match(line):
                continue  # "TO PAGE 02 STATE 015113 182333Z": a page break right after TO
        if (
            ("-" in word and _DISTRIBUTION.match(line)) or (first_char in _ROUTING_FIRST and word[1:2] in _ROUTING_SECOND and _ROUTING_LINE.match(line))
            or (not upper_case(line) and line.strip()) or (first_char.isdigit() and _NOT_ADDRESS.match(line))
        ):
            current = None  # the office distribution block (INFO LOG-00 NP-00 ...), a DTG or FM line
            continue
        if current is None:
            continue
        if (not word or first_char in "BZ") and _END_ADDR.match(line):
            if line.strip():
                current = None
            continue
        x = _XMT.match(line) if first_char == "X" and word.startswith("XMT") else None
        if x:
            target = current[-1] if current else None
            if target is not None:
                excluded = target["excluded"]
                assert isinstance(excluded, list)
                excluded.append(" ".join(x.group("rest").split()))
            continue
        current.append(addressee(line))
    return to, info


_LANDMARK_LINE = re.compile(r"\n[ \t]*([0-9DFIOPRTZ])")
"""A line after a line break whose first written character opens one of :class:`HeaderLines`' rules."""
_PROSIGN_END = 600
"""The prosign line is looked for in the header's first 600 characters."""


class HeaderLines:
    """The landmark lines of a routing header, found in one pass over its lines: each line-anchored rule (the
    precedence + DTG line, FM, the prosign line, DE, ZNY/ZNR, the first TO/INFO; a bare DTG while no DTG line is
    found) is tried only on the lines whose first written character can open it, and each keeps its first match.
    Every field is ``line_search(rule, header, first)`` (the prosign line's on ``header[:600]``; ``bare``'s when
    the header has no DTG line, else unused): the rules, with one scan of the line starts instead of one a rule,
    which stops when every rule has its line."""

    __slots__ = ("dtg", "bare", "fm", "prosign", "de", "zn", "to_info")

    def __init__(self, header: str) -> None:
        dtg = bare = fm = prosign = de = zn = to_info = None
        # the first line: every rule is tried at the text's start (whatever opens it: the rules open with blanks
        # then their first character, ``DTG_BARE``'s ``\\d`` a decimal digit of any script)
        for start, first, at in line_heads(header, _LANDMARK_LINE):
            if not first:
                pass
            elif first in "OPRZ":
                if dtg is None:
                    dtg = DTG_LINE.match(header, start)
                if prosign is None and at < _PROSIGN_END:
                    prosign = _PROSIGN_LINE.match(header, start, _PROSIGN_END)
                if zn is None and first == "Z":
                    zn = ZN_LINE.match(header, start)
            elif first == "F":
                if fm is None:
                    fm = FM_LINE.match(header, start)
            elif first == "D":
                if de is None:
                    de = DE_LINE.match(header, start)
            elif first in "TI":
                if to_info is None:
                    to_info = _TO_OR_INFO.match(header, start)
            elif dtg is None and bare is None and first.isdecimal():
                bare = DTG_BARE.match(header, start)
            if dtg and fm and de and zn and to_info and (prosign or at >= _PROSIGN_END):
                break  # every rule has its line
        self.dtg, self.bare, self.fm, self.prosign, self.de, self.zn, self.to_info = dtg, bare, fm, prosign, de, zn, to_info


def routing(header: str, lines: HeaderLines | None = None) -> dict[str, object]:
    """Transmission id, prosigns + relay RIs, DE line, ZNY/ZNR security line of a routing header. ``lines``: the
    header's landmark lines, when the caller has them."""
    out: dict[str, object] = {}
    m = _VZCZC.search(header[:1500])  # after a printout preamble too (03ABUDHABI2641)
    out["transmission_id"] = m.group(1) if m else None
    p = lines.prosign if lines is not None else line_search(_PROSIGN_LINE, header[:_PROSIGN_END], "OPRZ")
    ris: list[str] = []
    if p:
        out["routing_precedence"] = p.group("pro")
        ris = p.group("ris").split()
        for line in header[p.end():].split("\n")[1:]:
            if not _RI_LINE.match(line):
                break
            ris.extend(line.split())
    else:
        out["routing_precedence"] = None
    out["relay_ris"] = ris
    d = lines.de if lines is not None else line_search(DE_LINE, header, "D")
    out["de_station"] = d.group("station") if d else None
    out["de_serial"] = d.group("serial") if d else None
    out["de_section"] = d.group("section") if d else None
    out["de_julian_day"] = int(d.group("jul")) if d else None
    out["de_time"] = d.group("time") if d else None
    z = lines.zn if lines is not None else line_search(ZN_LINE, header, "Z")
    out["security_line"] = z.group("zn") if z else None
    out["security_word"] = z.group("word") if z else None
    return out
