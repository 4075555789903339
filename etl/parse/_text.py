"""Text clean-up shared by the field parsers (line ends, Markdown residue, pilcrows)."""

from __future__ import annotations

import re
import sys
from functools import cache

from etl.parse._lines import BodyLines, line_search, line_sub

# Markdown residue: <u> tags, a bold paragraph number (**1**), a list-numbered line (- 1. text); each looked
# for by its own literal (one pattern of the three alternatives is tried at every character)
_MD_BOLD_NUMBER = re.compile(r"\*\*\d+\*\*")
_MD_LIST_LINE = re.compile(r"^- \d+\.\s", re.M)
_MD_U = re.compile(r"</?u>")
_MD_BOLD = re.compile(r"\*\*\d*\*\*")
_MD_LIST = re.compile(r"^-\s+1(\d{1,3}\.\s)", re.M)
_BLANKS = re.compile(r"\n[ \t]*\n+")
_PILCROW = re.compile(r"^([ \t]*)[\u00b6\ufffd]", re.M)
_HTML_TAG = re.compile(r"</?(?:a|u|b|i|br|p)\b[^>]*>", re.I)


@cache
def _literal(lit: str) -> re.Pattern[str]:
    return re.compile(re.escape(lit))


def contains(text: str, lit: str, pos: int = 0, endpos: int = sys.maxsize) -> bool:
    """``lit in text[pos:endpos]`` for a literal of several characters: the regex engine's prefix scan is about
    twice as fast as ``str``'s search when the literal ends with a frequent character (``"\\n- "``, ``"---"``)."""
    return _literal(lit).search(text, pos, endpos) is not None


def _markdown(text: str) -> bool:
    return ("<u>" in text or "</u>" in text or ("**" in text and _MD_BOLD_NUMBER.search(text) is not None)
            or line_search(_MD_LIST_LINE, text, "-") is not None)


def normalize(text: str, lines: BodyLines | None = None, cr: bool = True) -> str:
    """Plain-text form of a cable part: ``\\n`` line ends, no pilcrows, no Markdown/HTML residue. ``lines``: the
    part's typed lines, when the caller has them (they tell whether a line opens a Markdown list); ``cr``: False
    when the caller knows the text holds no CR."""
    if cr and "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # one-character checks first (a memchr scan); a longer literal's scan is several times slower
    if "\\" in text and "\\\n" in text:
        text = text.replace("\\\n", "\n")  # cables.csv-style escaped line ends leaked into some pages
    lt = "<" in text
    if lt:
        text = _HTML_TAG.sub("", text)
    if lines is not None and lines.text is not text:  # the typed lines are those of the text as it came
        lines = None
    list_line = lines.list_line if lines is not None else "-" in text and contains(text, "\n- ")
    if ((lt and "<u>" in text) or ("*" in text and "**" in text) or list_line
            or text.startswith("- ")) and _markdown(text):
        text = _MD_U.sub("", text)
        text = _MD_BOLD.sub("", text)
        text = _MD_LIST.sub(r"\1", text)
        # The Markdown rendering puts a blank line between every wrapped line: drop them.
        text = _BLANKS.sub("\n", text)
    if not text.isascii() and ("\u00b6" in text or "\ufffd" in text):
        text = drop_pilcrows(text)
    return text


_PILCROW_FIRST = "\u00b6\ufffd"


def drop_pilcrows(text: str) -> str:
    """``_PILCROW.sub(r"\\1", text)``: the pilcrow (or replacement character) opening a line dropped, its blanks
    kept; the rule is tried only on the lines that open with one (the pattern's ``^`` is tried at every character)."""
    return line_sub(_PILCROW, _blanks_kept, text, _PILCROW_FIRST)


def _blanks_kept(m: re.Match[str]) -> str:
    return m.group(1)


_ODD_SPACES = "\t\v\f\r\x1c\x1d\x1e\x1f"
"""ASCII whitespace other than the space and the line break (``str.split`` splits at these too)."""
_SPACE_RUN = re.compile("   *")
"""Two spaces or more, written as a two-space literal (the engine scans for it at C speed; ``"  +"`` has a
one-space prefix and stops at every word break)."""


_WIDE_SPACES = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
"""The whitespace characters beyond ASCII (``str.isspace``; ``str.split`` splits at these too)."""


def plain_spaces(text: str) -> bool:
    """Only spaces and line breaks separate the words of ``text`` (no tab, CR, form feed, no-break space...):
    then :func:`squash` of any part of it may take the fast way. Each character is looked for by its own
    one-character scan (a character-class regex is tried at every position)."""
    return not any(c in text for c in _ODD_SPACES) and (text.isascii() or not any(c in text for c in _WIDE_SPACES))


def squash(text: str, plain: bool = False) -> str:
    """Collapse runs of whitespace to one space and strip. ``plain`` (:func:`plain_spaces` said so for the
    text this is part of): line breaks become spaces and runs of spaces are found by a literal-prefix scan,
    about twice as fast as splitting into words."""
    if plain:
        return _SPACE_RUN.sub(" ", text.replace("\n", " ")).strip(" ")
    return " ".join(text.split())
