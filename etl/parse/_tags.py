"""TAGS line: split into clean tags (space, comma or mixed separators; person tags in parentheses)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from etl.parse._vocab import TYPOS, split_glued, vocabulary

PAGE_BREAK_LINE = re.compile(
    r"""^[ \t]*(?:$                                                        # a blank line
      | (?:C[ ]?O[ ]?N[ ]?F[ ]?I[ ]?D[ ]?E[ ]?N[ ]?T[ ]?I[ ]?A[ ]?L|S[ ]?E[ ]?C[ ]?R[ ]?E[ ]?T|UNCLAS(?:SIFIED)?
         |LIMITED[ ]OFFICIAL[ ]USE|SIPDIS|NOFORN)[ \t]*$                    # the classification repeated
      | PAGE[ \t]+\d{1,3}\b.*$                                            # PAGE 02 ANKARA 01234 01 OF 02 121212Z
      | [A-Z][A-Z .]*[ \t]0*\d{3,8}[ \t]+\d{3}(?:\.\d)?[ \t]+OF[ \t]+\d{3}[ \t]*$  # ANKARA 00001234 002 OF 003
    )""",
    re.X,
)
"""A line of teletype page-break residue (it may fall inside a wrapped TAGS line)."""
# Page-break residue run into a TAGS value: ``PREL PGOV PAGE 02 STATE 015113 182333Z``
_PAGE_BREAK_TEXT = re.compile(
    r"""\bPAGE[ \t]+\d{1,3}[ \t]+[A-Z][A-Z .]*?[ \t]\d{3,8}\b(?:[ \t]+\d{2}[ \t]+OF[ \t]+\d{2})?(?:[ \t]+\d{6}Z)?
      | \b[A-Z]{3,}[ \t]+0{2,}\d{3,6}[ \t]+\d{3}(?:\.\d)?[ \t]+OF[ \t]+\d{3}\b   # ANKARA 00001234 002 OF 003
      | \b(?:CONFIDENTIAL|UNCLASSIFIED|UNCLAS|SECRET)\b(?![ \t]*,[ \t]*[A-Z][a-z])  # the banner word repeated
    """,
    re.X,
)
_INITIAL = re.compile(r"^[A-Z]\.$")
_TOKEN = re.compile(r"\((?P<paren>[^)]*)\)?|(?P<word>[^\s,;()]+)")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9&\-]*$")
_DROP = frozenset({"SIPDIS", "TAGS", "TAG", "AND", "NOFORN"})


_PLAIN_CODES = re.compile(r"[A-Z0-9 \t\n,]*")
"""A TAGS value of upper-case codes, blanks and commas only (most are): its tags are its words, as written."""
_CODE_SHAPE = re.compile(r"^(?:[A-Z]{2}|K[A-Z]{3}|[ABCELMOPST][A-Z]{3})$")


def _is_code(word: str, vocab: dict[str, str]) -> bool:
    return word in vocab or bool(_CODE_SHAPE.match(word))


_ITEM_WORD = re.compile(r"[^\s,;()]+")
"""A word of a TAGS item (the text between commas)."""


def _phrases(raw: str) -> list[tuple[int, int, str | None]]:
    """Spans of comma-separated items that are one tag although they hold several words or a comma:
    topic phrases of non-code words (``INDIAN DOMESTIC POLITICS``, ``GOI EXTERNAL``) and person tags
    ``SURNAME, GIVEN NAMES`` (``STEINBERG, JAMES B.``). Items whose words are codes (``KPKO UN SU RS``) are
    left to be split."""
    vocab = vocabulary()
    if "," not in raw:  # space-separated words are separate tags, as the publisher links them (golden review)
        return []
    items: list[tuple[int, int, list[str]]] = []
    pos = 0
    for item in raw.split(","):
        words = [w.strip(".:-").upper() for w in _ITEM_WORD.findall(item)]
        items.append((pos, pos + len(item), [] if "(" in item or ")" in item else words))
        pos += len(item) + 1

    def plain(words: list[str]) -> bool:
        return bool(words) and all(w.replace("-", "").replace("'", "").isalpha() for w in words) and not any(
            _is_code(w, vocab) or split_glued(w, vocab) for w in words)

    def given_names(k: int) -> bool:
        """Item k is a person's given name: one word, then initials (``JAMES B.``), on the same line."""
        start, end, words = items[k]
        text = raw[start:end]
        return (bool(words) and "\n" not in text.strip(" ") and plain(words[:1])
                and all(_INITIAL.match(w + ".") and len(w) == 1 for w in words[1:]))

    spans: list[tuple[int, int, str | None]] = []
    i = 0
    while i < len(items):
        start, end, words = items[i]
        nxt = items[i + 1][2] if i + 1 < len(items) else []
        if (len(words) == 1 and len(words[0]) >= 3 and plain(words) and 1 <= len(nxt) <= 3 and given_names(i + 1)
                and nxt[0] != words[0] and "\n" not in raw[end:end + 2]):
            spans.append((start, items[i + 1][1], None))  # SURNAME, GIVEN NAMES
            i += 2
            continue
        if len(words) >= 2 and plain(words):
            spans.append((start, end, None))
        i += 1
    return spans


_ENDS_IN_INITIAL = re.compile(r"(?:^|[ ,])[A-Z]\.$")
"""A tag that ends in an initial (``STEINBERG, JAMES B.``): its period stays."""


def _keep_initial(tag: str) -> str:
    """A trailing period stays only on an initial (``STEINBERG, JAMES B.``)."""
    return tag if _ENDS_IN_INITIAL.search(tag) else tag.rstrip(".")


def split_tags(raw: str) -> list[str]:
    """Clean tags of a TAGS value, in order, without duplicates.

    ``PGOV, KPKO UN SU RS`` -> 5 tags (the peer gives 3). ``OVIP (CLINTON, HILLARY)`` ->
    ``OVIP``, ``CLINTON, HILLARY``. ``PREL, INDIAN DOMESTIC POLITICS, IN`` -> ``PREL``,
    ``INDIAN DOMESTIC POLITICS``, ``IN`` (a comma-separated phrase of non-code words is one topic tag).
    """
    if "PAGE" in raw or "OF" in raw or "CONF" in raw or "SECRET" in raw or "UNCLAS" in raw:
        raw = _PAGE_BREAK_TEXT.sub(lambda m: " " * len(m.group(0)), raw)
    if _PLAIN_CODES.fullmatch(raw):  # capitals, digits, blanks and commas only (most values)
        words = raw.replace(",", " ").split()
        if "," not in raw or all(_is_code(w, vocabulary()) for w in words):
            return _unique(words)  # no phrase (one is a comma-separated item of words that are not codes)
    phrases = _phrases(raw)
    found: list[tuple[int, str]] = []
    for start, end, override in phrases:
        text = raw[start:end]
        tag = override or _keep_initial(", ".join(" ".join(part.split()) for part in text.split(",")).strip(" ,:-").upper())
        found.append((start, tag))
        raw = raw[:start] + " " * (end - start) + raw[end:]
    for m in _TOKEN.finditer(raw):
        paren = m.group("paren")
        if paren is not None:
            tag = _keep_initial(" ".join(paren.replace(";", " ").replace(" ,", ",").split()).strip(" ,").upper())
        else:
            tag = m.group("word").strip(".:-").upper()
        tag = tag.replace("(", "").replace(")", "")
        tag = tag.strip(" ,:;-") if _ENDS_IN_INITIAL.search(tag) else tag.strip(" ,.:;-")
        found.append((m.start(), tag))
    return _unique(tag for _, tag in sorted(found, key=lambda pt: pt[0])
                   if tag and (tag.isalnum() or any(c.isalnum() for c in tag)))


def _unique(tags: Iterable[str]) -> list[str]:
    """The tags in order, without repeats and without the words that are not tags (SIPDIS, TAGS, AND...)."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        if tag in _DROP or tag in seen:
            continue
        seen.add(tag)
        out.append(tag)
    return out


_NOT_AS_WRITTEN = frozenset(TYPOS) | _DROP
"""Words a known code is not taken as written for: typo fixes (``RU`` -> RS) and the words that are not tags."""


def known_details(raw: str, vocab: dict[str, str]) -> tuple[tuple[str, str, str], ...] | None:
    """The (tag, kind, raw token) rows of a TAGS value of known codes only (``PREL, PGOV, IT``; most values), else
    None. Such a value is one :func:`split_tags` takes word by word (no page-break residue, no phrase: every word
    is a code) and :func:`etl.parse._vocab.tag_details` takes as written (each word a known tag, none a typo):
    its rows are read off the vocabulary in one pass, without the two."""
    if not _PLAIN_CODES.fullmatch(raw) or (
            "PAGE" in raw or "OF" in raw or "CONF" in raw or "SECRET" in raw or "UNCLAS" in raw):
        return None
    words = (raw.replace(",", " ") if "," in raw else raw).split()
    if not _NOT_AS_WRITTEN.isdisjoint(words):
        return None
    try:
        return tuple({w: (w, vocab[w], w) for w in words}.values())  # (each word once, where it first stands)
    except KeyError:  # a word the vocabulary does not know
        return None
