"""Plain-text cables (raw telegram text) and their Markdown rendering.

The whole cable text goes into ``body`` with ``header = ""``: splitting header from body is the parser's
job. Bytes are decoded per cable with :func:`etl.sources._text.decode` (UTF-8, then cp1252, then latin-1);
when a cable mixes encodings line by line (valid UTF-8 lines among cp1252 ones) each line is decoded on its
own and the encoding is recorded as ``utf-8+cp1252``. Line ends become ``\\n``; a pilcrow opening a line
is removed.

A file whose line ends are all CR is read line by line at its CRs. Several cables in one file are split: a cable starts at a ``VZCZC...`` start-of-message line and ends after
an ``NNNN`` end-of-message line; text before the first ``VZCZC`` belongs to the first cable. A file with no
such markers is one cable.

Markdown renderings (``<u>`` tags, ``**1**`` bold paragraph anchors, list-numbered paragraphs ``- 11. (C)``,
meaning list item + anchor ``1`` + paragraph ``1.``) are brought back to telegram text: tags and emphasis
markers removed, the list marker and the rendered anchor dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._detect import cable_marker_count, landmarks
from etl.sources._model import RawRecord
from etl.sources._text import decode, normalize_newlines, strip_paragraph_pilcrows

_START = re.compile(rb"^\s*VZCZC")
_END = re.compile(rb"^\s*NNNN\s*$")


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Yield every cable of a plain-text dump."""
    yield from _read(ctx, stream, "text")


def read_markdown(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Yield every cable of a Markdown rendering."""
    yield from _read(ctx, stream, "markdown")


def _read(ctx: Context, stream: BinaryIO, fmt: str) -> Iterator[RawRecord]:
    limit = ctx.limits.max_record_bytes
    lines: list[bytes] = []
    size = 0
    start = offset = 0
    oversized = False
    seen_start = False
    for line in _lines(stream, limit):
        if len(line) > limit and not line.endswith(b"\n"):
            # a giant line: report it, skip to its end, keep reading after it
            yield ctx.error("line_too_long", f"line longer than {limit} bytes", f"byte {offset}", fmt)
            skipped = len(line)
            while True:
                rest = stream.readline(1024 * 1024)
                skipped += len(rest)
                if not rest or rest.endswith(b"\n"):
                    break
            offset += skipped
            continue
        if _START.match(line):
            if seen_start and _has_text(lines):  # lines before a cable's VZCZC (its preamble) belong to it
                yield from _emit(ctx, lines, start, fmt, oversized)
                lines, size, start, oversized = [], 0, offset, False
            seen_start = True
        if size + len(line) > limit:
            oversized = True
        else:
            lines.append(line)
            size += len(line)
        offset += len(line)
        if _END.match(line):
            yield from _emit(ctx, lines, start, fmt, oversized)
            lines, size, start, oversized, seen_start = [], 0, offset, False, False
    if _has_text(lines) or (start == 0 and offset == 0):
        yield from _emit(ctx, lines, start, fmt, oversized)


def _lines(stream: BinaryIO, limit: int) -> Iterator[bytes]:
    """The stream's lines; a text whose line ends are all CR (classic Mac) is split at the CRs."""
    line = stream.readline(limit + 1)
    if b"\r" in line.rstrip(b"\r") and b"\n" not in line:
        yield from _cr_lines(line, stream, limit)
        return
    while line:
        yield line
        line = stream.readline(limit + 1)


def _cr_lines(buf: bytes, stream: BinaryIO, limit: int) -> Iterator[bytes]:
    while True:
        *lines, buf = buf.split(b"\r")
        for line in lines:
            yield line + b"\n"
        if len(buf) > limit:  # one line longer than a record may be: the reader sets the record aside
            yield buf + b"\n"
            buf = b""
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        buf += chunk
    if buf:
        yield buf


def _has_text(lines: list[bytes]) -> bool:
    return any(line.strip() for line in lines)


def _emit(ctx: Context, lines: list[bytes], start: int, fmt: str, oversized: bool) -> Iterator[RawRecord]:
    location = f"byte {start}"
    if not _has_text(lines):
        if start == 0:
            yield ctx.error("empty", "file has no text", location, fmt)
        return
    data = b"".join(lines)
    text, encoding = decode_lines(lines)
    if oversized:
        yield ctx.error("record_too_large", f"cable larger than {ctx.limits.max_record_bytes} bytes",
                        location, fmt, raw=text, encoding=encoding)
        return
    if b"\x00" in data:
        yield ctx.error("nul_bytes", f"{data.count(0)} NUL byte(s) in the text", location, fmt,
                        raw=text.replace("\x00", "\\x00"), encoding=encoding)
        return
    body = normalize_newlines(text)
    if fmt == "markdown":
        body = markdown_to_text(body)
    body = strip_paragraph_pilcrows(body)
    if cable_marker_count(body) < 2:
        seen = landmarks(body)
        yield ctx.error("no_cable", "text without telegram landmarks (DTG, FM/TO, TAGS, SUBJECT, banner); seen: "
                        + (", ".join(seen) or "none"), location, fmt, raw=text, encoding=encoding)
        return
    yield RawRecord(lineage=ctx.lineage(location, fmt, encoding), header="", body=body, raw=text)


def decode_lines(lines: list[bytes]) -> tuple[str, str]:
    """Decode a cable; fall back to per-line decoding when UTF-8 and cp1252 lines are mixed."""
    data = b"".join(lines)
    text, encoding = decode(data)
    if encoding == "utf-8" or encoding == "utf-8-sig":
        return text, encoding
    decoded: list[str] = []
    used: set[str] = set()
    for line in lines:
        part, enc = decode(line)
        decoded.append(part)
        if line.isascii():
            continue
        used.add(enc)
    if len(used) > 1:
        order = ["utf-8", "utf-8-sig", "cp1252", "latin-1"]
        return "".join(decoded), "+".join(e for e in order if e in used)
    return text, encoding


_MD_TAG = re.compile(r"</?(?:u|b|i|em|strong|span|sup|sub)\b[^>]*>", re.I)
_MD_ANCHOR_BOLD = re.compile(r"\*\*\d{1,3}\*\*(?=[A-Z0-9(])")
_MD_LIST_ANCHOR = re.compile(r"(?m)^([ \t]*)[-*+] 1(?=\d{1,3}\. )")
_MD_BULLET = re.compile(r"(?m)^([ \t]*)[-*+] (?=\S)")
_MD_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_MD_HEADING = re.compile(r"(?m)^#{1,6} ")


def markdown_to_text(text: str) -> str:
    """Undo a Markdown rendering of a cable page (see module docstring)."""
    text = _MD_TAG.sub("", text)
    text = _MD_ANCHOR_BOLD.sub("", text)
    text = _MD_LIST_ANCHOR.sub(r"\1", text)
    text = _MD_BULLET.sub(r"\1", text)
    text = _MD_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    return _MD_HEADING.sub("", text)
