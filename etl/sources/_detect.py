"""Format detection from content (magic bytes and the first KBs), never from file names.

:func:`detect_container` recognises compressed streams and archives by their magic bytes;
:func:`detect_format` recognises the record formats. Unknown content gives ``"unknown"``; binary content
that is no known container gives ``"binary"``.
"""

from __future__ import annotations

import re

from etl.sources._text import looks_binary

# -- containers -------------------------------------------------------------------------------------

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # empty archive
    (b"PK\x07\x08", "zip"),  # spanned marker
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
)

CONTAINERS = frozenset({"zip", "gzip", "bz2", "xz", "zstd", "7z", "tar"})
"""Formats that hold other files/streams (opened by :mod:`etl.sources._archive`)."""


def detect_container(head: bytes) -> str | None:
    """Container kind of a stream starting with ``head`` (needs >= 262 bytes for tar), or ``None``."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "bz2" and (len(head) < 4 or head[3:4] not in b"123456789"):
                continue
            return kind
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if len(head) >= 512 and _old_tar(head[:512]):
        return "tar"
    return None


def _old_tar(block: bytes) -> bool:
    """Pre-POSIX (v7) tar header: check the header checksum field."""
    try:
        stored = int(block[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
    return stored == computed and block[0] != 0


# -- record formats -------------------------------------------------------------------------------

_CSV_ROW = re.compile(rb'(?m)^"\d+","\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}","')
_JSON_START = re.compile(rb'^\s*[\[{]')
_JSON_CABLE_KEY = re.compile(rb'"(?:_id|body|date_time|origin|classification)"\s*:')
_HTML = re.compile(rb"<(?:!doctype html|html|head|body|div|table|p|pre|h[1-6]|title)\b")
"""Matched against lower-cased bytes (case-insensitive regexes are slow on 64 KB heads)."""
_CABLEGATE = (b"viewing cable ", b"<table class='cable'", b'<table class="cable"', b"<title>cable viewer</title>",
              b"cablegate")
_PLUSD = (b'id="synopsis"', b"id='synopsis'", b'id="tagged-text"', b"id='tagged-text'", b"/plusd/")
_MD = re.compile(r"(?m)(\*\*[^*\n]{1,40}\*\*|</?u>|^#{1,6} \S|^[-*+] 1\d{1,2}\. |^```|\[[^\]\n]{1,80}\]\([^)\s]{1,200}\))")
"""Markdown landmarks that telegram text does not have (plain ``- `` bullets do occur in telegrams)."""

_CABLE_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("VZCZC", re.compile(r"(?m)^\s*VZCZC[A-Z]{2,4}\d*")),
    ("FM line", re.compile(r"(?m)^\s*(?:FM|FROM) [A-Z]")),
    ("TO line", re.compile(r"(?m)^\s*TO [A-Z]")),
    ("TAGS", re.compile(r"(?im)TAGS?:")),
    ("SUBJECT", re.compile(r"(?im)SUBJ(?:ECT)?:")),
    ("E.O.", re.compile(r"(?im)E\. ?O\. ?1\d{4}")),
    ("DTG", re.compile(r"(?m)\b\d{6}Z [A-Z][A-Za-z]{2} \d{2}\b")),
    ("DE line", re.compile(r"(?m)^\s*DE R[A-Z]{3,}")),
    ("ZNY/ZNR", re.compile(r"(?m)^\s*ZN[YR] [A-Z]{5}")),
    ("banner", re.compile(r"(?m)\b(?:C O N F I D E N T I A L|S E C R E T|UNCLAS|CONFIDENTIAL|SECRET)\b")),
    ("PAGE line", re.compile(r"(?m)^\s*PAGE 0\d\b")),
    ("Classified By", re.compile(r"(?im)Classified By:")),
)


def cable_marker_count(text: str) -> int:
    """How many distinct telegram landmarks (DTG, FM/TO, TAGS, SUBJECT, E.O., banner...) ``text`` shows."""
    return sum(1 for _, marker in _CABLE_MARKERS if marker.search(text))


def landmarks(text: str) -> list[str]:
    """The telegram landmarks ``text`` shows, each with the line of its first occurrence (``DTG (line 9)``):
    what a quarantine row names so that a user can tell a non-cable from a layout the parser missed."""
    found = []
    for name, marker in _CABLE_MARKERS:
        m = marker.search(text)
        if m:
            found.append((m.start(), f"{name} (line {text.count(chr(10), 0, m.start()) + 1})"))
    return [label for _, label in sorted(found)]


def detect_format(head: bytes) -> str:
    """Format of a (decompressed) file from its first bytes.

    One of ``pdf``, ``plusd-html``, ``cablegate-html``, ``html`` (a page without a cable), ``csv``
    (cables.csv layout), ``jsonl``, ``markdown``, ``text``, ``binary``, ``empty``, ``unknown``.
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return "empty"
    if stripped.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if looks_binary(head[:8192]):
        return "binary"
    if stripped.startswith(b"<") and (_HTML.search(head[:4096].lower()) or stripped.startswith(b"<?xml")):
        # a page starts with markup: prose that merely quotes a tag (a README) is not a page
        low = head.lower()
        if any(marker in low for marker in _PLUSD):
            return "plusd-html"
        if any(marker in low for marker in _CABLEGATE):
            return "cablegate-html"
        return "html"
    if _CSV_ROW.search(head[:65536]):
        return "csv"
    if _JSON_START.match(stripped) and _JSON_CABLE_KEY.search(head[:65536]):
        return "jsonl"
    text = head.decode("utf-8", errors="replace")
    if cable_marker_count(text) >= 2:
        return "markdown" if len(_MD.findall(text)) >= 2 else "text"
    return "unknown"
