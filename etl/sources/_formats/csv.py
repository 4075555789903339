"""The ``cables.csv`` release (September 2011): 8 double-quoted fields, no header row.

Fields: sequence number, creation time ``M/D/YYYY H:MM`` (24 h: the DTG to the minute), reference id,
origin, classification, references (``|``-separated ids or empty), header, body. Newlines occur inside
values; quotes, apostrophes and backslashes are escaped with a backslash (``\\"`` ``\\'`` ``\\\\``), quotes
are never doubled.

The file is 1.7-2 GB. It is read in blocks of :data:`BLOCK` bytes cut at a line that starts a row
(``"<digits>","``), and each block goes first through pyarrow's C++ CSV reader (explicit string columns).
A block's rows are then *proved* to be exactly what the project's own tokenizer would have read: the rows
pyarrow returned, escaped back the release's way and joined (in Arrow compute, no Python loop), must give the
block's bytes, byte for byte. That also gives each row's raw text and its row number, so lineage is exact.

Where the proof fails (broken quoting, a wrong field count that pyarrow's ``invalid_row_handler`` skipped,
cut-off rows, text that is not UTF-8, a row escaped another way), the rows before the first differing byte
are kept and the damaged region is read by the project's tokenizer (two compiled regular expressions in a
bounded buffer, below), which resynchronises; the C++ reader resumes after it. The tokenizer's records are:

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
from collections.abc import Generator, Iterator, Sequence
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from etl.sources._context import Context
from etl.sources._model import RawRecord
from etl.sources._text import decode, normalize_newlines

FORMAT = "csv"
N_FIELDS = 8
CHUNK = 4 * 1024 * 1024
"""Read size of the tokenizer."""
BLOCK = 4 * 1024 * 1024
"""Bytes handed to the C++ reader at a time (cut at a row start; a larger row makes a larger block)."""
MIN_SPLIT = 256 * 1024
"""A block the C++ reader rejects (quoting error, not UTF-8) is halved down to this size to find the place."""
RETRIES = 2
"""Damaged regions per block after which the tokenizer reads the rest of the block (no third re-parse)."""

_F = rb'"(?:[^"\\]++|\\.)*+"'
_G = rb'"((?:[^"\\]++|\\.)*+)"'
_ROW8 = re.compile(rb"[ \t]*+" + rb",".join([_G] * 8) + rb"[ \t]*+(?:\r?\n|\Z)", re.S)
"""The common case in one pass: a whole row of exactly 8 fields, captured."""
_ROW = re.compile(rb"[ \t]*+" + _F + rb"(?:," + _F + rb")*+[ \t]*+(?:\r?\n|\Z)", re.S)
_FIELD = re.compile(rb'"((?:[^"\\]++|\\.)*+)"', re.S)
_PREFIX = re.compile(rb'[ \t]*+(?:"(?:[^"\\]++|\\.)*+",)*+"(?:[^"\\]++|\\.)*+', re.S)
_RESYNC = re.compile(rb'\n(?="\d+",")')
_ROW_START = re.compile(rb'"\d+","')
_FIELD_STR = re.compile(r'"((?:[^"\\]++|\\.)*+)"', re.S)
_ESCAPE = re.compile(r"\\(.)", re.S)
_CREATED = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})\s*$")

_NAMES = [f"f{i}" for i in range(N_FIELDS)]


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Stream the rows of a cables.csv file."""
    return _Reader(ctx, stream).records()


def read_tokenizer_only(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """The same records through the project's tokenizer alone (the reference the C++ path is proved against;
    the benchmark's before figure)."""
    reader = _Reader(ctx, stream)
    while not reader.done:
        rec = reader.step()
        if rec is not None:
            yield rec


class _Reader:
    """A bounded buffer over the stream: ``buf[pos:]`` is unread, ``base`` is the file offset of ``buf[0]``."""

    def __init__(self, ctx: Context, stream: BinaryIO) -> None:
        self.ctx, self.stream = ctx, stream
        self.limit = ctx.limits.max_record_bytes
        self.buf = b""
        self.pos = self.base = self.row_no = 0
        self.eof = False

    @property
    def done(self) -> bool:
        return self.eof and self.pos >= len(self.buf)

    def _more(self, size: int) -> bool:
        """Drop what was read, append ``size`` bytes of the stream; False at end of file."""
        self.buf, self.base, self.pos = self.buf[self.pos:], self.base + self.pos, 0
        chunk = self.stream.read(size)
        if chunk:
            self.buf += chunk
            return True
        self.eof = True
        return False

    # -- the C++ reader ------------------------------------------------------------------------------------

    def records(self) -> Iterator[RawRecord]:
        while True:
            while not self.eof and len(self.buf) - self.pos < BLOCK:
                self._more(BLOCK)
            if self.done:
                return
            end = self._cut()
            if end is None:  # no row start after this one in the buffer: one (large) row by the tokenizer
                rec = self.step()
                if rec is not None:
                    yield rec
                continue
            abs_end = self.base + end
            failures = 0
            while self.base + self.pos < abs_end and not self.done:
                proved, abs_stop = yield from self._fast(self.pos, abs_end - self.base)
                self.pos += proved
                if self.base + self.pos >= abs_end:
                    break
                failures += 1  # a damaged region: the tokenizer reads it, then the C++ reader resumes
                yield from self._slow_until(abs_end if failures > RETRIES else abs_stop)

    def _cut(self) -> int | None:
        """End of the block: the last line of ``buf`` that starts a row (the whole buffer at end of file)."""
        if self.eof:
            return len(self.buf)
        i = len(self.buf)
        while i > self.pos:
            i = self.buf.rfind(b'\n"', self.pos, i)
            if i < 0:
                return None
            if i > self.pos and _ROW_START.match(self.buf, i + 1):
                return i + 1
        return None

    def _slow_until(self, abs_stop: int) -> Iterator[RawRecord]:
        while not self.done and self.base + self.pos < abs_stop:
            rec = self.step()
            if rec is not None:
                yield rec

    def _fast(self, start: int, end: int) -> Generator[RawRecord, None, tuple[int, int]]:
        """Yield the rows of ``buf[start:end]`` that the C++ reader reads and the proof accepts. Returns
        ``(bytes proved, stop)``: the file offset the tokenizer must reach (past the first damaged row)."""
        table = _parse(pa.py_buffer(self.buf).slice(start, end - start))
        if table is None:  # a quoting error or bytes that are not UTF-8: prove the halves on their own
            nxt = _RESYNC.search(self.buf, start + (end - start) // 2, end) if end - start > MIN_SPLIT else None
            if nxt is None:
                return 0, self.base + end
            mid = nxt.start() + 1
            done, stop = yield from self._fast(start, mid)
            if done < mid - start:
                return done, stop
            more, stop = yield from self._fast(mid, end)
            return done + more, stop
        rows = _serialize(table, self.buf.find(b"\\\\", start, end) >= 0, self.buf.find(b"\\'", start, end) >= 0)
        offsets = memoryview(rows.buffers()[1]).cast("i")[rows.offset:rows.offset + len(rows) + 1].tolist()
        n = len(offsets) - 1
        if n == 0:
            return 0, self.base + end
        data, raw, first = rows.buffers()[2], pa.py_buffer(self.buf), offsets[0]
        total = offsets[n] - first
        if total == end - start and data.slice(first, total).equals(raw.slice(start, total)):
            good = n
        else:
            good = 0
            while good < n:
                a, b = offsets[good], offsets[good + 1]
                if start + b - first > end or not data.slice(a, b - a).equals(raw.slice(start + a - first, b - a)):
                    break
                good += 1
        if good:
            yield from self._emit(table.slice(0, good), rows.slice(0, good))
        proved = offsets[good] - first
        stop = start + max(offsets[min(good + 1, n)] - first, proved + 1)
        return proved, self.base + min(stop, end)

    def _emit(self, table: pa.Table, rows: pa.Array) -> Iterator[RawRecord]:
        cols = [table.column(i).to_pylist() for i in range(N_FIELDS)]
        for raw, *fields in zip(rows.to_pylist(), *cols, strict=True):
            self.row_no += 1
            yield _build(self.ctx, self.row_no, fields, raw, "utf-8")

    # -- the project's tokenizer -----------------------------------------------------------------------------

    def step(self) -> RawRecord | None:
        """Read one row (or skip blank lines, or refill the buffer) with the regular expressions."""
        ctx, limit = self.ctx, self.limit
        if not self.eof and len(self.buf) - self.pos < CHUNK:
            self._more(CHUNK)
            return None
        buf, pos = self.buf, self.pos
        while pos < len(buf) and buf[pos] in b"\r\n":  # blank lines between rows
            pos += 1
        self.pos = pos
        if pos >= len(buf):
            return None
        m = _ROW8.match(buf, pos) or _ROW.match(buf, pos)
        if m is not None and (m.end() < len(buf) or self.eof or buf[m.end() - 1:m.end()] == b"\n"):
            self.row_no += 1
            self.pos = m.end()
            return _record(ctx, buf[pos:m.end()], self.row_no, self.base + pos, m.groups() if m.re is _ROW8 else None)
        prefix = _PREFIX.match(buf, pos)
        incomplete = prefix is not None and prefix.end() >= len(buf) - 1
        if incomplete and not self.eof:
            if len(buf) - pos > limit:
                self.row_no += 1
                rec = ctx.error("record_too_large", f"row {self.row_no} larger than {limit} bytes",
                                f"row {self.row_no}", FORMAT, raw=_text(buf[pos:pos + 4096]))
                self._skip_oversized()
                return rec
            self._more(max(CHUNK, len(buf) - pos))
            return None
        if incomplete:  # at end of file inside a row
            fragment = buf[pos:]
            self.pos = len(buf)
            if _is_blank(fragment):
                return None
            self.row_no += 1
            fields = len(_FIELD.findall(fragment + b'"'))
            return ctx.error("truncated_row", f"row {self.row_no} cut off at end of file after {len(fragment)} "
                             f"bytes ({fields} of {N_FIELDS} fields started)", f"row {self.row_no}", FORMAT,
                             raw=_text(fragment))
        # broken quoting or stray text: resynchronise on the next line that starts a row
        nxt = _RESYNC.search(buf, pos)
        while nxt is None and not self.eof and len(buf) - pos <= limit:
            more = self.stream.read(CHUNK)
            if not more:
                self.eof = True
                break
            buf += more
            nxt = _RESYNC.search(buf, pos)
        self.buf = buf
        end = nxt.start() + 1 if nxt is not None else len(buf)
        fragment = buf[pos:end]
        self.pos = end
        if _is_blank(fragment):
            return None
        self.row_no += 1
        return ctx.error("bad_row", f"row {self.row_no}: broken quoting or stray text "
                         f"({len(fragment)} bytes at byte {self.base + pos})", f"row {self.row_no}", FORMAT,
                         raw=_text(fragment))

    def _skip_oversized(self) -> None:
        """Drop an oversized row: read on until a line that starts a row."""
        self.base += len(self.buf)
        self.buf, self.pos = b"", 0
        while True:
            chunk = self.stream.read(CHUNK)
            if not chunk:
                return
            nxt = _RESYNC.search(chunk)
            if nxt is not None:
                self.buf, self.pos = chunk, nxt.start() + 1
                return
            self.base += len(chunk)


_PARSE = pa_csv.ParseOptions(escape_char="\\", double_quote=False, newlines_in_values=True,
                             invalid_row_handler=lambda row: "skip")
_CONVERT = pa_csv.ConvertOptions(column_types={n: pa.string() for n in _NAMES})


def _parse(block: pa.Buffer) -> pa.Table | None:
    """The block through the C++ reader, one Arrow chunk per column; ``None`` when it rejects the block."""
    opts = pa_csv.ReadOptions(column_names=_NAMES, block_size=max(len(block) + 1, 1 << 20), use_threads=False)
    try:
        return pa_csv.read_csv(pa.BufferReader(block), read_options=opts, parse_options=_PARSE,
                               convert_options=_CONVERT).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _escape(col: pa.ChunkedArray, chars: tuple[str, ...]) -> pa.Array:
    arr = col.chunk(0) if col.num_chunks == 1 else pa.concat_arrays(col.chunks)
    for char in chars:
        arr = pc.replace_substring(arr, char, "\\" + char)
    return arr


def _serialize(table: pa.Table, backslashes: bool, apostrophes: bool) -> pa.Array:
    """Each row written back the release's way: ``"f1","f2",...,"f8"\\n`` with ``\\`` and ``"`` escaped,
    and ``'`` too when the block escapes apostrophes (the release does; copies re-exported by other tools
    may not: a block that mixes both is proved up to its first row of the other kind). A block without ``\\\\``
    holds no backslash in its values (a value's backslash would be written ``\\\\``), so that pass is skipped."""
    chars = ("\\",) * backslashes + ('"',) + ("'",) * apostrophes
    joined = pc.binary_join_element_wise(*[_escape(table.column(i), chars) for i in range(N_FIELDS)], '","')
    return pc.binary_join_element_wise('"', joined, '"\n', "")


def _is_blank(fragment: bytes) -> bool:
    return not fragment.strip(b' \t\r\n"')


def _text(data: bytes) -> str:
    return decode(data)[0]


def _record(ctx: Context, row: bytes, row_no: int, offset: int, groups: tuple[bytes, ...] | None) -> RawRecord:
    raw, encoding = decode(row)
    if encoding != "utf-8":
        fields = [_unescape(f) for f in _FIELD_STR.findall(raw)]
    elif groups is not None:
        fields = [_unescape(f.decode("utf-8")) for f in groups]
    else:
        fields = [_unescape(f.decode("utf-8")) for f in _FIELD.findall(row)]
    if len(fields) != N_FIELDS:
        return ctx.error("bad_row", f"row {row_no} has {len(fields)} fields, expected {N_FIELDS} (byte {offset})",
                         f"row {row_no}", FORMAT, raw=raw, encoding=encoding)
    return _build(ctx, row_no, fields, raw, encoding)


def _build(ctx: Context, row_no: int, fields: Sequence[str], raw: str, encoding: str) -> RawRecord:
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
        lineage=ctx.lineage(f"row {row_no}", FORMAT, encoding),
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
