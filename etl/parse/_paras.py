"""Body text: paragraphs with portion marks, summary, comment, signature, caveats, Classified By."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

from etl.parse import _classified
from etl.parse._classif import despace
from etl.parse._lines import (
    PARA,
    PARA_FIRST,
    BodyLines,
    Para,
    line_matches,
    line_sub,
    word_search,
)
from etl.parse._text import plain_spaces, squash

_KNOWN_PORTION_MARK = r"U|C|S|TS|SBU|LOU|(?:U|C|S|TS|SBU)[ \t]*/{1,2}[ \t]*(?:NF|FOUO|N|REL[A-Z ,]*|FGI)(?:/{1,2}NF)?"
# A paragraph that starts mid-line, after the end of a sentence or a rule (``...Russia. 2. (C/NF) text``,
# ``----- 12. (C) text``, a paragraph glued onto the Classified By line): taken only with a known portion
# mark and only as the next number in sequence.
_PARA_MID = re.compile(
    # starts at the digits (cheap to scan); the whitespace and the non-digit before them are checked by hand
    r"(?<![\d.])(?P<num>\d{1,3})[.)][ \t]*\((?P<mark>" + _KNOWN_PORTION_MARK + r"|[A-Z /\-]{3,60}ENTIRE[ \t]+TEXT\.?)\)"
    r"[ \t]*(?=\S|\n)",
    re.I,
)


def _mid_line_paras(body: str, start: int) -> list[re.Match[str]]:
    """_PARA_MID matches, found from the opening parentheses (a regex scan from every digit is slow). The checks
    are written out (no call per parenthesis: a body holds dozens)."""
    out = []
    i = body.find("(", start)
    while i >= 0:
        j = i - 8 if i - 8 > start else start
        k = i - 1
        while k > j and body[k] in " \t":
            k -= 1
        # a "." or ")" right before (blanks aside), one to three digits before that (from ``j`` on): the number
        if k > j and body[k] in ".)" and body[k - 1].isdecimal():
            at = k - 1
            first = k - 3 if k - 3 > j else j
            while at > first and body[at - 1].isdecimal():
                at -= 1
            # whitespace before the number, not a line start (most are paragraphs at a line start: no regex for
            # them), and a character that is not a digit before that
            b = at - 1
            if b >= 0 and body[b] in " \t":
                while b >= 0 and body[b] in " \t":
                    b -= 1
                if b >= 0 and body[b] != "\n" and not body[b].isdigit():
                    m = _PARA_MID.match(body, at)
                    if m:
                        out.append(m)
        i = body.find("(", i + 1)
    return out


_UNNUMBERED = re.compile(
    r"^[ \t]*\((?P<mark>U|C|S|TS|SBU|LOU|(?:U|C|S|TS|SBU)[ \t]*/{1,2}[ \t]*(?:NF|FOUO|N|REL[A-Z ,]*|FGI)(?:/{1,2}NF)?)\)"
    r"[ \t]*[:.\-]?[ \t]*(?=\S)",
    re.M,
)
_MARK_OK = re.compile(r"^(?:U|C|S|TS|SBU|LOU|FOUO|NF|N|REL|FGI|ORCON|[A-Z]{1,4})(?:/{1,2}[A-Z]{1,6}){0,3}$")
_REDACTION = re.compile(r"xxxxx+")
"""The publisher's runs (XXXXXXXXXXXX, also xxxxxxxxxxxx and xxxxx in some pages), matched on the lower-cased
text: the literal prefix is scanned at C speed, where ``[Xx]{5,}`` is tried at every character."""

SUMMARY_START = re.compile(
    r"(?:BEGIN[ \t]+)?SUMMARY(?:[ \t]+AND[ \t]+(?:COMMENT|ACTION[ \t]+REQUEST|INTRODUCTION))?"
    r"[ \t]*(?:[:.\-]|$)",
    re.I | re.M,
)
# END SUMMARY, also split over two lines (``End`` / ``Summary.``) or with its heading's words
# (``END SUMMARY AND COMMENT``).
SUMMARY_END = re.compile(r"\bEND[ \t]*\n?[ \t]*(?:OF[ \t]+)?SUMMARY\b[ \t]*\.?", re.I)
_HEADER_LINE = re.compile(r"(?:\bTAGS?\b|\bSUBJECT\b|\bCLASSIFIED[ \t]+BY\b)[^\n]*", re.I)
_ENDS_WITH_END = re.compile(r"\bend\s*(?:of\s+)?$")
COMMENT_START = re.compile(r"(?:COMMENT|Comment)[ \t]*(?::|\.|-{1,2}|$)", re.M)
_COMMENT_WORD = re.compile("C(?:OMMENT|omment)")
"""COMMENT and Comment, where COMMENT_START can match: one scan for the ``C`` both words open with (the engine's
literal-prefix scan; a case-blind ``comment`` in the lower-cased text is found by a slower search)."""
COMMENT_END = re.compile(r"\bEND[ \t]*(?:OF[ \t]+)?COMMENT\b[ \t]*\.?", re.I)

# Last lines that are never a signer's name (matched on the upper-cased line, spaces collapsed): banner and
# caveat words, end marks, section words, release stamps, teletype residue.
_NOT_SIGNATURE = re.compile(
    r"""^(?:
        C[ ]?O[ ]?N[ ]?F[ ]?I[ ]?D[ ]?E[ ]?N[ ]?T[ ]?I[ ]?A[ ]?L            # the banner, letters spaced or not
      | S[ ]?E[ ]?C[ ]?R[ ]?E[ ]?T | UNCLAS(?:SIFIED)?
      | SIPDIS | NOFORN | SENSITIVE                                      # caveats
      | END(?:[ ]COMMENT|[ ]SUMMARY|[ ]TEXT)?\.?                         # END, END COMMENT.
      | BT | NNNN | NNN                                                  # teletype end-of-message marks
      | LIMITED[ ]OFFICIAL[ ]USE | FOR[ ]OFFICIAL[ ]USE[ ]ONLY | LIMITED[ ]OFFICIAL   # handling words
      | XXXXXXXX+                                                        # a redaction
      | UNQUOTE | QUOTE | TEXT | COMMENT | SUMMARY | NONE | ACTION[ ]REQUEST          # section words
      | [^A-Z0-9]+                                                       # no letter or digit (a rule, punctuation)
      | [A-Z]*VZCZ[A-Z]*                                                 # the start of the next routing header
      | DECLASSIFIED/RELEASED\b.* | SYSTEMATIC[ ]REVIEW\b.*              # declassification stamps
      | REVIEW[ ]\d{1,2}[ ][A-Z]{3}[ ]\d{4}                              #   REVIEW 20 MAR 2014
      | \d{4}[A-Z]+\d+[ ]*-[ ]*CLAS.*                                    # a cable id - CLASSIFICATION stamp
      | \*+[ ]*CURRENT[ ](?:HANDLING|CLASSIFICATION)\b.*                 # *** CURRENT CLASSIFICATION ***
      | PAGE[ ]\d{1,3}\b.*                                               # a teletype page break
    )$""",
    re.X,
)
# A signer written in mixed case (``Willeford``): only as the whole last line or right after "End comment."
_MIXED_CASE_SIGNER = re.compile(
    r"(?:^|\bEND[ \t]+(?:OF[ \t]+)?(?:COMMENT|SUMMARY|TEXT)\.?[ \t]+)(?P<sig>[A-Z][a-z][a-z'\-]+(?:[ \t]+[A-Z][a-z][a-z'\-]+){0,2})[ \t]*$",
    re.I,
)


def _mixed_case_signer(line: str) -> re.Match[str] | None:
    """``_MIXED_CASE_SIGNER.search(line)``: tried at the line's start, then, only when the line holds END (in any
    case; ``re.I`` lets no other letter stand for E, N or D), searched (a match after the start opens with END:
    the pattern, case-blind with no literal to scan for, is otherwise tried at every character of the line)."""
    m = _MIXED_CASE_SIGNER.match(line)
    if m is None and "end" in line.lower():
        m = _MIXED_CASE_SIGNER.search(line)
    return m


_MIXED_NOT_NAMES = frozenset(
    "THANKS THANK REGARDS MINIMIZE CONSIDERED UNCLASSIFIED CONFIDENTIAL SECRET SIPDIS NOFORN END COMMENT SUMMARY TEXT"
    " NONE ACTION REQUEST BEST SINCERELY".split()
)
_OPERATOR_NOTE = re.compile(r"^[ \t]*NOTE[ \t]+BY[ \t]+(?:OC/T|OCT|S/S-O|S/S|OPERATOR|PASSING|THE[ \t]+OC)\b.*", re.M | re.S)
_ONE_WORD_PERIOD = re.compile(r"^[A-Z][A-Z'\-]{2,}\.$")
_END_PREFIX = re.compile(r"^END[ \t]+(?:OF[ \t]+)?(?:COMMENT|SUMMARY|TEXT|QUOTE)\.?[ \t]*")
_SIGNER_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ'-. \t"
"""The characters of an _UPPER_CASE_SIGNER match (the name's capitals, apostrophes, hyphens and initials' periods,
the blanks around it)."""
_UPPER_CASE_SIGNER = re.compile(r"(?:^|(?<=[.!?\"')*/])[ \t]+)(?P<sig>[A-Z][A-Z'\-]+(?:[ \t]+(?:[A-Z][A-Z'\-]+|[A-Z]\.)){0,3})[ \t]*$")


def _word_start(word: str) -> str:
    """``\\bWORD`` for a word that opens with a word character, written literal first (``WORD(?<!\\wWORD)``): a
    pattern that opens with ``\\b`` is tried at every character, one that opens with a literal is scanned for."""
    return rf"{word}(?<!\w{word})"


def _whole_word(name: str) -> tuple[str, str, re.Pattern[str]]:
    """A caveat written as one word: its name is both the prefilter literal and the pattern (``\\bNAME\\b``)."""
    return name, name, re.compile(_word_start(name) + r"(?!\w)")


CAVEATS = (
    # (canonical name, a literal every match contains - a cheap prefilter -, the pattern); the order is the
    # order of a row's caveats
    _whole_word("SIPDIS"),
    ("NOFORN", "NO", re.compile(_word_start("NO") + r"(?:FORN|T[ \t]+RELEASABLE[ \t]+TO[ \t]+FOREIGN[ \t]+NATIONALS)(?!\w)")),
    _whole_word("EXDIS"),
    _whole_word("NODIS"),
    _whole_word("LIMDIS"),
    _whole_word("STADIS"),
    ("SENSITIVE", "SENSITIVE", re.compile(r"^[ \t]*SENSITIVE\b", re.M)),
    _whole_word("EFTO"),
    ("FOR OFFICIAL USE ONLY", "OFFICIAL", re.compile(_word_start("FOR") + r"[ \t]+OFFICIAL[ \t]+USE[ \t]+ONLY(?!\w)")),
    _whole_word("FGI"),
    _whole_word("WNINTEL"),
    ("NOCONTRACT", "CONTRACT", re.compile(_word_start("NO") + r"[ \t]?CONTRACT(?!\w)")),
    _whole_word("ORCON"),
    ("ROGER CHANNEL", "ROGER", re.compile(_word_start("ROGER") + r"(?!\w)")),
    ("CORRECTED COPY", "CORRECTED", re.compile(_word_start("CORRECTED") + r"[ \t]*COPY(?!\w)")),
    _whole_word("CHEROKEE"),
    ("DISSENT CHANNEL", "DISSENT", re.compile(_word_start("DISSENT") + r"[ \t]+CHANNEL(?!\w)")),
)
_REL_TO = re.compile(_word_start("REL") + r"(?:EASABLE)?[ \t]+TO[ \t]+(?P<to>[A-Z ,]{2,60})")


def _lines_of(body: str, lines: BodyLines | None) -> BodyLines:
    """The caller's typed lines when they are those of ``body``, else found now."""
    return lines if lines is not None and lines.text is body else BodyLines(body)


def paragraphs(body: str, start: int = 0, lines: BodyLines | None = None, plain: bool | None = None
               ) -> list[dict[str, object]]:
    """Numbered paragraphs ``N. (X) text`` / ``(X) N. text`` / ``N) text`` in sequence (an excerpt may start
    at any number; numbers out of sequence are text). Without numbers: paragraphs opened by a portion mark
    ``(C) text`` (number null). ``lines``, ``plain``: the body's typed lines and :func:`plain_spaces` of it,
    when the caller has them."""
    lines = _lines_of(body, lines)
    found = lines.paras_from(start)
    # the paragraph line starts, wanted only beside mid-line candidates (one cable in twenty has some)
    line_starts: set[int] | None = None
    candidates = _mid_line_paras(body, start) if "(" in body else []
    if candidates:
        line_starts = {p[0] for p in found}
        mid = [(m.start(), m.end(), m.group("num"), m.group("mark")) for m in candidates
               if m.start() not in line_starts]
        if mid:  # else the line matches are already in text order
            found = found + mid
            found.sort(key=lambda p: p[0])
    first = next((i for i, p in enumerate(found) if p[2] == "1"), 0)
    starts: list[Para] = []
    expect = -1
    for p in found[first:]:
        n = int(p[2])
        if line_starts is not None and p[0] not in line_starts:  # mid-line: strictly the next number
            ok = n == expect or (expect < 0 and n == 1)
        else:  # a gap in the numbering (paragraphs withheld, 8 -> 16) only with a portion mark
            ok = expect < 0 or n == expect or n == expect + 1 or (
                expect < n <= expect + 15 and p[3] is not None
            ) or (n == expect - 1 and n > 1)  # a number typed twice (6., 6., 7.)
        if ok:
            starts.append(p)
            expect = n + 1
    if not starts:
        unnumbered = _pairs(list(line_matches(_UNNUMBERED, body, "(", start)), len(body))
        return [
            {"number": None, "portion_mark": _mark(m.group("mark")), "text": text}
            for (m, _), text in zip(unnumbered, _para_texts(lines, [(m.end(), nxt) for m, nxt in unnumbered], plain), strict=True)
        ]
    ends = [p[0] for p in starts[1:]]
    ends.append(len(body))
    texts = _para_texts(lines, [(p[1], e) for p, e in zip(starts, ends, strict=True)], plain)
    return [
        {"number": int(p[2]), "portion_mark": _mark(p[3]), "text": text}
        for p, text in zip(starts, texts, strict=True)
    ]


def _pairs(ms: list[re.Match[str]], end: int) -> list[tuple[re.Match[str], int]]:
    return [(m, ms[i + 1].start() if i + 1 < len(ms) else end) for i, m in enumerate(ms)]


_REL_MARK = re.compile(r"[ \t]*(?P<sep>/{1,2})[ \t]*REL[ \t]+(?P<to>(?:TO[ \t]+)?[A-Za-z][A-Za-z ,]*)$", re.I)


@lru_cache(maxsize=4096)
def _mark(mark: str | None) -> str | None:
    """A portion mark as written -> its canonical form (cached: a cable's marks repeat)."""
    if mark is None:
        return None
    rel = _REL_MARK.search(mark)  # C/REL LIBYA, S//REL TO USA, GBR: the country list keeps its spaces
    if rel:
        head = mark[: rel.start()].replace(" ", "").replace("\t", "").upper()
        return f"{head}{rel.group('sep')}REL {' '.join(rel.group('to').upper().split())}" if head else None
    mark = mark.replace(" ", "").replace("\t", "").upper()
    return mark if _MARK_OK.match(mark) else None


def _para_texts(lines: BodyLines, spans: list[tuple[int, int]], plain: bool | None = None) -> list[str]:
    """The squashed text of each ``body[start:end]`` (rule lines dropped: the typed lines know them). When only
    spaces and line breaks separate words, all spans are squashed in one pass (joined by a NUL, which no run
    of spaces crosses)."""
    body = lines.text
    pieces = _pieces(lines, spans)
    if len(pieces) > 1 and _plain(body, plain) and "\0" not in body:
        return [t.strip(" ") for t in squash("\0".join(pieces), True).split("\0")]
    return [squash(t) for t in pieces]


def _pieces(lines: BodyLines, spans: list[tuple[int, int]]) -> list[str]:
    """``[lines.without_rules(a, b) for a, b in spans]`` (spans in text order), with one walk over the typed rule
    lines: a piece that starts with no blank or rule character (its first line, cut there, cannot be a rule) and
    ends at a line start (so does its last line) holds whole rule lines only, each written as one space."""
    text, rules = lines.text, lines.rules
    n = len(text)
    k = bisect_left(rules, (spans[0][0] + 1,)) if rules and spans else len(rules)
    if k == len(rules) or rules[k][0] >= spans[-1][1]:  # no rule line inside (most bodies)
        if not any(text[a:a + 1] in _RULE_OPENERS or (b < n and text[b - 1] != "\n") for a, b in spans):
            return [text[a:b] for a, b in spans]
        return [lines.without_rules(a, b) for a, b in spans]
    out = []
    nr = len(rules)
    for a, b in spans:
        if text[a:a + 1] in _RULE_OPENERS or (b < n and text[b - 1] != "\n"):
            out.append(lines.without_rules(a, b))
            continue
        while k < nr and rules[k][0] <= a:
            k += 1
        if k == nr or rules[k][0] >= b:
            out.append(text[a:b])
            continue
        piece, k = lines.rules_as_spaces(a, b, k)
        out.append(piece)
    return out


_RULE_OPENERS = " \t-=_"
"""The characters a rule line's text can start with (``""`` is ``in`` it too: an empty piece is checked)."""


_LEADING_PORTION_MARK = re.compile(r"^[ \t]*\((?:U|C|S|SBU|TS|[A-Z]{1,4}/{1,2}[A-Z]{1,4})\)[ \t]*")
"""The portion mark that opens a summary or comment span."""


def _clean_span(lines: BodyLines, a: int, b: int, plain: bool) -> str:
    """``text[a:b]`` without rule lines, paragraph numbers and its opening portion mark, blanks squashed (``plain``:
    :func:`plain_spaces` of the text). The rule lines are the typed lines'; the paragraph numbers are looked for
    only when a paragraph line starts inside the span or the span itself opens like one."""
    text = lines.without_rules(a, b)
    k = bisect_right(lines.para_starts, a)
    if (k < len(lines.para_starts) and lines.para_starts[k] < b) or PARA.match(text):
        text = line_sub(PARA, " ", text, PARA_FIRST)
    text = _LEADING_PORTION_MARK.sub("", text.strip())
    return squash(text, plain).strip(" :.-")


def _find_word(body: str, low: str, word: str, limit: int, i: int) -> re.Match[str] | None:
    """First heading ``word`` (found cheaply in the lower-cased text, confirmed with SUMMARY_START); ``i``: the
    first place of the word (``low.find(word, 0, limit)``)."""
    while i >= 0:
        if (i == 0 or body[i - 1] in " \t\n.)-") and not _ENDS_WITH_END.search(low, max(0, i - 8), i):
            m = SUMMARY_START.match(body, i)
            if m:
                return m
        i = low.find(word, i + 1, limit)
    return None


def _anywhere(low: str, word: str, limit: int, first: int) -> bool:
    """``word in low``, knowing ``first``, its first place before ``limit`` (``low.find(word, 0, limit)``): only the
    text from where the word could reach across ``limit`` on is scanned again."""
    return first >= 0 or low.find(word, max(0, limit - len(word) + 1)) >= 0


def summary(body: str, low: str | None = None, lines: BodyLines | None = None, plain: bool | None = None
            ) -> str | None:
    """Text between SUMMARY and END SUMMARY (or the end of that paragraph). ``low``, ``lines``, ``plain``: the
    body lower-cased, its typed lines and :func:`plain_spaces` of it, when the caller has them."""
    low = low if low is not None else body.lower()
    limit = max(6000, len(body) // 2)
    at = low.find("summary", 0, limit)
    m = _find_word(body, low, "summary", limit, at)
    if not m:
        e = word_search(SUMMARY_END, body, low, "end") if _anywhere(low, "summary", limit, at) else None
        if not e:
            return None
        # "END SUMMARY." without a start: the body text from its first paragraph (or, without a numbered
        # paragraph before the marker, the paragraph that ends with it) to the marker
        lines = _lines_of(body, lines)
        first = lines.para_search(0, e.start())
        while first and first.group("num") != "1":
            first = lines.para_search(first.end(), e.start())
        if first:
            para_start = first.start()
        else:  # after the body header's last line (TAGS / SUBJECT / Classified By), or the last blank line
            heads = list(_HEADER_LINE.finditer(body, 0, min(e.start(), 4000)))
            para_start = max(body.rfind("\n\n", 0, e.start()), heads[-1].end() if heads else 0, 0)
        return _clean_span(lines, para_start, e.start(), _plain(body, plain)) or None
    lines = _lines_of(body, lines)
    plain = _plain(body, plain)
    k = low.find("summary", m.end())
    e = word_search(SUMMARY_END, body, low, "end", max(m.end(), k - 12)) if k >= 0 else None
    if e and e.start() - m.end() < 8000:
        return _clean_span(lines, m.end(), e.start(), plain) or None
    nxt = lines.para_search(m.end() + 1)
    blank = body.find("\n\n", m.end() + 1)
    ends = [x for x in (nxt.start() if nxt else -1, blank) if x > m.end()]
    text = _clean_span(lines, m.end(), min(ends) if ends else len(body), plain)
    if not text and nxt:  # a SUMMARY heading over a rule: the paragraph under it
        after = lines.para_search(nxt.end() + 1)
        blank = body.find("\n\n", nxt.end() + 1)
        ends = [x for x in (after.start() if after else -1, blank) if x > nxt.end()]
        text = _clean_span(lines, nxt.end(), min(ends) if ends else len(body), plain)
    return text or None


def _plain(body: str, plain: bool | None) -> bool:
    return plain_spaces(body) if plain is None else plain


def comment(body: str, low: str | None = None, lines: BodyLines | None = None, plain: bool | None = None
            ) -> str | None:
    """Text between COMMENT and END COMMENT (the first one whose end is found), else the paragraph. ``low``,
    ``lines``, ``plain``: the body lower-cased, its typed lines and :func:`plain_spaces` of it, when the caller
    has them."""
    for c in _COMMENT_WORD.finditer(body):  # found one after the other: the scan stops at the comment taken
        i = c.start()
        if i > 0 and body[i - 1] not in " \t\n.)":
            continue
        if body[max(0, i - 4):i].upper().strip() == "END":
            continue
        m = COMMENT_START.match(body, i)
        if not m:
            continue
        lines = _lines_of(body, lines)
        plain = _plain(body, plain)
        e = word_search(COMMENT_END, body, low, "end", m.end(), m.end() + 8000)
        if e:
            text = _clean_span(lines, m.end(), e.start(), plain)
        else:
            nxt = lines.para_search(m.end() + 1)
            text = _clean_span(lines, m.end(), nxt.start() if nxt else len(body), plain)
        if text:
            return text
    return None


def _last_lines(tail: str) -> tuple[str | None, str | None]:
    """The last written line of ``tail`` that can be a signer's (lines of banner, caveat and end words below it
    skipped) and the written line before it, read from the end (only these two are wanted)."""
    last: str | None = None
    for ln in reversed(tail.split("\n")):
        ln = ln.strip().rstrip("\\\"#").rstrip()  # GILLESPIE## (end-of-text marks)
        if not ln:
            continue
        if last is not None:
            return last, ln
        if not _NOT_SIGNATURE.match(despace(ln).upper().strip()):
            last = ln
    return last, None


def signature(body: str) -> str | None:
    """Surname(s) in capitals on the last line (``BURNS``, ``VAN VOORST``)."""
    tail = body.rstrip()[-400:]
    note = _OPERATOR_NOTE.search(tail) if "NOTE" in tail else None
    if note:  # the communications center's note after the signer: "NOTE BY OC/T: HEADING AS RECEIVED."
        tail = tail[: note.start()]
    last, before = _last_lines(tail)
    if last is None:
        return None
    # a sentence ends before the last line (it is not a sentence's last word wrapped)
    after_sentence = before is None or before[-1:] in ".!?\"')"
    if _ONE_WORD_PERIOD.match(last) and after_sentence:
        last = last[:-1]  # MCNAMARA. under a finished sentence
    # every match lies in the line's tail of capitals, apostrophes, hyphens, periods and blanks: searched from there
    m = _UPPER_CASE_SIGNER.search(last, len(last.rstrip(_SIGNER_CHARS)))
    if not m:
        mixed = _mixed_case_signer(last)
        if (
            mixed
            and not set(mixed.group("sig").upper().split()) & _MIXED_NOT_NAMES
            # a whole line: the text before it ends a sentence (not a word wrapped onto the last line)
            and (mixed.start("sig") > 0 or (before is not None and after_sentence))
        ):
            return mixed.group("sig").upper()
        return None
    sig = _END_PREFIX.sub("", m.group("sig").strip())
    words = sig.split()
    if len(words) == 2 and words[0] == words[1]:  # SHANNON SHANNON (the name repeated on the last line)
        sig = words[0]
    if _NOT_SIGNATURE.match(sig) or len(sig) < 3 or sig in ("END", "USG", "GOR"):
        return None
    return sig


def redaction_count(body: str, low: str | None = None) -> int:
    """Runs of five or more x/X (``low``: the body lower-cased, when the caller has it)."""
    if low is None or len(low) != len(body):
        low = body.lower()
    return len(_REDACTION.findall(low))  # no ``in`` test first: the pattern's literal-prefix scan is the faster one


_ENTIRE_TEXT = re.compile(r"\(([A-Z /,\-]{3,80}?)[ \t]*-[ \t]*ENTIRE[ \t]+TEXT[ \t.]*\)", re.I)


_ENTIRE_HINT = re.compile("-[ \t]*ent[i\u0131]re")
"""What a whole-text marking (:data:`_ENTIRE_TEXT`) leaves in the lower-cased body: its dash, blanks and ENTIRE
(under ``re.I`` the I of ENTIRE is also the dotless and the dotted i, every other letter only its ASCII pair; the
dotted i, the only character whose lower case is two, is left out by the caller). A literal-prefix scan for the
dash, cheaper than a scan for the word, and found in few bodies."""


def _entire_text(body: str, low: str | None) -> re.Match[str] | None:
    """``_ENTIRE_TEXT.search(body, 0, 12000)`` when ``"ENTIRE" in body[:12000].upper()`` (the marking and its
    gate), looked for only where :data:`_ENTIRE_HINT` finds its trace in ``low``, the body lower-cased (when the
    caller has it and its places are the body's: as long as the body)."""
    if low is not None and len(low) == len(body) and _ENTIRE_HINT.search(low, 0, 12000) is None:
        return None
    return _ENTIRE_TEXT.search(body, 0, 12000) if "ENTIRE" in body[:12000].upper() else None


def caveats(head: str, body: str = "", low: str | None = None) -> list[str]:
    """Handling caveats named near the top of the body (before E.O./SUBJECT), in canonical spelling; also those
    of an old-style whole-text marking ``1. (SECRET/NOFORN/WNINTEL/NO CONTRACT/ORCON-ENTIRE TEXT)``."""
    text = despace(head).upper()
    whole = _entire_text(body, low)
    if whole:
        text += "\n" + whole.group(1).upper().replace("/", " ")
    out = [name for name, lit, rx in CAVEATS if lit in text and rx.search(text)]
    rel = _REL_TO.search(text) if "REL" in text else None
    if rel:
        out.append("REL TO " + " ".join(rel.group("to").split()).strip(" ,"))
    return out


_CB_NEAR = 2000
"""The head of a body that is not ASCII upper-cased first when looking for its Classified By line (the line is
in the body header: the first 800 characters of every such corpus body that has one)."""


def _find_classified_by(body: str, limit: int, start: int = 0, low: str | None = None) -> re.Match[str] | None:
    """``_CLASSIFIED_BY.search(body, start, limit)``, with a cheap upper-case substring scan first (on ``low``,
    the body lower-cased, when the body is ASCII: the same places). A body that is not ASCII is upper-cased
    (``ſ``, ``ı`` and ligatures read as ASCII letters) in its first :data:`_CB_NEAR` characters first, the rest
    only when the line is not there: upper-casing is done character by character, so the places found in the
    head of the text are those of the whole (the copy costs more than the scan)."""
    if low is not None and body.isascii():
        head, word, near = low, "classified", limit
    else:
        near = _CB_NEAR if _CB_NEAR < min(limit, len(body)) else limit
        head, word = body[:near].upper(), "CLASSIFIED"
    i = head.find(word, start, limit)
    while True:
        while i >= 0:
            m = _classified.CLASSIFIED_BY.match(body, i, limit)
            if m:
                return m
            start = i + 1
            i = head.find(word, start, limit)
        if near == limit:
            return None
        head, near = body[:limit].upper(), limit  # not in the head: the rest, from the last place tried on
        i = head.find(word, start, limit)


def classified_by(body: str, low: str | None = None) -> tuple[str | None, str | None, str | None, list[str]]:
    """(name, title, reason section 1.4/1.5, reason letters) of the Classified By line; when that line is cut
    off (``CLASSIFIED BY AMB JOHN E. HERBST,...``, a preview's ``Classified By: Cl...``), the next Classified By
    line (a page that repeats the text) fills in."""
    m = _find_classified_by(body, 12000, 0, low)
    if not m:
        return None, None, None, []
    chunk = _classified_chunk(body, m.end())
    name, title, section, letters = _classified.parse_line(chunk, m.end() - body.rfind("\n", 0, m.start()) - 1)
    if section is None and not letters:
        again = _find_classified_by(body, 12000, m.end(), low)
        if again:
            name2, title2, section, letters = _classified.parse_line(
                _classified_chunk(body, again.end()), again.end() - body.rfind("\n", 0, again.start()) - 1)
            cut = chunk.rstrip()
            if name is None or name.endswith(("...", "..")) or (cut.endswith("...") and cut[:-3].endswith(name)):
                name, title = name2, title2
    return name, title, section, letters


# Lines that end the Classified By block: a paragraph (``1. (C)``, ``1.(C)``, ``1.Summary``, ``(C) The UK...``),
# the next body-header keyword, a summary heading, a rule, a metadata or csv row, a routing, banner or caveat line.
_CB_END = re.compile(
    r"[ \t]*(?:\d{1,3}[ \t]*[.)](?:[ \t]|\(|[A-Z]|$)|\([A-Za-z]{1,4}(?:/{1,2}[A-Za-z]{1,6})*\)[ \t]*\S|(?i:REFS?|REFTELS?|REF\(S\))\b"
    r"|(?i:SUBJ(?:ECT)?|TAGS?|E\.[ \t]?O\.)|(?i:BEGIN[ \t]+)?SUMMARY\b|Summary\b|-{3,}|={3,}|[a-z_]{2,12}[ \t]*:|\d{3,}[,\t]"
    r"|VZCZC|DE[ \t]+R[A-Z]{3,}|(?:SIPDIS|NOFORN|EXDIS|NODIS|LIMDIS)\b|CLASS?I?FI?E?D[ \t]+BY\b)"
)
_CB_PARA = re.compile(r"[ \t]*\d{1,3}[ \t]*[.)](?:[ \t]|\(|[A-Z]|$)")
_CB_SKIP = re.compile(r"[ \t]*PAGE[ \t]+\d{1,3}\b")
"""Teletype page-break lines inside a wrapped Classified By line (``PAGE 02 RUEHFRA0170 S E C R E T``)."""
_CB_LETTERS = re.compile(
    r"[ \t]*(?:(?i:a?nd|or|&|,|/)[ \t]*)?\(?[a-hA-H]\)?(?:(?:[ \t]*(?i:,|and|or|&|/))*[ \t]*\(?[a-hA-H]\)?)*[ \t]*"
    r"(?:[.;,]?[ \t]*$|[.;][ \t]+\S)"
)
"""A line holding only reason letters (`` (b) and (d).``, ``AND (D)``): the letters wrapped onto the next line."""
_CB_SECTION = re.compile(r"1(?<![\d.]1)[ \t]*[.,][ \t]*[2-6](?!\d)")


def _classified_chunk(body: str, start: int) -> str:
    """The text of the Classified By line from ``start``, with the lines it wraps onto. Blank lines are not its
    end (layouts add and drop them): it ends at a landmark (:data:`_CB_END`), at a cut preview (``...``), and,
    once it has its E.O. section, at the first line that is not more reason letters; before the section, a
    wrapped line goes on when it states the reasons or is a short line of no prose (the name)."""
    eol = body.find("\n", start)
    if eol < 0:
        return body[start:]
    out = [body[start:eol]]
    pos = eol + 1
    limit = min(len(body), start + 600)
    pending: list[str] = []  # wrapped "who" lines, kept once a line states the reasons
    while pos < limit and len(out) + len(pending) < 5:
        nxt = body.find("\n", pos)
        nxt = len(body) if nxt < 0 else nxt
        line = body[pos:nxt]
        pos = nxt + 1
        if not line.strip() or _CB_SKIP.match(line):
            continue
        if (pending or out)[-1].rstrip().endswith("..."):
            break
        if _CB_SECTION.search(" ".join(out)):
            if not _CB_LETTERS.match(line):
                break
        elif _CB_PARA.match(line):
            break
        elif _classified.reason_stated(line):
            out += pending
            pending = []
        elif _CB_END.match(line) or len(line.strip()) > 72 or _PROSE_LINE.match(line) or len(pending) >= 2:
            break
        else:
            pending.append(line)
            continue
        out.append(line)
    out += [p for p in pending if len(p.strip()) <= 45]
    return "\n".join(out)


_PROSE_LINE = re.compile(r"^[ \t]*[A-Z]?[a-z]{2,}\b.*\b[a-z]{3,}\b")
