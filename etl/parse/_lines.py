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
from collections.abc import Iterator
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


def line_sub(rx: re.Pattern[str], repl: str, text: str, first: str) -> str:
    """``rx.sub(repl, text)`` (``repl`` a plain string) for a line-anchored rule (see :func:`line_matches`)."""
    out: list[str] = []
    last = 0
    for m in line_matches(rx, text, first):
        out += (text[last:m.start()], repl)
        last = m.end()
    return "".join(out) + text[last:] if out else text


def keyword_search(rx: re.Pattern[str], text: str, words: tuple[str, ...]) -> re.Match[str] | None:
    """``rx.search(text)`` for a rule whose every match starts at one of ``words`` (upper case; the text is
    compared upper-cased) or at the start of the line holding it after blanks only; only those places are tried."""
    upper = text.upper()
    if len(upper) != len(text):  # upper-casing changed the offsets (``ß`` -> ``SS``): the plain scan
        return rx.search(text)
    places: set[int] = set()
    for word in words:
        i = upper.find(word)
        while i >= 0:
            line_start = upper.rfind("\n", 0, i) + 1
            places.add(i)
            if not upper[line_start:i].strip(" \t"):
                places.add(line_start)
            i = upper.find(word, i + 1)
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
