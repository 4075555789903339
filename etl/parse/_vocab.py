"""TAGS vocabulary (schemas/vocabularies/tags.csv): tag kinds, glued-tag splitting, typo fixes."""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from etl._resources import resource_dir

TYPOS = {
    "POGOV": "PGOV", "PGOC": "PGOV", "PGOVE": "PGOV", "PREL.": "PREL", "PRELL": "PREL", "PRL": "PREL",
    "PHUMA": "PHUM", "PTERR": "PTER", "MOPPS": "MOPS", "SYR": "SY", "RU": "RS", "ECONOMIC": "ECON",
    "ETRDE": "ETRD", "EFINN": "EFIN", "SENVV": "SENV", "KTFIN": "KTFN", "UNGA-": "UNGA", "ECNO": "ECON",
    "PINSS": "PINS", "EAIDS": "EAID", "SMIGG": "SMIG", "PGOVPREL": "PGOV PREL",
}
_PERSON = re.compile(r"^[A-Z][A-Z'\-]+,[ \t]*[A-Z]")
_CATEGORY = frozenset("ABCELMOPST")


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, str]:
    """tag -> kind from schemas/vocabularies/tags.csv (empty if the file is missing)."""
    try:
        path = resource_dir("schemas") / "vocabularies" / "tags.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            return {row["tag"]: row["kind"] for row in csv.DictReader(fh) if row.get("tag")}
    except (OSError, KeyError, csv.Error):
        return {}


_PROGRAM = re.compile(r"K[A-Z]{3}")


def kind_of(tag: str) -> str:
    vocab = vocabulary()
    if tag in vocab:
        return vocab[tag]
    if _PERSON.match(tag):
        return "person"
    if _PROGRAM.fullmatch(tag):
        return "program"
    return "other"


def split_glued(tag: str, vocab: dict[str, str]) -> list[str] | None:
    """``VTPREL`` -> VT, PREL; ``ECONEFIN`` -> ECON, EFIN (all parts must be known tags of 2-5 letters)."""
    n = len(tag)
    if n < 4 or not tag.isalpha():
        return None
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        cur = best[i]
        if cur is None:
            continue
        for size in (4, 2, 5, 3):
            part = tag[i:i + size]
            if len(part) == size and part in vocab:
                cand = cur + [part]
                nxt = best[i + size]
                if nxt is None or len(cand) < len(nxt):
                    best[i + size] = cand
    parts = best[n]
    # two-letter codes glue by chance (ECIN = EC + IN): require a subject/program tag among the parts
    if not parts or len(parts) < 2 or all(len(p) < 4 for p in parts):
        return None
    return parts


def fix_tags(tags: list[str]) -> list[dict[str, str]]:
    """tag_details: each clean tag with its kind and the raw token it came from (glued/typo tokens fixed)."""
    return [{"tag": tag, "kind": kind, "raw": raw} for tag, kind, raw in tag_details(tags)]


def tag_details(tags: list[str]) -> tuple[tuple[str, str, str], ...]:
    """(tag, kind, raw token) of each clean tag: the rows of :func:`fix_tags`."""
    vocab = vocabulary()
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for raw in tags:
        fixed = TYPOS.get(raw)
        if not fixed and raw in vocab:  # a known tag as written (most): its kind from the vocabulary
            if raw not in seen:
                seen.add(raw)
                out.append((raw, vocab[raw], raw))
            continue
        parts: list[str]
        if fixed:
            parts = fixed.split()
        elif not vocab:
            parts = [raw]
        else:
            parts = split_glued(raw, vocab) or [raw]
        for tag in parts:
            if tag in seen:
                continue
            seen.add(tag)
            out.append((tag, kind_of(tag), raw))
    return tuple(out)
