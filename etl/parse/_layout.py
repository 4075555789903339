"""Find the cable inside a record by its landmarks, not by its position.

A record's text may hold more than the cable: a metadata preamble (``85DUBLIN3456`` / a subject cut short /
``Mon Jun 24 00:00:00 +0200 1985`` / ``CONFIDENTIAL`` / ``Embassy Dublin``), an export's header lines
(``null``, ``DB/Inbox ...``), ``key: value`` blocks (``id:``, ``date:``, ``classification:``...), blank lines,
a BOM, page furniture and an ``NNNN`` trailer. :func:`locate` returns the cable's routing header and body
(from the first landmark on) and the preamble read as metadata (source ``preamble``).

Landmarks that open a cable: ``VZCZC``, a prosign + routing-indicator line, ``DE R...``, ``ZNY``/``ZNR``, a
precedence + DTG line, an ``FM`` line, the partial-extract notice (routing header); a classification banner
naming a post and serial, in spaced or unspaced form (body without a header); an ``E.O.``, ``TAGS`` or
``SUBJECT`` line (body header without a banner). Lines glued together are split at the banner: an addressee
line ending in a precedence word, an MCN, a ``.`` or a letter, with the banner right after
(``...PRIORITYUNCLAS``, ``...UKC O N F I D E N T I A L``, ``...is not available.UNCLAS``).

Cheap first: a record whose first line already opens the routing header or is the banner (every dump format
read so far) costs one anchored match; the line scan runs only for the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from etl.parse._body import BANNER, BANNER_FIRST, banner_from
from etl.parse._classif import LEVEL, level_of
from etl.parse._lines import BodyLines, line_matches, line_sub

_ROUTING = re.compile(
    r"[ \t]*(?:VZCZC|[ZOPR]{2}[ \t]+R[A-Z]{3,}|DE[ \t]+R[A-Z]{3,}|ZN[YR][ \t]+[A-Z]{5}"
    r"|[ZOPR](?:[ \t]+[ZOPR])?[ \t]+\d{6}[ \t]?[A-Z][ \t]+[A-Za-z]{3}[ \t]+\d{2}"
    r"|FM[ \t]+[A-Z]|This record is a partial extract)"
)
"""A line that opens a routing header (matched at a line start)."""
_WEAK_ROUTING = re.compile(
    r"[ \t]*(?:ZN[YR][ \t]|[ZOPR](?:[ \t]+[ZOPR])?[ \t]+\d{6}Z|FM[ \t]|TO[ \t]|INFO[ \t]|PAGE[ \t]+\d|ACTION[ \t]"
    r"|[RPO][ \t]+\d{6})"
)
"""Routing lines that open a header only at the very top of a record (the line scan ignores them)."""
_BODY_LANDMARK = re.compile(r"[ \t]*(?:E\.[ \t]?O\.[ \t]?\d|TAGS?[ \t]*:|SUBJ(?:ECT)?[ \t]*:)")
"""Body-header lines (case-sensitive: a preamble writes ``subject:``, a cable ``SUBJECT:``)."""
_SPACED_LEVEL = re.compile(r"(?:C O N F I D E N T I A L|S E C R E T|U N C L A S)(?![A-Za-z])")
_PRECEDENCE_END = re.compile(r"(?:PRIORITY|IMMEDIATE|ROUTINE|FLASH|[0-9.)])$")
# A banner glued onto the line before it: after a precedence word, an MCN, a full stop or a bracket; or after
# anything when it is spaced or names a post and serial / a section.
_GLUED_BANNER = re.compile(
    r"(?:(?<=\S)|(?<=\S\t))(?P<level>C O N F I D E N T I A L|S E C R E T|U N C L A S(?: S I F I E D)?"
    r"|(?-i:TOP SECRET|SECRET|CONFIDENTIAL|UNCLASSIFIED|UNCLAS|LIMITED OFFICIAL USE)"
    r"(?=[ \t]+(?:SECTION[ \t]+\d|E[ \t]?F[ \t]?T[ \t]?O\b|SIPDIS\b|NOFORN\b|[A-Z][A-Z .'\-]{1,40}[ \t]\d{3,8}(?!\d))|[ \t]*$))",
    re.M | re.I,
)
_TRAILER = re.compile(
    r"^[ \t]*(?:NNNN|BT|#\d{1,7}|null|None|DB/\S.*|Page[ \t]+\d+(?:[ \t]+of[ \t]+\d+)?|[-=_*#~.]{3,}|End of (?:document|record|cable)\b.*"
    r"|" + LEVEL + r"(?://[A-Z /]+)?)?[ \t]*$",
    re.I,
)
"""Lines that close a record after the cable's last line (end-of-message, export and page furniture)."""

# --- preamble fields
_KV = re.compile(r"^[ \t]*(?P<key>[A-Za-z][A-Za-z _\-]{0,24}?)[ \t]*[:=][ \t]*(?P<value>.*?)[ \t]*$")
_KEYS = {
    "id": "reference_id", "refid": "reference_id", "ref id": "reference_id", "reference id": "reference_id",
    "reference_id": "reference_id", "cable id": "reference_id", "cable": "reference_id", "_id": "reference_id",
    "date": "created", "created": "created", "date_time": "created", "datetime": "created", "sent": "created",
    "classification": "classification", "class": "classification",
    "origin": "origin", "from": "origin", "post": "origin",
    "subject": "subject", "title": "subject",
}
_STRONG_KEYS = frozenset({"reference_id", "created", "classification", "origin"})
_ID = re.compile(r"^[ \t]*(?P<id>(?:\d{2}|(?:19|20)\d{2})[A-Z][A-Z\-]*?\d{1,8})[ \t]*$")
_MONTH = r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_DATES = (
    # Mon Jun 24 00:00:00 +0200 1985 (ctime / Ruby Time#to_s, zone optional)
    re.compile(r"^[ \t]*(?:[A-Z][a-z]{2},?[ \t]+)?" + _MONTH + r"[ \t]+(?P<d>\d{1,2})[ \t]+(?P<t>\d{1,2}:\d{2})(?::\d{2})?"
               r"(?:[ \t]+(?:[+-]\d{4}|[A-Z]{3,4}))?[ \t]+(?P<y>(?:19|20)\d{2})[ \t]*$"),
    re.compile(r"^[ \t]*(?P<y>(?:19|20)\d{2})-(?P<m>\d{2})-(?P<d>\d{2})(?:[ T](?P<t>\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?"
               r"(?:Z|[ \t]*[+-]\d{2}:?\d{2})?[ \t]*$"),
    re.compile(r"^[ \t]*(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>(?:19|20)\d{2})(?:[ \t]+(?P<t>\d{1,2}:\d{2}))?[ \t]*$"),
    re.compile(r"^[ \t]*(?:[A-Z][a-z]+,?[ \t]+)?(?P<d>\d{1,2})[ \t]+" + _MONTH + r",?[ \t]+(?P<y>(?:19|20)\d{2})[ \t]*$"),
    re.compile(r"^[ \t]*(?:[A-Z][a-z]+,?[ \t]+)?" + _MONTH + r"[ \t]+(?P<d>\d{1,2}),?[ \t]+(?P<y>(?:19|20)\d{2})[ \t]*$"),
)
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), start=1)}
_LEVEL_ONLY = re.compile(r"^[ \t]*(?P<c>" + LEVEL + r"(?:[ \t]*//[ \t]*[A-Z][A-Z ]*)*)[ \t]*$", re.I)
_POST_NAME = re.compile(
    r"^[ \t]*(?:(?:American|US|U\.S\.)[ \t]+)?(?:Embassy|Consulate(?:[ \t]+General)?|Mission|Interests[ \t]+Section"
    r"|Secretary[ \t]+of[ \t]+State|Office|Delegation|Liaison|USUN|USNATO|USEU|AMEMBASSY|AMCONSUL|USMISSION|SECSTATE)"
    r"\b[A-Za-z .,'()/\-]{0,60}$"
)
_JUNK = re.compile(r"^[ \t]*(?:null|None|DB/\S.*|Page[ \t]+\d+.*|[-=_*#~.]{3,}.*)[ \t]*$", re.I)


@dataclass
class Layout:
    """Where the cable is in a record's text."""

    header: str
    body: str
    preamble: dict[str, str] = field(default_factory=dict)
    """Metadata read from the lines before the cable (``reference_id``, ``created``, ``classification``...)."""
    notes: list[str] = field(default_factory=list)
    """What was set aside or split (one note per kind), for ``parse_problems``."""
    found: bool = True
    """False when no landmark of a cable was found in the record."""


def _first_line(text: str) -> tuple[int, str]:
    """Offset and text of the first non-blank line."""
    i = 0
    n = len(text)
    while i < n:
        j = text.find("\n", i)
        j = n if j < 0 else j
        if text[i:j].strip():
            return i, text[i:j]
        i = j + 1
    return n, ""


def locate(text: str) -> Layout:
    """Routing header, body and preamble of a whole record text (``\\n`` line ends)."""
    if text[:1] == "\ufeff":
        text = text[1:]
    notes: list[str] = []
    start, first = _first_line(text)
    if _ROUTING.match(first) or _WEAK_ROUTING.match(first):
        header, body = _split_header(text.lstrip("\n"), notes)
        return Layout(header, body, notes=notes)
    if _is_banner(first) and not _routing_follows(text, start + len(first)):
        return Layout("", text, notes=notes)
    return _scan(text, notes)


def _routing_follows(text: str, pos: int) -> bool:
    """The line after ``pos`` opens a routing header (a printout's classification line above the header)."""
    _, nxt = _first_line(text[pos:pos + 400])
    return bool(_ROUTING.match(nxt))


def split_cable(text: str) -> tuple[str, str]:
    """Split a whole telegram into (routing header, body from the banner on); see :func:`locate`.

    Text without routing lines has no header: ``("", body)``.
    """
    layout = locate(text)
    return layout.header, layout.body


def _is_banner(line: str) -> bool:
    if _SPACED_LEVEL.match(line.lstrip()):
        return True
    m = BANNER.match(line)
    return bool(m and banner_from(m).post)


def _split_header(text: str, notes: list[str]) -> tuple[str, str]:
    """Header up to the banner (a line starting with a level, or one glued onto the header's last line)."""
    m = _BANNER_LINE.search(text)
    if m is None or not _names_post(text, m) or _BODY_HEADER.search(text, 0, m.start()):
        body_header = _BODY_HEADER.search(text)
        glued = _glued_in(text[: body_header.start() if body_header else len(text)])
        if glued is not None:
            line_start = text.rfind("\n", 0, glued) + 1
            if not _HEADER_LIKE.search(text[line_start:glued]):  # ``Cable dated:2002-...``, ``S``: stays in the body
                return text[:line_start].rstrip(" \t\n"), text[line_start:]
            notes.append("layout: banner glued onto the routing header's last line; split there")
            return text[:glued].rstrip(" \t\n"), text[glued:]
    if m:
        return text[: m.start()].rstrip("\n"), text[m.start():]
    # no banner: the body starts at its first caveat or body-header line, or at the first blank line after the
    # last routing line (a blank line inside the routing block, ``PP RUEHWEB`` / blank / ``DE ...``, is not it)
    first_body = _BODY_START.search(text)
    limit = first_body.start() if first_body else len(text)
    last_routing = 0
    for r in _ROUTING_OR_ADDR.finditer(text, 0, limit):
        last_routing = r.end()
    blank = _BLANK.search(text, last_routing, limit)
    if blank:
        return text[: blank.start()], text[blank.end():]
    if first_body:
        return text[:limit].rstrip("\n"), text[limit:]
    return text, ""


_HEADER_LIKE = re.compile(r"^(?![ \t]*[A-Za-z][A-Za-z ]{0,20}:)[ \t]*\S.*(?:/|\S[ \t]+\S|\d[ \t]*$|\.[ \t]*$|[A-Za-z]{3})")
"""Text before a glued banner that belongs to the header: an addressee (``RUEHXX/...``, ``CSAF``, ``AMEMBASSY
LONDON UK``, an MCN) or a notice ending in a full stop; not ``Cable dated:...`` nor a stray letter (``SS E C R E T``)."""
_BODY_START = re.compile(r"^[ \t]*(?:SIPDIS|NOFORN|EXDIS|NODIS|LIMDIS|STADIS|E\.[ \t]?O\.|TAGS?[ \t]*:|SUBJ(?:ECT)?[ \t]*:)",
                         re.M)
_ROUTING_OR_ADDR = re.compile(r"^[ \t]*(?:VZCZC|[ZOPR]{2}[ \t]+R[A-Z]{3,}|DE[ \t]+R|ZN[YR][ \t]|FM[ \t]|TO[ \t]|INFO[ \t]"
                              r"|[ZOPR](?:[ \t]+[ZOPR])?[ \t]+\d{6})", re.M)


def _names_post(text: str, m: re.Match[str]) -> bool:
    """The banner line at ``m`` names a post and serial (else a glued banner before it may be the real one)."""
    eol = text.find("\n", m.start())
    line = BANNER.match(text, m.start(), len(text) if eol < 0 else eol)
    return bool(line and banner_from(line).post)


_BANNER_LINE = re.compile(r"^[ \t]*" + LEVEL, re.M | re.I)
_BLANK = re.compile(r"\n[ \t]*\n")
_BODY_HEADER = re.compile(r"^[ \t]*(?:E\.[ \t]?O\.|TAGS?[ \t]*:|SUBJ(?:ECT)?[ \t]*:)", re.M | re.I)


def _glued_in(region: str) -> int | None:
    """Offset of a banner glued onto a header line of ``region`` (the header before the first body line)."""
    if not region:
        return None
    for m in _GLUED_BANNER.finditer(region):
        line_start = region.rfind("\n", 0, m.start()) + 1
        before = region[line_start:m.start()].rstrip()
        level = m.group("level")
        if " " in level or _PRECEDENCE_END.search(before) or not before.endswith(tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")):
            return m.start()
        # glued after a letter: only a banner naming a post + serial, a section or a caveat is taken
        if region[m.end():region.find("\n", m.end()) if "\n" in region[m.end():] else len(region)].strip():
            return m.start()
    return None


_ROUTING_M = re.compile(r"^" + _ROUTING.pattern, re.M)


def _routing_cluster(text: str, limit: int) -> int | None:
    """Start of the first routing line followed within six lines by another one (VZCZC then DE/ZNY/DTG/FM, a
    DTG line then FM...): a real routing header, wherever it stands, even after a printout's own TAGS/Subject."""
    for m in _ROUTING_M.finditer(text, 0, limit):
        if m.group(0).lstrip().startswith("FM"):  # a subject may start "FM ..." (Foreign Minister): not a start
            continue
        window = text[m.end(): m.end() + 600].split("\n")[1:7]
        if any(_ROUTING.match(line) for line in window):
            return m.start()
    return None


_BODY_LANDMARK_M = re.compile(r"^" + _BODY_LANDMARK.pattern, re.M)


def _cable_before(text: str, pos: int) -> bool:
    """A banner naming a post, followed by a body header (E.O./TAGS/SUBJECT), comes before ``pos``: the cable
    started there and the routing lines at ``pos`` belong to a later section (a printout's own banner line
    above the header has no body header after it)."""
    for m in line_matches(BANNER, text, BANNER_FIRST, 0, pos):
        if (banner_from(m).post or _SPACED_LEVEL.match(m.group(0).lstrip())) and _BODY_LANDMARK_M.search(text, m.end(), pos):
            return True
    for m in _GLUED_HINT.finditer(text, 0, pos):  # a banner glued onto the line before it counts the same
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.start())
        end = pos if end < 0 or end > pos else end
        line = text[start:end]
        if not _kv_line(line) and _glued_in(line) is not None and _BODY_LANDMARK_M.search(text, end, pos):
            return True
    return False


def _scan(text: str, notes: list[str]) -> Layout:
    """Slow path: the lines before the cable's first landmark are the preamble. A routing header (a cluster of
    routing lines) opens the cable; without one, the first banner or body-header line does."""
    n = len(text)
    limit = min(n, 8000)
    start = _routing_cluster(text, limit)
    if start is not None and _cable_before(text, start):
        start = None
    if start is not None:
        header, body = _split_header(text[start:], notes)
        return _with_preamble(Layout(header, body, notes=notes), text[:start].split("\n"))
    pos = 0
    pre: list[str] = []
    while pos < limit:
        eol = text.find("\n", pos)
        eol = n if eol < 0 else eol
        line = text[pos:eol]
        if line.strip():
            if _ROUTING.match(line):
                header, body = _split_header(text[pos:], notes)
                return _with_preamble(Layout(header, body, notes=notes), pre)
            glued = _glued_in(line) if _GLUED_HINT.search(line) else None
            if glued is not None and not _kv_line(line):
                notes.append("layout: banner glued onto the line before it; split there")
                pre.append(line[:glued])
                return _with_preamble(Layout("", text[pos + glued:], notes=notes), pre)
            if _is_banner(line):
                return _with_preamble(Layout("", text[pos:], notes=notes), pre)
            if _BODY_LANDMARK.match(line):
                # a bare banner line just before the body header belongs to the cable
                k = len(pre)
                while k and not pre[k - 1].strip():
                    k -= 1
                if k and _LEVEL_ONLY.match(pre[k - 1]) and _banner_not_preamble(pre[: k - 1]):
                    start = pos - sum(len(p) + 1 for p in pre[k - 1:])
                    pre = pre[: k - 1]
                else:
                    start = pos
                return _with_preamble(Layout("", text[start:], notes=notes), pre)
        pre.append(line)
        pos = eol + 1
    return Layout("", text, notes=notes, found=False)


def _banner_not_preamble(before: list[str]) -> bool:
    """A bare level line right before the body header is the cable's banner unless it may be the preamble's
    classification (a preamble stating other fields but no classification yet)."""
    fields = _preamble_fields(before)
    return not fields or "classification" in fields


_GLUED_HINT = re.compile(r"\S(?:C O N F|S E C R E T|U N C L A S|UNCLAS|CONFIDENTIAL|SECRET|LIMITED OFFICIAL)")


def _kv_line(line: str) -> str | None:
    m = _KV.match(line)
    if not m:
        return None
    return _KEYS.get(m.group("key").strip().lower())


def _with_preamble(layout: Layout, lines: list[str]) -> Layout:
    if any(line.strip() for line in lines):
        layout.preamble = _preamble_fields(lines)
        kept = sum(1 for line in lines if line.strip())
        layout.notes.append(f"layout: {kept} line(s) before the cable read as its preamble"
                            + (f" ({', '.join(sorted(layout.preamble))})" if layout.preamble else ""))
    return layout


def _preamble_fields(lines: list[str]) -> dict[str, str]:
    """Metadata stated by the lines before the cable: ``key: value`` lines, a bare id, a date, a classification,
    a post name; one other short text line is the subject when the preamble states at least two fields."""
    out: dict[str, str] = {}
    loose: list[str] = []
    for line in lines:
        s = line.strip()
        if not s or _JUNK.match(s):
            continue
        m = _KV.match(s)
        key = _KEYS.get(m.group("key").strip().lower()) if m else None
        if m and key:
            value = m.group("value")
            if value and value.lower() not in ("null", "none"):
                if key == "created":
                    value = _date(value) or value
                out.setdefault(key, value)
            continue
        idm = _ID.match(s)
        if idm and "reference_id" not in out:
            out["reference_id"] = idm.group("id")
            continue
        d = _date(s)
        if d and "created" not in out:
            out["created"] = d
            continue
        lv = _LEVEL_ONLY.match(s)
        if lv and "classification" not in out and level_of(s):
            out["classification"] = " ".join(lv.group("c").upper().split())
            continue
        if _POST_NAME.match(s) and "origin" not in out:
            out["origin"] = " ".join(s.split())
            continue
        loose.append(s)
    if loose and "subject" not in out and len(out.keys() & _STRONG_KEYS) >= 2 and len(loose[0]) <= 200:
        out["subject"] = loose[0]
    if "created" in out and out["created"][:2] not in ("19", "20"):
        del out["created"]  # not a date we can read: kept in the record's raw text only
    return out


def _date(value: str) -> str | None:
    """``YYYY-MM-DD[ HH:MM]`` of a date written in one of the common forms, else None."""
    for rx in _DATES:
        m = rx.match(value)
        if not m:
            continue
        g = m.groupdict()
        month = _MONTHS[g["mon"][:3]] if g.get("mon") else int(g["m"])
        out = f"{int(g['y']):04d}-{month:02d}-{int(g['d']):02d}"
        t = g.get("t")
        if t and t not in ("00:00", "0:00"):  # midnight is a date-only value written as a time
            hh, mm = t.split(":")
            out += f" {int(hh):02d}:{mm}"
        return out
    return None


_PAGE_BREAK = re.compile(
    r"(?:^[ \t]*" + LEVEL + r"(?://[A-Z /]+)?[ \t]*\n(?:[ \t]*\n){0,2})?"  # the classification footer above it
    r"^[ \t]*(?:PAGE[ \t]+(?!0*1\b)\d{1,3}[ \t]+[A-Z][A-Z .'\-]*?[ \t]+\d{3,8}(?:[ \t]+\d{1,3}[ \t]+OF[ \t]+\d{1,3})?"
    r"(?:[ \t]+\d{6}Z?)?|Page[ \t]+\d+(?:[ \t]+of[ \t]+\d+)?)[ \t]*\n"
    r"(?:[ \t]*" + LEVEL + r"(?://[A-Z /]+)?[ \t]*\n)?",  # or the classification header below it
    re.M,
)
_PAGE_BREAK_FIRST = "CELNOSTUP"
"""The first letters of a _PAGE_BREAK match's line: a level (upper case) or PAGE / Page."""


_TAB_COLUMN = re.compile(r"(?<=\S)\t(?=[ \t]*" + LEVEL + r"[^\n]*\d{3})")


def untab(text: str) -> str:
    """Tabs read as the runs of spaces they replaced (two spaces), except a tab that separates a leaked row's
    header column from the body column's banner (kept: :func:`etl.parse._body.find_banner` splits there)."""
    if "\t" not in text:
        return text
    if _TAB_COLUMN.search(text):
        return text
    return text.replace("\t", "  ")


_BLOCK_START = re.compile(
    r"\n(?=[ \t]*(?:\d{1,3}[ \t]*\.[ \t]*(?:\(|[A-Z])|\([A-Z]{1,3}\)[ \t]*\d{1,3}\.|(?i:" + LEVEL + r")[^\n]*\d{3}|E\.[ \t]?O\.|TAGS?[ \t]*:"
    r"|SUBJ(?:ECT)?[ \t]*:|REFS?[ \t]*:|REFTELS?\b|Classified[ \t]+By|CLASSIFIED[ \t]+BY|(?:BEGIN[ \t]+)?SUMMARY\b|Summary\b"
    r"|(?:SIPDIS|NOFORN|EXDIS|NODIS|LIMDIS|SENSITIVE)[ \t]*$))",
    re.M,
)
_ANY_BLANK = re.compile(r"\n[ \t]*\n")


def restore_blocks(text: str) -> str:
    """A text whose blank lines were all removed gets one back before each line that opens a block of the
    body header (a banner, E.O., TAGS, SUBJECT, REF, Classified By, a caveat line, a numbered
    paragraph), so that the SUBJECT, REF and Classified By blocks end where the cable ended them. Texts with
    blank lines in their first 3,000 characters are returned unchanged."""
    if _ANY_BLANK.search(text, 0, 3000) or text.count("\n", 0, 3000) < 4:
        return text
    return _BLOCK_START.sub("\n\n", text)


def strip_page_breaks(text: str, lines: BodyLines | None = None) -> str:
    """Text without page furniture: a teletype page header from page 2 on (``PAGE 02 MADRID 00640 02 OF 09
    091341Z``) or a printed ``Page 2 of 5``, with the classification line printed beside it. Page 1's header
    stays (partial extracts are identified by it). Only the parsed view is cleaned; header/body keep it.
    ``lines``: the text's typed lines, when the caller has them (they know its page break lines)."""
    if not (lines.page_break if lines is not None and lines.text is text else _has_page_break(text)):
        return text
    return line_sub(_PAGE_BREAK, "", text, _PAGE_BREAK_FIRST)


_PAGE_AT = re.compile(r"(?:PAGE[ \t]+(?!0*1\b)\d|Page[ \t]+\d)")
_PAGE_WORD = re.compile("PAGE|Page")
"""The page word, found by the regex engine's scan for its first letter (``str.find`` of ``PAGE`` and of
``Page`` is three times slower: their last letter is a frequent one)."""


def _has_page_break(text: str) -> bool:
    """Cheap check: a line opening with ``PAGE 2``+ or ``Page N`` (a literal search, then the line start)."""
    for w in _PAGE_WORD.finditer(text):
        i = w.start()
        if not text[text.rfind("\n", 0, i) + 1:i].strip() and _PAGE_AT.match(text, i):
            return True
    return False


_TAIL = 64


def stripped_len(text: str) -> int:
    """``len(text.rstrip())`` without copying the text: its last 64 characters stripped, when they hold a
    written character (then the blanks that end the text are all among them)."""
    tail = text[-_TAIL:]
    kept = tail.rstrip()
    if kept or len(tail) == len(text):
        return len(text) - len(tail) + len(kept)
    return len(text.rstrip())


def text_end(body: str, stripped: int | None = None) -> int:
    """Where the cable's text ends: before end-of-message and furniture lines closing the record (``NNNN``,
    ``BT``, ``null``, ``Page 2 of 2``, a separator, a classification footer). Cheap when the last line is text.
    ``stripped``: :func:`stripped_len` of the body, when the caller has it."""
    cut = stripped_len(body) if stripped is None else stripped
    while cut > 0:
        start = body.rfind("\n", 0, cut) + 1
        line = body[start:cut]
        if line.strip() and (start == 0 or not _TRAILER.match(line)):
            return cut
        cut = max(start - 1, 0)
    return cut
