"""Body header: banner, E.O. line, TAGS, SUBJECT, REF block."""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl.parse._classif import LEVEL
from etl.parse._decl import EO_LINE
from etl.parse._lines import BodyLines, keyword_search, line_heads, line_matches, line_search, word_search
from etl.parse._tags import PAGE_BREAK_LINE

BANNER = re.compile(r"^[ \t]*(?P<level>" + LEVEL + r")(?P<rest>.*)$", re.M | re.I)
BANNER_FIRST = "CELNOSTUcelnostu"
"""The letters a banner line starts with (the first letters of the levels in LEVEL, either case)."""
_TAB_BANNER = re.compile(r"\t[ \t]*(?P<level>" + LEVEL + r")(?P<rest>.*)$", re.M)
BANNER_ANY = re.compile(r"(?<![A-Za-z])(?P<level>" + LEVEL + r")(?P<rest>.*)$", re.M)
_SECTION = re.compile(r"\bSECTION[ \t]*(?P<n>\d{1,3})[ \t]*OF[ \t]*(?P<of>\d{1,3})\b", re.I)
_POST_SERIAL = re.compile(
    r"(?P<post>[A-Z][A-Z.'\-]*(?:[ \t]+[A-Z][A-Z.'\-]*){0,4})[ \t]+(?P<serial>\d{3,8})(?!\d)", re.I
)
_NOT_POST = frozenset({"SECTION", "OF", "SIPDIS", "NOFORN", "EXDIS", "NODIS", "LIMDIS", "SENSITIVE", "EFTO",
                       "E", "F", "T", "O", "STADIS", "CORRECTED", "COPY"})

_GLUED = re.compile(r"E\.O\.|\bTAGS\b|SUBJECT|SIPDIS", re.I)
FIRST_PARA = re.compile(r"^[ \t]*1[ \t]*\.[ \t]", re.M)
TAGS_LINE = re.compile(
    r"""(?:^|(?<=[\s\d]))(?:TAGS?|TAGES?|TABS|TGS|AGS)[ \t]*:[ \t]*(?P<v>.*)$  # TAGS: TAGES: AGS: (glued on too)
      | ^[ \t]*(?:TAGS?|TAGES?|TAS)[ \t]*[:;,][ \t]*(?P<v2>.*)$                 # TAGS; TAGS, TAS: (at a line start)
      | ^[ \t]*TAGS?[ \t]+(?P<v3>.*)$                                            # TAGS PREL / TAG PTER, PGOV
    """,
    re.M | re.I | re.X,
)
_TAGS_WORDS = ("TAG", "TAB", "TGS", "AGS", "TAS")
"""Every TAGS_LINE match starts at one of these words (any case) or at the start of its line."""
SUBJECT_LINE = re.compile(r"^[ \t]*(?:SUBJECT|SUBJ|SUBJEC|UBJECT)[ \t]*[:.\-]?[ \t]*(?P<v>.*)$", re.M | re.I)
SUBJECT_FIRST = "SUsu"
SUBJECT_GLUED = re.compile(r"\bSUBJ(?:ECT)?[ \t]*:[ \t]*(?P<v>.*)$", re.M | re.I)
REF_LINE = re.compile(
    r"^[ \t]*(?:PROGRAM[ \t]+)?(?:REFS?|REF\(S\)|REFTELS?|REFERENCES?)[ \t]*(?::|\.|(?=[ \t]+[A-Z(0-9]))[ \t]*(?P<v>.*)$",
    re.M | re.I,
)
_REF_FIRST = "PRpr"
_REF_ITEM = re.compile(r"^[ \t]*(?:\(?[A-Z][ \t]*[.):][ \t]|REF[ \t]+[A-Z]\b|\([A-Z]\)|[A-Z]\.\S)", re.I)
_REF_CABLE_HINT = re.compile(r"^[ \t]*\(?[A-Za-z][.)][ \t]*(?:\d{2,4}[ \t]+)?[A-Za-z][A-Za-z' \-]{1,30}[ \t]\#?\d{1,7}\b")
"""A lettered REF item naming a cable (``(B) Sao Paulo 319``, ``C. 05 STATE 1234``) continues the block."""
PORTION_PREFIX = re.compile(r"^[ \t]*\((?P<mark>[A-Z]{1,4}(?:[ \t]*/{1,2}[ \t]*[A-Z]{1,6}){0,3})\)[ \t]*[-:]?[ \t]*")


@dataclass
class Banner:
    raw: str
    level_raw: str
    rest: str
    section: str | None
    post: str | None
    serial: str | None
    start: int = 0


def _glued_words(rest: str) -> bool:
    """``rest`` holds a word of _GLUED (ASCII text, lower-cased: one scan per word instead of the pattern tried
    at every character; other text is always searched, ``re.I`` lets ``ſ`` stand for s)."""
    if not rest.isascii():
        return True
    low = rest.lower()
    return "e.o." in low or "tags" in low or "subject" in low or "sipdis" in low


def banner_from(m: re.Match[str]) -> Banner:
    rest = m.group("rest")
    # Text glued onto the banner line (``ANKARA 008305S/CT FOR REAPE.O. 12958``) is not banner.
    cut = _GLUED.search(rest) if _glued_words(rest) else None
    if cut:
        rest = rest[: cut.start()]
    sec = _SECTION.search(rest)
    post = serial = None
    after = rest[sec.end():] if sec else rest
    for ps in _POST_SERIAL.finditer(after):
        words = [w.upper() for w in ps.group("post").split() if w.upper() not in _NOT_POST]
        if words:
            post = " ".join(words)
            serial = ps.group("serial")
            end = (sec.end() if sec else 0) + ps.end()
            rest = rest[:end]
            break
    return Banner(
        raw=(m.group("level") + rest).rstrip(),
        level_raw=m.group("level"),
        rest=rest,
        section=f"{sec.group('n')} OF {sec.group('of')}" if sec else None,
        post=post,
        serial=serial,
        start=m.start("level"),
    )


def find_banner(body: str) -> Banner | None:
    """The classification banner: the first line starting with a level (preferring one that names a post
    and serial, since leaked-row prefixes carry a bare ``CONFIDENTIAL`` metadata line); else a level glued
    after junk (``Cable dated:2002-11-15T12:40:00S E C R E T ...``)."""
    head = body[:3000]
    first: Banner | None = None
    for m in line_matches(BANNER, head, BANNER_FIRST):
        if m.start() > 2000:
            break
        b = banner_from(m)
        if b.post:
            return b
        if first is None:
            first = b
    # a leaked tab-separated row: the header column ends, a tab, then the body column's banner
    for m in _TAB_BANNER.finditer(head):
        b = banner_from(m)
        if b.post:
            return b
    if first is not None:
        return first
    m2 = BANNER_ANY.search(head[:1500])
    return banner_from(m2) if m2 else None


def top_of(body: str, lines: BodyLines | None = None) -> str:
    """The part of the body before the first numbered paragraph (the body header), at most 6000 chars.
    ``lines``: the body's typed lines (a FIRST_PARA line is a paragraph line numbered 1), when the caller has them."""
    if lines is None or lines.text is not body:
        m = line_search(FIRST_PARA, body, "1", 0, 8000)
    else:
        m = next((m for p in lines.paras if p[0] < 8000 and p[2] == "1"
                  for m in (FIRST_PARA.match(body, p[0], 8000),) if m), None)
    end = m.start() if m else 6000
    return body[: max(end, 200)]


EO_OR_SUBJECT = re.compile(r"^[ \t]*(?:E\.?[ \t]?O\.?[ \t]*\d|SUBJ)", re.M | re.I)
"""An E.O. or SUBJECT line: the caveats of the body header are looked for above it."""
EO_OR_SUBJECT_FIRST = "ESes"
_TOP_LANDMARK = re.compile(r"\n[ \t]*((?:[Ee](?=[. \tOo0])|[Ss](?=[Uu][Bb][Jj])|[Uu](?=[Bb][Jj])|[Rr](?=[Ee][Ff])|[Pp](?=[Rr][Oo])))")
"""A line after a line break whose first written characters can open one of :class:`TopLines`' rules (E.O.,
SUBJ, UBJECT, REF, PROGRAM, in any case: none of these letters but the first S has another letter that matches
it case-blind, and the first letter is one of the line searches' own), the first one captured. Lines that
cannot (``SIPDIS``, ``SENSITIVE``, ``STATE FOR``, an addressee) are passed over by the engine."""


class TopLines:
    """The landmark lines of a body header, found in one pass over its lines: the E.O. line (EO_LINE), the first
    E.O. or SUBJECT line (EO_OR_SUBJECT), the SUBJECT line, the REF line, each tried only on the lines whose
    first written character can open it (and all of them at the text's start, as a line search does), each
    keeping its first match: ``line_search(rule, top, first)`` of every rule, with one scan of the line starts
    instead of one a rule, which stops when every rule has its line."""

    __slots__ = ("eo", "eo_or_subject", "subject", "ref")

    def __init__(self, top: str) -> None:
        eo = eo_or_subject = subject = ref = None
        for start, first, _ in line_heads(top, _TOP_LANDMARK):
            if not first:
                pass
            elif not start and not first.isascii():  # a letter beyond ASCII may match one in any case (``ſ``
                eo, eo_or_subject = EO_LINE.match(top), EO_OR_SUBJECT.match(top)  # for s): every rule
                subject, ref = SUBJECT_LINE.match(top), REF_LINE.match(top)
            elif first in "Ee":
                if eo is None:
                    eo = EO_LINE.match(top, start)
                if eo_or_subject is None:
                    eo_or_subject = EO_OR_SUBJECT.match(top, start)
            elif first in "Ss":
                if subject is None:
                    subject = SUBJECT_LINE.match(top, start)
                if eo_or_subject is None:
                    eo_or_subject = EO_OR_SUBJECT.match(top, start)
            elif first in "Uu":
                if subject is None:
                    subject = SUBJECT_LINE.match(top, start)
            elif first in "PpRr":
                if ref is None:
                    ref = REF_LINE.match(top, start)
            if eo and eo_or_subject and subject and ref:
                break  # every rule has its line
        self.eo, self.eo_or_subject, self.subject, self.ref = eo, eo_or_subject, subject, ref


# Lines that end a wrapped SUBJECT (the next landmark of the body header, or a line no subject goes on into).
_SUBJECT_END = re.compile(
    r"""^[ \t]*(?:
        $                                                            # a blank line
      | REFS?\b | REF\(S\) | REFTEL                                  # the REF block
      | CLASSIFIED[ \t]+BY | CLASSIFIED[ \t]*:                        # Classified By
      | \d{1,3}[ \t]*\.[ \t]                                         # paragraph 1.
      | \(\w{1,6}\)[ \t]*\d                                          # a portion mark before a number: (C) 1.
      | -{3,} | ={3,}                                                # a rule
      | [\d<>]+[\d<>\-:/. \t]*$                                      # only digits and date/time punctuation
      | \d+,\d                                                       # a csv row
      | (?-i:[a-z_]{2,12}:[ \t])                                     # a lower-case metadata key: value
      | (?:STATE|DEPT|DEPARTMENT|NSC|USDOC|TREASURY|USTR|DOD|OSD)[ \t]+FOR\b   # STATE FOR EAP (passing line)
      | (?:PASS[ \t]+TO|FROM[ \t]+AMBASSADOR|THIS[ \t]+CABLE\b|SIPDIS[ \t]*$)  # passing and handling lines
      | SUMMARY | BEGIN[ \t]+SUMMARY                                 # the summary heading
      | (?:ENTIRE[ \t]+TEXT[ \t]+)?SENSITIVE[ ]BUT                   # SENSITIVE BUT UNCLASSIFIED
      | \d{1,3}\.(?=\(|[A-Z][a-z])                                   # paragraph written 1.(C) / 1.Summary
      | \d{3}\.\d[ \t]+OF[ \t]+\d{3}                                 # section residue 001.2 OF 004
      | (?:[A-Z]+[ \t]+){0,3}(?:DEPT|DEPARTMENT)[ \t]+(?:PLEASE[ \t]+)?PASS\b  # DEPT PLEASE PASS
      | (?:[A-Z][ \t]){4,}[A-Z]\b                                    # a spaced-out banner: C O N F I D E N T I A L
      | DERIVED[ \t]+FROM\b | E\.O\. | TAGS                          # the next body-header keywords
      | PAGE[ \t]+\d                                                 # a teletype page break
      | THIS[ ]IS[ ]AN[ ]ACTION                                      # THIS IS AN ACTION REQUEST
      | [A-Z .]+\d{3,8}[ \t]+\d{3}(?:\.\d)?[ \t]+OF                  # page-break residue: STATE 123456 002 OF
    )""",
    re.I | re.X,
)


def _continuation(lines: list[str], start: int, stop: re.Pattern[str]) -> list[str]:
    out = []
    for line in lines[start:]:
        if not line.strip() or stop.match(line):
            break
        out.append(line.rstrip())
    return out


_DANGLING = re.compile(r"(?:\b(?:AND|OR|OF|THE|ON|TO|IN|FOR|WITH|A|AN|AT|BY|FROM)|[,:;\-/])[ \t]*$", re.I)


def _dangling(line: str) -> bool:
    """The line ends in a word or mark that cannot end a subject or REF block. The rule is anchored at the
    line's end and its longest word has four letters: only the tail is searched."""
    return _DANGLING.search(line, max(0, len(line.rstrip(" \t")) - 4)) is not None


_PROSE = re.compile(r"^[ \t]*(?:\([A-Z/]{1,6}\)[ \t]*)?[A-Z]?[a-z]+\b.*\b[a-z]{3,}\b")
"""A line of prose: it opens with a mixed- or lower-case word (``In celebration of...``, ``(U) This cable...``)."""


_MIXED_CASE_WORD = re.compile(r"[a-z]{3}")
"""Three lower-case letters in a row: the text is not all upper case (an upper-case subject does not go on into prose)."""


_LOWER_LETTER = re.compile(r"[a-z]")
_BLANK = re.compile(r"[ \t]")


def _subject_lines(top: str, m: re.Match[str]) -> list[str]:
    first = m.group("v").rstrip()
    following = top[m.end():].split("\n")[1:]
    if not first.strip():  # "SUBJECT:" alone, the subject on the next line (blank lines between)
        k = next((k for k, line in enumerate(following[:3]) if line.strip()), None)
        if k is not None and not _SUBJECT_END.match(following[k]):
            first, following = following[k].rstrip(), following[k + 1:]
    cont = [] if first.endswith("...") else _continuation(following, 0, _SUBJECT_END)
    if cont and not _MIXED_CASE_WORD.search(first):  # an upper-case subject does not go on into prose
        for k, line in enumerate(cont):
            if _PROSE.match(line):
                cont = cont[:k]
                break
    cut = next((k for k, line in enumerate(cont) if line.rstrip().endswith("...")), None)
    if cut is not None:  # a cut preview ends where it was cut
        cont = cont[: cut + 1]
    lines = [first] + cont
    # A blank line inside the subject (Markdown renderings put one between wrapped lines): a line ending
    # in "AND"/"OF"/a comma cannot end a subject, so the text after the blank line goes on.
    i = len(cont)
    while _dangling(lines[-1]):
        j = i
        while j < len(following) and j < i + 2 and not following[j].strip():
            j += 1
        if j == i or j >= len(following) or not following[j].strip() or _SUBJECT_END.match(following[j]):
            break
        more = _continuation(following, j, _SUBJECT_END)
        lines += more
        i = j + len(more)
    # A one-line block between the subject and the next landmark (REF, Classified By, paragraph 1), written
    # like the subject, is the subject's last wrapped line (pages that double-space or break the subject).
    j = i
    while j < len(following) and not following[j].strip():
        j += 1
    if j > i and j < len(following) and not lines[-1].rstrip().endswith(("...", ".")):
        line = following[j]
        k = j + 1
        while k < len(following) and not following[k].strip():
            k += 1
        upper = not _MIXED_CASE_WORD.search(" ".join(lines))
        if (k < len(following) and following[k].strip() and _SUBJECT_END.match(following[k]) and not _SUBJECT_END.match(line)
                and len(line.strip()) <= 70 and not line.rstrip().endswith(".")
                and (not upper or not _LOWER_LETTER.search(line)) and not _PROSE.match(line)):
            lines.append(line.rstrip())
    return lines


_TRAILING_PORTION_MARK = re.compile(r"[ \t]*\((?P<mark>U|C|S|SBU|TS|S/NF|C/NF|SBU/NF|U//FOUO)\)$")
"""A portion mark written after the subject instead of before it (``SUBJECT: VISIT OF X (C)``)."""


SubjectBlock = tuple[re.Match[str] | None, list[str]]
"""The SUBJECT line's match (at a line start) and the lines of the subject it opens (:func:`subject_block`)."""


def subject_block(top: str, found: TopLines | None = None) -> SubjectBlock:
    """The SUBJECT line at a line start and its lines: read once, for the SUBJECT and for a REF block
    squashed onto it. ``found``: the landmark lines of ``top``, when the caller has them."""
    m = found.subject if found is not None else line_search(SUBJECT_LINE, top, SUBJECT_FIRST)
    return m, (_subject_lines(top, m) if m else [])


def find_subject(top: str, preview: bool = False, block: SubjectBlock | None = None
                 ) -> tuple[str | None, str | None, str | None]:
    """(subject_raw, subject, portion mark) from the SUBJECT line(s). ``block``: :func:`subject_block` of
    ``top``, when the caller has it."""
    m, lines = block if block is not None else subject_block(top)
    if m is None:
        m = subject_glued(top)
        if not m:
            return None, None, None
        lines = _subject_lines(top, m)
    raw = "\n".join(line.rstrip() for line in lines).strip()
    low = raw.lower()
    for cut, hint in ((_INLINE_REF, _inline_ref_hint(raw, low)), (_SUBJECT_SQUASHED, _squashed_hint(raw, low))):
        # squashed pages: "SUBJECT: X  REF: A. BERN 100 ..." on one line (searched only when its words are there)
        inline = cut.search(raw) if hint else None
        if inline:
            raw = raw[: inline.start()].rstrip()
    if raw.endswith("...") and not preview:  # a cut-off preview; the page repeats the text further down
        later = find_subject(top[m.end():], preview=True)
        if later[0] and " ".join(later[0].split()).startswith(" ".join(raw[:-3].split())):
            return later
    joined = " ".join(raw.split())
    if joined.endswith(" ..."):  # the page's own truncation marker on a line of its own
        joined = joined[:-4]
    mark = None
    pm = PORTION_PREFIX.match(joined)
    if pm:
        mark = _BLANK.sub("", pm.group("mark")).upper()
        joined = joined[pm.end():]
    else:
        tm = _TRAILING_PORTION_MARK.search(joined) if joined.endswith(")") else None  # (joined: one line)
        if tm:
            mark = tm.group("mark")
            joined = joined[: tm.start()]
    return raw or None, joined.strip() or None, mark


def subject_glued(top: str) -> re.Match[str] | None:
    """``SUBJECT_GLUED.search(top)``: ASCII text is tried only where its lower-cased copy holds ``subj`` (the
    pattern opens with ``\\b``: it is tried at every character); other text is searched (``re.I`` lets ``ſ``
    stand for s)."""
    if top.isascii():
        return word_search(SUBJECT_GLUED, top, top.lower(), "subj")
    return SUBJECT_GLUED.search(top)


# A wrapped TAGS line whose first line does not end with a comma: the next line holds only tag codes
# (``TAGS: PREL PGOV ... IS`` / ``AF, XA``); caveat lines are not tags.
_TAG_CONTINUATION = re.compile(
    r"^[ \t]*(?!(?:SIPDIS|NOFORN|EXDIS|NODIS|LIMDIS|SENSITIVE|STADIS|E\.?O|REF|SUBJ)\b)[A-Z]{2,5}"
    r"(?:[ \t]*,?[ \t]+(?!(?:SIPDIS|NOFORN|EXDIS|NODIS|LIMDIS|SENSITIVE|STADIS)\b)[A-Z]{2,5})*[ \t,]*$"
)


_SUBJECT_GLUED_ON_TAGS = re.compile(r"\bSUBJ(?:ECT)?\s*:", re.I)
"""A SUBJECT label on the TAGS line: the tags end there (searched only when the value holds the word: in ASCII
text, its lower-cased copy holds ``subj``)."""


def find_tags(top: str) -> str | None:
    """The TAGS value as written (continuation lines joined when the line ends with a comma)."""
    m = keyword_search(TAGS_LINE, top, _TAGS_WORDS)
    if not m:
        return None
    value = (m.group("v") or m.group("v2") or m.group("v3") or "").rstrip()
    rest = top[m.end():].split("\n")[1:]
    one_per_line = not value.strip()  # ``TAGS:`` alone, then a tag a line, blank lines between (PDF text layers)
    i = 0
    while i < len(rest):
        if one_per_line and not rest[i].strip():
            j = i + 1
            while j < len(rest) and j <= i + 2 and not rest[j].strip():
                j += 1
            if j < len(rest) and _TAG_CONTINUATION.match(rest[j]):
                i = j
                continue
        if value.endswith(",") and PAGE_BREAK_LINE.match(rest[i]):  # a page break inside a wrapped TAGS line
            i += 1
            continue
        if not rest[i].strip() or SUBJECT_LINE.match(rest[i]):
            break
        if not (value.endswith(",") or _TAG_CONTINUATION.match(rest[i])):
            break
        value += ("\n" if value.endswith(",") or not value.strip() else ",\n") + rest[i].rstrip()
        i += 1
    # SUBJECT glued on the TAGS line
    sm = _SUBJECT_GLUED_ON_TAGS.search(value) if not value.isascii() or "subj" in value.lower() else None
    if sm:
        value = value[: sm.start()].rstrip()
    return value.strip() or None


_INLINE_REF = re.compile(
    r"[ \t]{2,}(?=(?:REFS?|REF\(S\)|REFTELS?)[ \t]*:)"
    # one space, or none (REF glued to the subject's last word: "AS UK PRIMEREF: A. LONDON 1939"), is enough
    # when a cable reference follows: "GOVERNMENT REF: A. STATE 118297", "IN RIO Ref(s): A) 08 RIO DE JAN 138"
    r"|(?:[ \t]|(?<=[A-Z]))(?=(?i:REF\(S\)|REFS?|REFTELS?)[ \t]*:[ \t]*(?:\(?[A-Za-z][.)][ \t]*)?(?:\d{2,4}[ \t]+)?"
    r"[A-Za-z][A-Za-z ]*[ \t]\d)"
)
# Other text squashed onto the SUBJECT line: the Classified By line, or paragraph 1 ("...PROBLEM  1.  (SECRET")
_SUBJECT_SQUASHED = re.compile(
    r"[ \t]+(?=CLASSIFIED[ \t]+BY\b|(?:ENTIRE[ \t]+TEXT[ \t]+)?SENSITIVE[ \t]+BUT[ \t]+UNCLASSIFIED\b)|[ \t]{2,}(?=1\.[ \t]+\S)"
    r"|[ \t]+(?=[A-Z]+[ \t]0{2,}\d+[ \t]+\d{3}(?:\.\d)?[ \t]+OF[ \t]+\d{3})",  # page-break residue
    re.I,
)




def _squashed_hint(raw: str, low: str) -> bool:
    """Words every _SUBJECT_SQUASHED match holds: (UN)CLASSIFIED, a paragraph's ``1.``, page residue's ``00`` after
    a blank (a year's ``2008`` is not it) (text that is not ASCII is always searched: ``re.I`` lets ``ſ`` and
    ``ı`` stand for s and i)."""
    return "classified" in low or "1." in raw or " 00" in raw or "\t00" in raw or not raw.isascii()


def _inline_ref_hint(raw: str, low: str) -> bool:
    """What every _INLINE_REF match holds: the word REF (``low``: ``raw`` lower-cased; R, E and F have no other
    letter that matches them case-blind) and the colon after it (``REFORM``, ``PREFERENCE`` have none)."""
    return "ref" in low and ":" in raw


_REF_LANDMARK = re.compile(
    r"^[ \t]*(?:[a-z_]{2,12}[ \t]*:|[A-Za-z_]{2,12}:[ \t]*$|\d{3,}[,\t]|\d{1,3}\.(?=\(|[A-Z][a-z])|VZCZC|[ZOPR]{2}[ \t]+R[A-Z]{3,}"
    r"|DE[ \t]+R[A-Z]{3,}|FM[ \t]+[A-Z]|-{3,}|\d{3}\.\d[ \t]+OF[ \t]+\d{3}|[A-Z .]+\d{3,8}[ \t]+\d{3}(?:\.\d)?[ \t]+OF"
    r"|(?:SIPDIS|NOFORN|EXDIS|NODIS|LIMDIS|STADIS)\b|(?i:" + LEVEL + r")(?:[ \t]|$))"
)
"""Lines that end a REF block beside :data:`_REF_BLOCK_END`: a ``key: value`` or csv row of the page's metadata, a
routing line, a caveat or banner line, teletype page residue, paragraph 1 written ``1.(C)``/``1.Summary``."""
_REF_LIKE = re.compile(r"\b[A-Z][A-Za-z'\-]{2,}(?:[ \t]+[A-Z][A-Za-z'\-]+)*[ \t]+\#?\d{2,7}\b|\(NOTAL\)|^[ \t]*\(?\d{1,2}[ \t]*\)")
"""A line that reads as (part of) a reference: a station and serial (``SAN JOSE 01875``), ``(NOTAL)``."""


_ENDS_IN_CAPITAL = re.compile(r"[A-Z][ \t]*$")
"""A REF line that ends in a capital letter (a station name whose serial wrapped onto the next line)."""


def _ref_continues(line: str, block: list[str]) -> bool:
    """An unlettered line goes on with the REF block when the block's last line cannot end there (``AND``, a
    comma, an open bracket) or when it is a short line citing a cable; a line of prose ends the block."""
    last = block[-1]
    if last.rstrip().endswith("..."):  # a cut preview ends where it was cut
        return False
    joined = " ".join(block)
    if _dangling(last) or joined.count("(") > joined.count(")"):
        return not _PROSE.match(line) or line.lstrip()[:1].islower()
    s = line.strip()
    if s[:1].isdigit() and _ENDS_IN_CAPITAL.search(last):  # the serial of a station wrapped to the next line
        return True
    return len(s) <= 60 and not _PROSE.match(line) and bool(_REF_LIKE.search(s))


# Lines that end a REF block (with :data:`_REF_LANDMARK`): the next landmark of the body header or the header.
_REF_BLOCK_END = re.compile(
    r"""^[ \t]*(?:
        CLASSIFIED[ \t]+BY | CLASSIFIED[ \t]*:                        # Classified By
      | \d{1,3}[ \t]*\.[ \t]                                         # paragraph 1.
      | -{3,} | ={3,}                                                # a rule
      | SUMMARY                                                      # the summary heading
      | \(\w{1,6}\)[ \t]*\w                                          # a portion-marked paragraph: (C) The
      | SUBJECT | E\.O\. | TAGS                                      # the next body-header keywords
      | \d+,\d                                                       # a csv row
      | (?-i:[a-z_]{2,12}:[ \t])                                     # a lower-case metadata key: value
      | (?-i:VZCZC | ZN[YR][ \t] | DE[ \t]+R[A-Z]{3}                 # routing lines (upper case only):
        | [OPRZ][ \t]+\d{6}Z | FM[ \t]+[A-Z]                          #   precedence + DTG, FM
        | (?:TO|INFO)[ \t]+R[A-Z]{3,}/)                              #   TO / INFO with a routing indicator
      | (?-x:""" + LEVEL + r""")[^\n]*\d{3}                          # a banner line with a number (page residue)
    )""",
    re.I | re.X,
)


_CLASSIFIED_BY_WORDS = re.compile(r"\bCLASSIFIED[ \t]+BY\b", re.I)
"""Where a REF block squashed onto the SUBJECT line ends: Classified By."""


def find_references(top: str, block: SubjectBlock | None = None, found: TopLines | None = None) -> str | None:
    """The REF block as written: the REF line, then lettered items and continuation lines up to a landmark
    (a paragraph, Classified By, SUMMARY, a metadata or routing line, the next body-header keyword) or a line
    of prose. Blank lines are not block ends (layouts add and drop them). A block cut short by a preview
    (``REF: A. 07 QUITO...``) gives way to the full block repeated further down. ``block``:
    :func:`subject_block` of ``top``, when the caller has it; ``found``: the landmark lines of ``top``."""
    m = found.ref if found is not None else line_search(REF_LINE, top, _REF_FIRST)
    if not m:
        subj, lines = block if block is not None else subject_block(top)
        joined = " ".join(lines) if subj else ""
        inline = _INLINE_REF.search(joined) if _inline_ref_hint(joined, joined.lower()) else None
        if inline:  # a REF block squashed onto the SUBJECT line
            refs = joined[inline.end():]
            cut = _CLASSIFIED_BY_WORDS.search(refs)
            return " ".join(refs[: cut.start() if cut else len(refs)].split()) or None
        return None
    lines = top[m.start():].split("\n")
    out = [lines[0].rstrip()]
    for line in lines[1:]:
        if not line.strip():
            continue
        if out[-1].rstrip().endswith("..."):
            break
        if _REF_CABLE_HINT.match(line):  # "(B) Sao Paulo 319": an item, not a portion-marked paragraph
            out.append(line.rstrip())
            continue
        if _REF_BLOCK_END.match(line) or _REF_LANDMARK.match(line):
            break
        if _REF_ITEM.match(line) or _ref_continues(line, out):
            out.append(line.rstrip())
            continue
        break
    raw = "\n".join(out).strip()
    if raw.endswith("..."):
        later = find_references(top[m.end():])
        shown = " ".join(raw[:-3].split())
        if later and " ".join(later.split()).startswith(shown):
            return later
    return raw or None
