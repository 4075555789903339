"""Line-anchored rules tried only on the lines that can hold them.

Most field rules are anchored at a line start (``re.M`` and ``^[ \\t]*`` then a keyword, a number, a level).
Scanning a whole cable with such a rule makes the regex engine try it at every character: Python's engine has
no fast skip for ``^``. Here a rule is given the first characters its line can start with (after blanks);
a small finder with a literal ``\\n`` prefix (which the engine scans for at C speed) jumps from one such line
to the next, and the rule itself is matched only there. The matches are the rule's own ``finditer`` /
``search`` matches, in the same order, with the same ``pos``/``endpos`` semantics.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from functools import cache


@cache
def _finder(first: str) -> re.Pattern[str]:
    """A line break, blanks, then one of ``first`` (a regex character-class body, e.g. ``0-9(``)."""
    return re.compile(r"\n[ \t]*[" + first + "]")


def line_matches(rx: re.Pattern[str], text: str, first: str, pos: int = 0, endpos: int | None = None
                 ) -> Iterator[re.Match[str]]:
    """``rx.finditer(text, pos, endpos)`` for a rule anchored at a line start whose line's first written
    character is one of ``first`` (a character-class body); only those lines are tried."""
    end = len(text) if endpos is None else min(endpos, len(text))
    after = pos  # matches do not overlap: a line inside the last match is not tried again
    if pos == 0 or (0 < pos <= len(text) and text[pos - 1] == "\n"):
        m = rx.match(text, pos, end)
        if m:
            after = m.end()
            yield m
    for c in _finder(first).finditer(text, pos, end):
        start = c.start() + 1
        if start < after:
            continue
        m = rx.match(text, start, end)
        if m:
            after = m.end() if m.end() > start else start + 1
            yield m


def line_heads(text: str, finder: re.Pattern[str]) -> Iterator[tuple[int, str, int]]:
    """``(line start, first written character, its offset)`` of the text's first line (after blanks; ``""`` for
    an empty text), then of every line that ``finder`` (``\\n[ \\t]*(<first characters>)``, the character captured)
    finds: the lines a one-pass reader of landmark lines dispatches on their first character
    (``_header.HeaderLines``, ``_body.TopLines``)."""
    first, at = text[:1], 0
    if first in (" ", "\t"):
        rest = text.lstrip(" \t")
        first, at = rest[:1], len(text) - len(rest)
    yield 0, first, at
    for c in finder.finditer(text):
        yield c.start() + 1, c.group(1), c.end() - 1


def line_search(rx: re.Pattern[str], text: str, first: str, pos: int = 0, endpos: int | None = None
                ) -> re.Match[str] | None:
    """``rx.search(text, pos, endpos)`` for a line-anchored rule (see :func:`line_matches`): its first match,
    without a generator (this is called a dozen times per cable)."""
    end = len(text) if endpos is None else min(endpos, len(text))
    if pos == 0 or (0 < pos <= len(text) and text[pos - 1] == "\n"):
        m = rx.match(text, pos, end)
        if m:
            return m
    for c in _finder(first).finditer(text, pos, end):
        m = rx.match(text, c.start() + 1, end)
        if m:
            return m
    return None


def line_sub(rx: re.Pattern[str], repl: str | Callable[[re.Match[str]], str], text: str, first: str) -> str:
    """``rx.sub(repl, text)`` for a line-anchored rule (see :func:`line_matches`); ``repl`` a plain string or, as
    for ``re.sub``, a function of the match."""
    out: list[str] = []
    last = 0
    for m in line_matches(rx, text, first):
        out += (text[last:m.start()], repl if isinstance(repl, str) else repl(m))
        last = m.end()
    return "".join(out) + text[last:] if out else text


def keyword_search(rx: re.Pattern[str], text: str, words: tuple[str, ...]) -> re.Match[str] | None:
    """``rx.search(text)`` for a rule whose every match starts at one of ``words`` (upper case; the text is
    compared upper-cased) or at the start of the line holding it after blanks only; only those places are tried.
    The places up to the first occurrence of the first word are tried first (the other words looked for in the
    text before it only): the match is most often there."""
    upper = text.upper()
    if len(upper) != len(text):  # upper-casing changed the offsets (``ß`` -> ``SS``): the plain scan
        return rx.search(text)
    bound = upper.find(words[0])
    m = _match_at_places(rx, text, upper, words, bound) if bound >= 0 else None
    return m if m is not None else _match_at_places(rx, text, upper, words, len(upper))


def _match_at_places(rx: re.Pattern[str], text: str, upper: str, words: tuple[str, ...], bound: int
                     ) -> re.Match[str] | None:
    """The first of :func:`keyword_search`'s places up to ``bound`` where ``rx`` matches: those of the words that
    start at ``bound`` or before (a word after ``bound`` adds no place before it: its line holds the word at
    ``bound``, so its line start is not one)."""
    places: set[int] = set()
    for word in words:
        end = bound + len(word)
        i = upper.find(word, 0, end)
        while i >= 0:
            line_start = upper.rfind("\n", 0, i) + 1
            places.add(i)
            if not upper[line_start:i].strip(" \t"):
                places.add(line_start)
            i = upper.find(word, i + 1, end)
    for i in sorted(places):
        m = rx.match(text, i)
        if m:
            return m
    return None


def word_search(rx: re.Pattern[str], text: str, low: str | None, word: str, pos: int = 0,
                endpos: int | None = None) -> re.Match[str] | None:
    """``rx.search(text, pos, endpos)`` for a case-insensitive rule whose every match starts with ``word``
    (lower case): only the places where ``low`` (``text.lower()``) holds the word are tried."""
    end = len(text) if endpos is None else min(endpos, len(text))
    if low is None or len(low) != len(text):
        return rx.search(text, pos, end)
    i = low.find(word, pos, end)
    while i >= 0:
        m = rx.match(text, i, end)
        if m:
            return m
        i = low.find(word, i + 1, end)
    return None


# ----------------------------------------------------------------------------- the typed lines of a body
PORTION_MARK = r"[A-Za-z]{1,4}(?:[ \t]*/{1,2}[ \t]*(?:REL[ \t]+(?:TO[ \t]+)?[A-Za-z][A-Za-z ,]{1,40}?|[A-Za-z]{1,6})){0,3}"
PARA = re.compile(
    r"^[ \t]*(?:\((?P<mark1>" + PORTION_MARK + r")\)[ \t]*)?(?P<num>\d{1,3})[ \t]*[.)]"
    r"(?:[ \t]+|(?=\(" + PORTION_MARK + r"\))|(?=[A-Z][a-z]))"  # "2. Text", "2.(C) Text", "6.Request feedback"
    r"(?:\((?P<mark>" + PORTION_MARK + r")\)[ \t]*)?",
    re.M,
)
"""A numbered paragraph's line: ``N. (X) text`` / ``(X) N. text`` / ``N) text`` (the number and marks; never
spans a line)."""
PARA_FIRST = "0-9("
"""The characters a paragraph line starts with (a number or the portion mark before it)."""
RULE = re.compile(r"^[ \t]*[-=_]{3,}[ \t]*$", re.M)
"""A rule line (``-----``, ``=====``, ``_____``)."""
RULE_FIRST = "-=_"
_RULE_HERE = re.compile(RULE.pattern.removeprefix("^"), re.M)
"""RULE without its line-start anchor: a rule from a given place (the start of a piece cut out mid-line)."""

_PAGE_AT = r"(?:PAGE[ \t]+(?!0*1\b)\d|Page[ \t]+\d)"
"""A teletype page header from page 2 on (``PAGE 02``) or a printed page number (``Page 2``), at a line's start."""
_PAGE_LINE = re.compile(r"[^\S\n]*" + _PAGE_AT)
_KINDS = re.compile(
    r"\n(?=[^\S\n]*[-=_0-9(P])(?:(?P<para>" + PARA.pattern.removeprefix("^") + r")|(?P<rule>[ \t]*[-=_]{3,}[ \t]*$)"
    r"|(?P<list>- )|(?P<page>[^\S\n]*" + _PAGE_AT + r"))",
    re.M,
)
"""The typed lines after a line break, one scan for all kinds (the engine looks for the ``\\n`` at C speed, a
line's first written character sends it to the kinds that can start so): a paragraph start (PARA), a rule line
(RULE), a Markdown list line (``- `` at the line's very start) or a page break line (page 2 on, blanks before it
allowed). A match never spans a line, so every line is seen."""

Para = tuple[int, int, str, "str | None"]
"""A paragraph start: (its line's start, the end of its number and mark, the number, the portion mark as written)."""


class BodyLines:
    """The typed lines of a cable's body, found once (:data:`_KINDS`) and read by every rule that wants them:
    the paragraph starts (the paragraphs, the end of the body header, the paragraph after a summary or
    comment heading) and the rule lines (dropped from the paragraph texts)."""

    __slots__ = ("text", "paras", "para_starts", "rules", "list_line", "page_break")

    def __init__(self, text: str) -> None:
        self.text = text
        paras: list[Para] = []
        rules: list[tuple[int, int]] = []
        self.list_line = False
        """A line after the first opens with ``- `` (a Markdown list line: ``"\\n- " in text``)."""
        self.page_break = _PAGE_LINE.match(text) is not None
        """A line opens (after whitespace) with a page header from page 2 on or a printed page number."""
        m = PARA.match(text)
        if m:
            paras.append((0, m.end(), m.group("num"), m.group("mark") or m.group("mark1")))
        else:
            r = RULE.match(text)
            if r:
                rules.append((0, r.end()))
        for m in _KINDS.finditer(text):
            kind = m.lastgroup
            if kind == "para":
                num, mark, mark1 = m.group("num", "mark", "mark1")
                paras.append((m.start() + 1, m.end(), num, mark or mark1))
            elif kind == "rule":
                rules.append((m.start() + 1, m.end()))
            elif kind == "list":
                self.list_line = True
            else:
                self.page_break = True
        self.paras = paras
        self.para_starts = [p[0] for p in paras]
        self.rules = rules

    def paras_from(self, pos: int) -> list[Para]:
        """The paragraph starts whose line starts at ``pos`` or later: ``line_matches(PARA, text, PARA_FIRST, pos)``
        (like it, PARA is also tried at ``pos`` itself when a line starts there, whatever its first character)."""
        if pos <= 0:
            return self.paras
        k = bisect_left(self.para_starts, pos)
        found = self.paras[k:]
        text = self.text
        if pos <= len(text) and text[pos - 1] == "\n" and (k == len(self.paras) or self.para_starts[k] != pos):
            m = PARA.match(text, pos)
            if m:
                found.insert(0, (pos, m.end(), m.group("num"), m.group("mark") or m.group("mark1")))
        return found

    def para_search(self, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        """``line_search(PARA, text, PARA_FIRST, pos, endpos)``: PARA tried at ``pos`` when a line starts there,
        then only on the paragraph lines after it (a match inside ``endpos`` is also one in the whole text: the
        pattern has no end anchor or negative look-around)."""
        text = self.text
        end = len(text) if endpos is None else min(endpos, len(text))
        if pos == 0 or (0 < pos <= len(text) and text[pos - 1] == "\n"):
            m = PARA.match(text, pos, end)
            if m:
                return m
        for k in range(bisect_left(self.para_starts, pos + 1), len(self.paras)):
            start = self.para_starts[k]
            if start >= end:
                break
            m = PARA.match(text, start, end)
            if m:
                return m
        return None

    def without_rules(self, a: int, b: int) -> str:
        """``line_sub(RULE, " ", text[a:b], RULE_FIRST)``: the piece with each rule line written as one space
        (its first line is the piece's own, cut at ``a``)."""
        text, rules = self.text, self.rules
        first = _RULE_HERE.match(text, a, b) if text[a:a + 1] in " \t-=_" else None
        k = bisect_left(rules, (a + 1,)) if rules else 0
        # a piece that ends mid-line (before a paragraph that starts mid-line): its last line, cut at ``b``, may
        # be a rule where the whole line is not
        tail = None
        if b < len(text) and text[b - 1] != "\n":
            s = text.rfind("\n", a, b) + 1
            if s > a and text[s:b].lstrip(" \t")[:1] in ("-", "=", "_"):
                tail = RULE.match(text, s, b)
        if first is None and tail is None and (k == len(rules) or rules[k][0] >= b):
            return text[a:b]
        # a rule cut at ``a`` ends before the typed rule lines after ``a`` start; a rule cut at ``b`` is the piece's
        # last line: the typed rule lines inside stop before it (its own typed line, when it is one, ends at ``b``
        # or later: written as the same one space)
        piece, _ = self.rules_as_spaces(a if first is None else first.end(), b if tail is None else tail.start(), k)
        return (" " if first is not None else "") + piece + (" " if tail is not None else "")

    def rules_as_spaces(self, a: int, b: int, k: int) -> tuple[str, int]:
        """``text[a:b]`` with each typed rule line from the ``k``-th on that lies inside it written as one space
        (``k``: the first rule line that starts after ``a``), and the index of the first rule line that starts at
        ``b`` or later: a walk over pieces in text order goes on from there. The one rule-joining loop of
        :meth:`without_rules` and of the paragraph pieces (:func:`etl.parse._paras._pieces`)."""
        text, rules = self.text, self.rules
        out: list[str] = []
        last = a
        n = len(rules)
        while k < n and rules[k][0] < b:
            s, e = rules[k]
            if s >= last and e <= b:
                out += (text[last:s], " ")
                last = e
            k += 1
        out.append(text[last:b])
        return "".join(out), k
