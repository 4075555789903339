"""Text clean-up shared by the field parsers (line ends, Markdown residue, pilcrows)."""

from __future__ import annotations

import re

_MD_HINT = re.compile(r"</?u>|\*\*\d+\*\*|^- \d+\.\s", re.M)
_MD_U = re.compile(r"</?u>")
_MD_BOLD = re.compile(r"\*\*\d*\*\*")
_MD_LIST = re.compile(r"^-\s+1(\d{1,3}\.\s)", re.M)
_BLANKS = re.compile(r"\n[ \t]*\n+")
_PILCROW = re.compile(r"^([ \t]*)[\u00b6\ufffd]", re.M)
_HTML_TAG = re.compile(r"</?(?:a|u|b|i|br|p)\b[^>]*>", re.I)


def normalize(text: str) -> str:
    """Plain-text form of a cable part: ``\\n`` line ends, no pilcrows, no Markdown/HTML residue."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\\\n" in text:
        text = text.replace("\\\n", "\n")  # cables.csv-style escaped line ends leaked into some pages
    if "<" in text:
        text = _HTML_TAG.sub("", text)
    if ("<u>" in text or "**" in text or "\n- " in text or text.startswith("- ")) and _MD_HINT.search(text):
        text = _MD_U.sub("", text)
        text = _MD_BOLD.sub("", text)
        text = _MD_LIST.sub(r"\1", text)
        # The Markdown rendering puts a blank line between every wrapped line: drop them.
        text = _BLANKS.sub("\n", text)
    if "\u00b6" in text or "\ufffd" in text:
        text = _PILCROW.sub(r"\1", text)
    return text


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space and strip."""
    return " ".join(text.split())
