"""REF block -> list of references with resolved cable ids."""

from __future__ import annotations

import re

from etl.parse._ids import STATION_ALIASES, canonical_station

_HEAD = re.compile(r"^[ \t]*(?:PROGRAM[ \t]+)?(?:REFS?|REF\(S\)|REFTELS?|REFERENCES?)[ \t]*[:.]?[ \t]*", re.I)
# Bullets: A. / A) / (A) / A: / REF A  (only single capital letters, followed by space)
_BULLET = re.compile(r"(?:(?<=^)|(?<=[\s,;]))(?:REF[ \t]+)?\(?(?P<letter>[A-Z])(?:\)|[.):])(?=[ \t]|$)")
_CABLE = re.compile(
    r"(?<![A-Z0-9])(?:(?P<yy>\d{4}|\d{2})[ \t]+)?(?P<origin>[A-Z][A-Z'\-]*(?:[ \t]+[A-Z][A-Z'\-]*){0,3})"
    r"[ \t]+(?:-[ \t]*)?(?P<serial>\d{1,7})(?P<more>(?:[ \t]*(?:,|AND|&)[ \t]*\d{1,7}(?![\d/]))*)(?![\d/])"
    r"(?:[ \t]*\((?P<yy2>\d{2})\))?"
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
_TAIL_STOP = re.compile(r"\bCLASSIFIED[ \t]*(?:BY\b|:)|\bE\.[ \t]?O\.[ \t]?1\d{4}", re.I)
"""Where a REF block that lost its line breaks runs into the Classified By / E.O. line."""


def split_items(block: str) -> list[tuple[str | None, str]]:
    """(letter, text) items of a REF block (one unlettered item when there are no bullets)."""
    text = _HEAD.sub("", block.strip(), count=1)
    text = " ".join(text.split())
    stop = _TAIL_STOP.search(text)
    if stop:
        text = text[: stop.start()].rstrip(" ,;.")
    marks = [m for m in _BULLET.finditer(text)]
    # bullets must run A, B, C... to count
    good = []
    expect = "A"
    for m in marks:
        if m.group("letter") == expect:
            good.append(m)
            expect = chr(ord(expect) + 1)
    if not good:
        return [(None, text)] if text else []
    items: list[tuple[str | None, str]] = []
    if good[0].start() > 0 and text[: good[0].start()].strip(" ,;"):
        items.append((None, text[: good[0].start()].strip(" ,;")))
    for i, m in enumerate(good):
        end = good[i + 1].start() if i + 1 < len(good) else len(text)
        items.append((m.group("letter"), text[m.end():end].strip(" ,;")))
    return items


def _year(yy: str | None, cable_year: int | None) -> str | None:
    if yy:
        return yy[-2:]
    if cable_year is not None:
        return f"{cable_year % 100:02d}"
    return None


def parse_references(block: str | None, cable_year: int | None, self_id: str | None = None) -> list[dict[str, object]]:
    """References of a REF block: letter, raw text, resolved reference_id, kind (cable/other)."""
    if not block:
        return []
    out: list[dict[str, object]] = []
    for letter, raw in split_items(block):
        found = False
        upper = raw.upper()
        if re.search(r"\bDTG\b|E-?MAIL|@|TELCON|\bOSC\b", upper):
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
            if not words:
                continue
            station = canonical_station(" ".join(words))
            if station is None:
                continue
            yy = _year(m.group("yy") or m.group("yy2"), cable_year)
            if yy is None:
                continue
            serials = [m.group("serial")] + re.findall(r"\d{1,7}", m.group("more") or "")
            for serial in serials:
                rid = f"{yy}{station}{int(serial)}"
                if rid == self_id:
                    continue
                out.append({"letter": letter, "raw": raw, "reference_id": rid, "kind": "cable"})
                found = True
        if not found:
            out.append({"letter": letter, "raw": raw, "reference_id": None, "kind": "other"})
    return out
