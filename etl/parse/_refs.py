"""REF block -> list of references with resolved cable ids."""

from __future__ import annotations

import re
from functools import lru_cache

from etl.parse._ids import STATION_ALIASES, canonical_station

_HEAD = re.compile(r"^[ \t]*(?:PROGRAM[ \t]+)?(?:REFS?|REF\(S\)|REFTELS?|REFERENCES?)[ \t]*[:.]?[ \t]*", re.I)
# The letter of an item (matched on the upper-cased block; only runs A, B, C... count).
_BULLET = re.compile(
    r"""(?:(?<=^)|(?<=[\s,;]))(?:REF[ \t]+)?
      (?: \(?(?P<letter>[A-Z])(?:\)|[.):])(?=[ \t]|$)              # A. / A) / (A) / A:
        | (?P<bare>[A-Z])(?=[ \t]+(?:\d{2,4}[ \t]+)?[A-Z][A-Z'\-]+  # a bare letter before a cable:
             (?:[ \t]+[A-Z][A-Z'\-]+)*[ \t]+\#?\d)                  #   REF A WELLINGTON 721 B WELLINGTON 700
      )""",
    re.X,
)
_CABLE = re.compile(
    r"""(?<![A-Z0-9])(?:(?P<yy>\d{4}|\d{2})[ \t]+)?                 # a year before the station: 06 TBILISI, 2007
      (?P<origin>[A-Z][A-Z'\-]*(?:[ \t]+[A-Z][A-Z'\-]*){0,3})       # the station, up to 4 words: RIO DE JAN
      [ \t]+(?:-[ \t]*)?\#?[ \t]*(?P<serial>\d{1,7})                # the serial: 1939, #3565, - 12
      (?:-(?P<yy3>\d{2})(?![\d/]))?                                  # a year after it: QUITO 4525-91
      (?P<more>(?:[ \t]*(?:,|AND|&)[ \t]*\#?\d{1,7}(?![\d/])        # more serials: BRASILIA 2799 AND 2764
                |[ \t]*/[ \t]*\d{3,7}(?![\d/]))*)                     #   KABUL 936/935
      (?![\d/])
      (?:[ \t]*\((?P<yy2>\d{2})\))?                                   # a year in parentheses: (08)
    """,
    re.X,
)
_NOT_ORIGIN = frozenset({
    "MSG", "DTG", "EMAIL", "E-MAIL", "TELCON", "PARA", "PARAS", "PARAGRAPH", "DATED", "OF", "ON", "AND", "THE", "IN",
    "NO", "NUMBER", "LETTER", "FAX", "PAGE", "SECTION", "NOTE", "DIPLOMATIC", "OSC", "REFTEL", "REF", "REFS",
    "AT", "FOR", "TO", "FROM", "BY", "SEE", "ALSO", "USC", "RES", "RESOLUTION", "UNSCR", "LAW", "ARTICLE", "DECREE",
    "DAY", "YEAR", "IIR", "TD", "CIR", "SPOT", "REPORT", "CABLE", "TEL", "TELEGRAM", "MEMO", "MEMCON", "YEARS", "JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
    "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER", "JAN", "FEB", "MAR", "APR", "JUN", "JUL", "AUG", "SEP",
    "SEPT", "OCT", "NOV", "DEC", "FY", "CFR", "PL", "EO", "E.O.", "TAGS", "SUBJECT", "SIPDIS",
    "REASON", "REASONS", "CLASSIFIED", "SECTIONS", "PARAGRAPHS",
})
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_TAIL_STOP = re.compile(
    r"""\bCLASSIFIED[ \t]*(?:BY\b|:)               # the Classified By line
      | \bE\.[ \t]?O\.[ \t]?1\d{4}                 # the E.O. line
      | (?<=\s)\d{1,2}\.[ \t]*\([A-Z/]{1,8}\)      # paragraph 1 run on: "AND PREVIOUS 1. (SBU) SUMMARY"
      | (?<=\s)\d{1,2}\.(?=[A-Z][a-z])             #   or "1.The following responses"
      | (?<=\s)[A-Z](?>[A-Z ]*)(?:(?<=[ ])|\t)0{2,}\d+[ \t]+\d{3}\.\d[ \t]+OF[ \t]+\d{3}
                                                   # page residue: TRIPOLI 00000772 001.2 OF 003 (the words
                                                   #   taken whole, atomic: no retry at every space)
    """,
    re.I | re.X,
)
"""Where a REF block that lost its line breaks runs into the Classified By / E.O. line or paragraph 1."""


_DIGIT_DOT = re.compile(r"\d\.")
"""A digit and a period (the digits of _TAIL_STOP's paragraph and page residue: ``\\d`` as there, any decimal digit)."""


def _tail_stop_hint(text: str) -> bool:
    """What every _TAIL_STOP match holds, looked for by cheap scans (the pattern, case-blind with no literal to
    scan for, is tried at every character; one REF block in ten holds a stop): CLASSIFIED, the ``O.`` of E.O., or a
    digit before a period (paragraph 1, page residue). Text that is not ASCII is always searched (``re.I`` lets
    ``ſ`` and ``ı`` stand for s and i)."""
    if not text.isascii():
        return True
    low = text.lower()
    return "classified" in low or "o." in low or _DIGIT_DOT.search(text) is not None


def split_items(block: str) -> list[tuple[str | None, str]]:
    """(letter, text) items of a REF block (one unlettered item when there are no bullets)."""
    text = _HEAD.sub("", block.strip(), count=1)
    text = " ".join(text.split())
    stop = _TAIL_STOP.search(text) if _tail_stop_hint(text) else None
    if stop:
        text = text[: stop.start()].rstrip(" ,;.")
    upper = text.upper()
    marks = list(_BULLET.finditer(upper if len(upper) == len(text) else text))
    # bullets must run A, B, C... to count
    good = []
    expect = "A"
    for m in marks:
        if (m.group("letter") or m.group("bare")) == expect:
            good.append(m)
            expect = chr(ord(expect) + 1)
    if not good:
        return [(None, text)] if text else []
    items: list[tuple[str | None, str]] = []
    if good[0].start() > 0 and text[: good[0].start()].strip(" ,;"):
        items.append((None, text[: good[0].start()].strip(" ,;")))
    for i, m in enumerate(good):
        end = good[i + 1].start() if i + 1 < len(good) else len(text)
        items.append((m.group("letter") or m.group("bare"), text[m.end():end].strip(" ,;")))
    return items


def _year(yy: str | None, cable_year: int | None) -> str | None:
    if yy:
        return yy[-2:]
    if cable_year is not None:
        return f"{cable_year % 100:02d}"
    return None


_NOT_A_CABLE = re.compile(r"\bDTG\b|E-?MAIL|@|TELCON|\bOSC\b")
"""A reference that is no cable: a DTG, an e-mail, a telephone call (TELCON), an OSC report."""


def _not_a_cable(upper: str) -> bool:
    """``_NOT_A_CABLE.search(upper)``, searched only when one of its literals is there (its alternatives open with
    different characters: the pattern is tried at every character)."""
    return ("DTG" in upper or "MAIL" in upper or "@" in upper or "TELCON" in upper or "OSC" in upper) and (
        _NOT_A_CABLE.search(upper) is not None)


_station = lru_cache(maxsize=4096)(canonical_station)
"""canonical_station of a REF's origin words (cached: the cables of a post cite the same stations again and again)."""


_SERIAL_DIGITS = re.compile(r"\d{1,7}")


def parse_references(block: str | None, cable_year: int | None, self_id: str | None = None) -> list[dict[str, object]]:
    """References of a REF block: letter, raw text, resolved reference_id, kind (cable/other)."""
    if not block:
        return []
    out: list[dict[str, object]] = []
    for letter, raw in split_items(block):
        found = False
        upper = raw.upper()
        if _not_a_cable(upper):
            out.append({"letter": letter, "raw": raw, "reference_id": None, "kind": "other"})
            continue
        for m in _CABLE.finditer(upper):
            words = m.group("origin").split()
            if " ".join(words) in STATION_ALIASES:
                pass
            elif any(w in _NOT_ORIGIN for w in words):
                # drop leading non-origin words ("SEE MOSCOW 123" -> MOSCOW)
                tail: list[str] = []
                for w in reversed(m.group("origin").split()):
                    if w in _NOT_ORIGIN:
                        if " ".join([w, *tail]) in STATION_ALIASES:  # TEL AVIV, THE HAGUE, PORT OF SPAIN
                            tail.insert(0, w)
                        break
                    tail.insert(0, w)
                words = tail
            while len(words) > 1 and len(words[0]) == 1:  # a bullet letter glued on: A WELLINGTON
                words = words[1:]
            if not words:
                continue
            station = _station(" ".join(words))
            if station is None:
                continue
            yy = _year(m.group("yy") or m.group("yy2") or m.group("yy3"), cable_year)
            if yy is None:
                continue
            serials = [m.group("serial")] + _SERIAL_DIGITS.findall(m.group("more") or "")
            if "/" in (m.group("more") or "") and _DATE.search(raw):
                serials = serials[:1]
            for serial in serials:
                rid = f"{yy}{station}{int(serial)}"
                if rid == self_id:
                    continue
                out.append({"letter": letter, "raw": raw, "reference_id": rid, "kind": "cable"})
                found = True
        if not found:
            out.append({"letter": letter, "raw": raw, "reference_id": None, "kind": "other"})
    return out
