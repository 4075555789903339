"""MongoDB JSON-lines exports: one object per line with ``_id``, ``origin``, ``date_time``,
``classification`` and ``body``. A JSON array (``mongoexport --jsonArray``) of such objects is read too
(whole, within ``Limits.max_record_bytes``).

* ``date_time`` comes as ``M/D/YYYY H:MM`` (from cables.csv: DTG to the minute, ``created_precision =
  minute``) or ISO ``YYYY-MM-DD HH:MM[:SS]`` (from the cablegate site, whose minutes may be the 12-hour-clock
  hour: ``hour`` when they show that pattern, as for the HTML pages) or ``{"$date": ...}``; normalised to
  ``created = YYYY-MM-DD HH:MM``, kept as given when unparseable.
* ``_id`` is the reference id when it is a non-empty string; empty ids leave ``reference_id`` unset and
  ids that do not look like one (``{"$oid": ...}``) are not used - nothing is invented.
* ``body`` had its line breaks deleted or turned into double spaces. Double spaces are **not** turned back
  into newlines (telegram text also puts two spaces after every full stop, so that would break sentences).
  Only breaks that are certain in a cable are restored: before the landmarks ``E.O.``, ``TAGS:``,
  ``SUBJECT:``/``SUBJ:``, ``REF:``/``REFS:``, ``Classified By``, ``SIPDIS`` and before a paragraph number
  opened by a pilcrow or a double space (``  2. (C)``). ``meta['linebreaks'] = 'restored'`` marks such a body;
  the untouched line is kept in ``raw``.
* ``header`` (some exports carry the routing header or the partial-extract notice) had its line breaks
  deleted too; they are put back before the routing landmarks, which are unambiguous in a header: the
  prosign line after ``VZCZC...``, ``DE R... #``, ``ZNY``/``ZNR``, the DTG line, ``FM``, ``TO``, ``INFO``,
  each addressee's routing indicator after a precedence word or an MCN, and the DTG glued onto the
  partial-extract notice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord
from etl.sources._streams import read_one_record
from etl.sources._text import decode, normalize_newlines, strip_paragraph_pilcrows

FORMAT = "jsonl"

_MDY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})[ T](\d{1,2}):(\d{2})(?::\d{2})?\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?\s*$")
_LANDMARK = re.compile(
    r"(?<=\S)\s*(?=(?:E\.\s?O\.\s?\d{5}|TAGS?:|SUBJECT:|SUBJ:|REFS?:|CLASSIFIED BY|SIPDIS(?=\W|$|E\.)))", re.I
)
_HEADER_LANDMARK = re.compile(
    r"(?<=^VZCZC[A-Z]{3}\d{4})(?=[A-Z]{2}[ ]R)"  # VZCZCXYZ0015PP RUEHWEB
    r"|(?<=\S)(?=DE R[A-Z]{2,7} #)"
    r"|(?<=\S)(?=ZN[YR] [A-Z]{5})"
    r"|(?<=\S)(?=[OPRZ]{1,2} \d{6}Z [A-Z]{3} \d{2}(?!\d))"
    r"|(?<=\S)(?=FM [A-Z])"
    r"|(?<=\S)(?=TO R[A-Z]{2,7}/)"
    r"|(?<=\S)(?=INFO R[A-Z]{2,7}/)"
    r"|(?:(?<=\d)|(?<=PRIORITY)|(?<=IMMEDIATE)|(?<=ROUTINE)|(?<=FLASH))(?=R[A-Z]{3,7}/)"
    r"|(?<=not available\.)(?=\S)"
)
_PARA = re.compile(r"(?:\s*\u00b6\s*|  +)(?=\d{1,2}\.\s+(?:\([A-Z/]{1,8}\)|[A-Z]))")


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Yield one record per JSON line (or per element of a JSON array)."""
    limit = ctx.limits.max_record_bytes
    first = stream.peek(64) if hasattr(stream, "peek") else b""
    if first.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        yield from _read_array(ctx, stream)
        return
    line_no = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        line_no += 1
        location = f"line {line_no}"
        if len(line) > limit and not line.endswith(b"\n"):
            yield ctx.error("record_too_large", f"line {line_no} longer than {limit} bytes", location, FORMAT)
            while (rest := stream.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            continue
        if not line.strip():
            continue
        text, encoding = decode(line)
        try:
            obj = json.loads(text)
        except ValueError as exc:
            yield ctx.error("bad_json", f"line {line_no}: {exc}", location, FORMAT, raw=text, encoding=encoding)
            continue
        yield to_record(ctx, obj, location, text.rstrip("\r\n"), encoding)


def _read_array(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    data = read_one_record(ctx, stream, "JSON array", "byte 0", FORMAT)
    if isinstance(data, RawRecord):
        yield data
        return
    text, encoding = decode(data)
    try:
        items = json.loads(text)
    except ValueError as exc:
        yield ctx.error("bad_json", str(exc), "byte 0", FORMAT, raw=text, encoding=encoding)
        return
    for n, obj in enumerate(items, 1):
        yield to_record(ctx, obj, f"record {n}", json.dumps(obj, ensure_ascii=False), encoding)


def to_record(ctx: Context, obj: Any, location: str, raw: str, encoding: str) -> RawRecord:
    """One export object -> :class:`RawRecord` (an error record when it is not a cable object)."""
    if not isinstance(obj, dict):
        return ctx.error("bad_record", f"{location}: a JSON {type(obj).__name__}, not an object", location,
                         FORMAT, raw=raw, encoding=encoding)
    body = obj.get("body")
    if not isinstance(body, str) or not body.strip():
        return ctx.error("no_cable", f"{location}: no text in 'body'", location, FORMAT, raw=raw, encoding=encoding)
    meta: dict[str, str] = {}
    ref = obj.get("_id")
    if isinstance(ref, str) and ref.strip():
        meta["reference_id"] = ref.strip()
    for key in ("origin", "classification"):
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            meta[key] = value.strip()
    created = obj.get("date_time")
    if isinstance(created, dict):
        created = created.get("$date")
    if isinstance(created, str) and created.strip():
        meta.update(_created(created))
    text = normalize_newlines(body)
    if "\n" not in text.strip():
        restored = restore_linebreaks(text)
        if restored != text:
            meta["linebreaks"] = "restored"
        text = restored
    header = obj.get("header")
    header = normalize_newlines(header) if isinstance(header, str) else ""
    if header.strip() and "\n" not in header.strip():
        header = _HEADER_LANDMARK.sub("\n", header)
    if "partial extract" in header[:200].lower():
        meta["partial"] = "1"
    return RawRecord(
        lineage=ctx.lineage(location, FORMAT, encoding),
        header=header,
        body=strip_paragraph_pilcrows(text),
        meta=meta,
        raw=raw,
    )


def restore_linebreaks(body: str) -> str:
    """Put back the line breaks that are certain (see module docstring)."""
    text = _LANDMARK.sub("\n", body)
    return _PARA.sub("\n\n", text)


def _created(value: str) -> dict[str, str]:
    m = _MDY.match(value)
    if m:
        month, day, year, hour, minute = (int(g) for g in m.groups())
        return {"created": f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}", "created_precision": "minute"}
    m = _ISO.match(value)
    if m:
        year, month, day, hour, minute = (int(g) for g in m.groups())
        precision = "hour" if minute == (hour + 11) % 12 + 1 else "minute"
        return {"created": f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}", "created_precision": precision}
    return {"created": value.strip()}
