"""TAGS line: split into clean tags (space, comma or mixed separators; person tags in parentheses)."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\((?P<paren>[^)]*)\)?|(?P<word>[^\s,;()]+)")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9&\-]*$")
_DROP = frozenset({"SIPDIS", "TAGS", "TAG", "AND", "NOFORN"})


_CODE_SHAPE = re.compile(r"^(?:[A-Z]{2}|K[A-Z]{3}|[ABCELMOPST][A-Z]{3})$")


def _is_code(word: str, vocab: dict[str, str]) -> bool:
    return word in vocab or bool(_CODE_SHAPE.match(word))


def _phrases(raw: str) -> list[tuple[int, int]]:
    """Spans of comma-separated items that are one tag although they hold several words or a comma:
    topic phrases of non-code words (``INDIAN DOMESTIC POLITICS``, ``GOI EXTERNAL``) and person tags
    ``SURNAME, GIVEN NAMES`` (``STEINBERG, JAMES B.``). Items whose words are codes (``KPKO UN SU RS``) are
    left to be split."""
    if "," not in raw:
        return []
    from etl.parse._vocab import vocabulary

    vocab = vocabulary()
    items: list[tuple[int, int, list[str]]] = []
    pos = 0
    for item in raw.split(","):
        words = [w.strip(".:-").upper() for w in re.findall(r"[^\s,;()]+", item)]
        items.append((pos, pos + len(item), [] if "(" in item or ")" in item else words))
        pos += len(item) + 1

    def plain(words: list[str]) -> bool:
        return bool(words) and all(w.replace("-", "").replace("'", "").isalpha() for w in words) and not any(
            _is_code(w, vocab) for w in words)

    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(items):
        start, end, words = items[i]
        nxt = items[i + 1][2] if i + 1 < len(items) else []
        if len(words) == 1 and len(words[0]) >= 3 and plain(words) and 1 <= len(nxt) <= 3 and plain(nxt):
            spans.append((start, items[i + 1][1]))  # SURNAME, GIVEN NAMES
            i += 2
            continue
        if len(words) >= 2 and plain(words):
            spans.append((start, end))
        i += 1
    return spans


def split_tags(raw: str) -> list[str]:
    """Clean tags of a TAGS value, in order, without duplicates.

    ``PGOV, KPKO UN SU RS`` -> 5 tags (the peer gives 3). ``OVIP (CLINTON, HILLARY)`` ->
    ``OVIP``, ``CLINTON, HILLARY``. ``PREL, INDIAN DOMESTIC POLITICS, IN`` -> ``PREL``,
    ``INDIAN DOMESTIC POLITICS``, ``IN`` (a comma-separated phrase of non-code words is one topic tag).
    """
    found: list[tuple[int, str]] = []
    for start, end in _phrases(raw):
        text = raw[start:end]
        tag = ", ".join(" ".join(part.split()) for part in text.split(",")).strip(" ,.:-").upper()
        found.append((start, tag))
        raw = raw[:start] + " " * (end - start) + raw[end:]
    for m in _TOKEN.finditer(raw):
        paren = m.group("paren")
        if paren is not None:
            tag = " ".join(paren.replace(";", " ").replace(" ,", ",").split()).strip(" ,.").upper()
        else:
            tag = m.group("word").strip(".:-").upper()
        tag = tag.replace("(", "").replace(")", "").strip(" ,.:;-")
        found.append((m.start(), tag))
    out: list[str] = []
    seen: set[str] = set()
    for _, tag in sorted(found, key=lambda pt: pt[0]):
        if not tag or not any(c.isalnum() for c in tag) or tag in _DROP or tag in seen:
            continue
        seen.add(tag)
        out.append(tag)
    return out
