"""The ``cables.csv`` release (September 2011): 8 double-quoted fields, no header row.

Fields: sequence number, creation time ``M/D/YYYY H:MM`` (24 h: the DTG to the minute), reference id,
origin, classification, references (``|``-separated ids or empty), header, body. Newlines occur inside
values; quotes and apostrophes are escaped with a backslash (``\\"`` ``\\'``), quotes are never doubled.

The file is 1.7-2 GB, so it is tokenised in a bounded buffer by two compiled regular expressions (one
whole-row match, one field split: both run in C, well over 100 MB/s) rather than with a CSV library that
gives up on the first malformed row:

* a well-formed row of 8 fields -> a record, ``location = "row N"``;
* a row with another field count -> ``bad_row: ...`` record;
* broken quoting -> ``bad_row: broken quoting ...`` record holding the text up to the next line that starts
  a row (``"<digits>","``), where reading resumes;
* a row cut off by the end of the file (``split`` chunks) -> ``truncated_row: ...`` record;
* a fragment holding nothing but quotes and white space (the stray ``"`` line that opens a ``split`` chunk)
  is not a record and is skipped;
* a row larger than ``Limits.max_record_bytes`` -> ``record_too_large`` record, reading resumes after it.

Each field is decoded as UTF-8, falling back to cp1252 (then latin-1) per row; backslash escapes are undone
(``\\X`` -> ``X``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord
from etl.sources._text import decode, normalize_newlines

FORMAT = "csv"
N_FIELDS = 8
CHUNK = 4 * 1024 * 1024

_F = rb'"(?:[^"\\]++|\\.)*+"'
_G = rb'"((?:[^"\\]++|\\.)*+)"'
_ROW8 = re.compile(rb"[ \t]*+" + rb",".join([_G] * 8) + rb"[ \t]*+(?:\r?\n|\Z)", re.S)
"""The common case in one pass: a whole row of exactly 8 fields, captured."""
_ROW = re.compile(rb"[ \t]*+" + _F + rb"(?:," + _F + rb")*+[ \t]*+(?:\r?\n|\Z)", re.S)
_FIELD = re.compile(rb'"((?:[^"\\]++|\\.)*+)"', re.S)
_PREFIX = re.compile(rb'[ \t]*+(?:"(?:[^"\\]++|\\.)*+",)*+"(?:[^"\\]++|\\.)*+', re.S)
_RESYNC = re.compile(rb'\n(?="\d+",")')
_FIELD_STR = re.compile(r'"((?:[^"\\]++|\\.)*+)"', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_CREATED = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})\s*$")


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Stream the rows of a cables.csv file."""
    limit = ctx.limits.max_record_bytes
    buf = b""
    pos = 0
    base = 0  # file offset of buf[0]
    eof = False
    row_no = 0
    while True:
        if pos >= len(buf) and eof:
            return
        if not eof and len(buf) - pos < CHUNK:
            buf, base, pos = buf[pos:], base + pos, 0
            chunk = stream.read(CHUNK)
            if chunk:
                buf += chunk
            else:
                eof = True
            continue
        # skip blank lines between rows
        while pos < len(buf) and buf[pos] in b"\r\n":
            pos += 1
        if pos >= len(buf):
            continue
        m = _ROW8.match(buf, pos) or _ROW.match(buf, pos)
        if m is not None and (m.end() < len(buf) or eof or buf[m.end() - 1:m.end()] == b"\n"):
            row_no += 1
            groups = m.groups() if m.re is _ROW8 else None
            yield _record(ctx, buf[pos:m.end()], row_no, base + pos, groups)
            pos = m.end()
            continue
        prefix = _PREFIX.match(buf, pos)
        incomplete = prefix is not None and prefix.end() >= len(buf) - 1
        if incomplete and not eof:
            if len(buf) - pos > limit:
                row_no += 1
                yield ctx.error("record_too_large", f"row {row_no} larger than {limit} bytes",
                                f"row {row_no}", FORMAT, raw=_text(buf[pos:pos + 4096]))
                buf, pos, base = yield_skip(stream, buf, pos, base)
                continue
            buf, base, pos = buf[pos:], base + pos, 0
            more = stream.read(max(CHUNK, len(buf)))
            if more:
                buf += more
            else:
                eof = True
            continue
        if incomplete:  # at end of file inside a row
            fragment = buf[pos:]
            pos = len(buf)
            if _is_blank(fragment):
                continue
            row_no += 1
            fields = len(_FIELD.findall(fragment + b'"'))
            yield ctx.error("truncated_row", f"row {row_no} cut off at end of file after {len(fragment)} bytes "
                            f"({fields} of {N_FIELDS} fields started)", f"row {row_no}", FORMAT,
                            raw=_text(fragment))
            continue
        # broken quoting or stray text: resynchronise on the next line that starts a row
        nxt = _RESYNC.search(buf, pos)
        while nxt is None and not eof and len(buf) - pos <= limit:
            more = stream.read(CHUNK)
            if not more:
                eof = True
                break
            buf += more
            nxt = _RESYNC.search(buf, pos)
        end = nxt.start() + 1 if nxt is not None else len(buf)
        fragment = buf[pos:end]
        if not _is_blank(fragment):
            row_no += 1
            yield ctx.error("bad_row", f"row {row_no}: broken quoting or stray text "
                            f"({len(fragment)} bytes at byte {base + pos})", f"row {row_no}", FORMAT,
                            raw=_text(fragment))
        pos = end


def yield_skip(stream: BinaryIO, buf: bytes, pos: int, base: int) -> tuple[bytes, int, int]:
    """Drop an oversized row: read on until a line that starts a row. Returns ``(buf, pos, base)``."""
    base += len(buf)
    buf = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return b"", 0, base
        nxt = _RESYNC.search(chunk)
        if nxt is not None:
            return chunk, nxt.start() + 1, base
        base += len(chunk)


def _is_blank(fragment: bytes) -> bool:
    return not fragment.strip(b' \t\r\n"')


def _text(data: bytes) -> str:
    return decode(data)[0]


def _record(ctx: Context, row: bytes, row_no: int, offset: int, groups: tuple[bytes, ...] | None) -> RawRecord:
    raw, encoding = decode(row)
    location = f"row {row_no}"
    if encoding != "utf-8":
        fields = [_unescape(f) for f in _FIELD_STR.findall(raw)]
    elif groups is not None:
        fields = [_unescape(f.decode("utf-8")) for f in groups]
    else:
        fields = [_unescape(f.decode("utf-8")) for f in _FIELD.findall(row)]
    if len(fields) != N_FIELDS:
        return ctx.error("bad_row", f"row {row_no} has {len(fields)} fields, expected {N_FIELDS} (byte {offset})",
                         location, FORMAT, raw=raw, encoding=encoding)
    _seq, created, ref_id, origin, classification, references, header, body = fields
    meta = {
        "reference_id": ref_id.strip(),
        "origin": origin.strip(),
        "classification": classification.strip(),
        "references": references.strip(),
    }
    m = _CREATED.match(created)
    if m:
        month, day, year, hour, minute = (int(g) for g in m.groups())
        meta["created"] = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}"
        meta["created_precision"] = "minute"
    else:
        meta["created"] = created.strip()
    meta = {k: v for k, v in meta.items() if v}
    return RawRecord(
        lineage=ctx.lineage(location, FORMAT, encoding),
        header=normalize_newlines(header),
        body=normalize_newlines(body),
        meta=meta,
        raw=raw,
    )


def _unescape(text: str) -> str:
    """``\\X`` -> ``X`` (str.replace when no escaped backslash is present: same result, much faster)."""
    if "\\" not in text:
        return text
    if "\\\\" in text:
        return _ESCAPE.sub(lambda m: m.group(1), text)
    return text.replace("\\", "")
