"""WikiLeaks PlusD pages (``/plusd/cables/<canonical id>.html``, 1973-76 and Cablegate documents).

Metadata comes from the ``#synopsis`` table: ``s_key``/``s_val`` pairs (Date, Canonical ID, Original
Classification, From ...) plus the subject in its title row. The text is HTML-escaped in these pages, so
full entity decoding is right here. ``header`` is the ``div.text-header`` block (the routing lines the page
hides behind "Show Headers"), ``body`` the ``div#tagged-text`` block.

``reference_id`` is the Canonical ID as the page gives it (``1974ATHENS02959_b``: PlusD ids carry the
four-digit year, a zero-padded serial and a dataset suffix); validation decides what to make of it.
``created`` comes from Date (``1974 May 17, 16:00 (Friday)``) with ``minute`` precision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord
from etl.sources._streams import read_one_record
from etl.sources._text import decode, decode_entities_html, normalize_newlines, strip_paragraph_pilcrows

FORMAT = "plusd-html"

_SYNOPSIS = re.compile(r"<table\s+id=[\"']synopsis[\"'][^>]*>(.*?)</table>", re.S | re.I)
_PAIR = re.compile(r"<div class=\"s_key\">(.*?)</div>\s*<div class=\"s_val\"[^>]*>(.*?)</div>", re.S | re.I)
_TITLE_ROW = re.compile(r"<td colspan=\"2\"[^>]*>(.*?)</td>", re.S | re.I)
_FM = re.compile(r"^[ \t]*FM[ \t]+\S.*$", re.M)
_BANNER = re.compile(
    r"^[ \t]*(?:U ?N ?C ?L ?A ?S\w*|LIMITED[ \t]+OFFICIAL[ \t]+USE|C ?O ?N ?F ?I ?D ?E ?N ?T ?I ?A ?L|S ?E ?C ?R ?E ?T"
    r"|TOP[ \t]+SECRET)\b[^\n]*?\d{3,7}[ \t]*$",
    re.M,
)
_HEADER = re.compile(r"<div class=\"text-header[^\"]*\">(.*?)</div>", re.S | re.I)
_BODY = re.compile(r"<div id=[\"']tagged-text[\"']>(.*?)</div>", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_DATE = re.compile(r"(\d{4})\s+([A-Za-z]{3})[a-z]*\s+(\d{1,2}),?\s+(\d{1,2}):(\d{2})")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_KEYS = {
    "canonical id": "reference_id",
    "original classification": "classification",
    "from": "origin",
    "date": "created",
}
_BLANK = "-- N/A or Blank --"


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Yield the one cable of a PlusD page."""
    data = read_one_record(ctx, stream, "page", "byte 0", FORMAT)
    yield data if isinstance(data, RawRecord) else parse_page(ctx, *decode(data))


def parse_page(ctx: Context, page: str, encoding: str) -> RawRecord:
    """Turn one decoded PlusD page into a :class:`RawRecord` (an error record when it holds no cable text)."""
    body_m = _BODY.search(page)
    if body_m is None:
        return ctx.error("no_cable", "PlusD page without div#tagged-text", "byte 0", FORMAT, raw=page, encoding=encoding)
    meta: dict[str, str] = {}
    synopsis = _SYNOPSIS.search(page)
    if synopsis:
        title = _TITLE_ROW.search(synopsis.group(1))
        if title and _plain(title.group(1)):
            meta["subject"] = _plain(title.group(1))
        for key, value in _PAIR.findall(synopsis.group(1)):
            name = _plain(key).rstrip(":").strip().lower()
            text = _plain(value)
            if name in _KEYS and text and text != _BLANK:
                meta[_KEYS[name]] = text
    if "created" in meta:
        m = _DATE.search(meta["created"])
        month = _MONTHS.get(m.group(2).lower()) if m else None
        if m and month:
            meta["created"] = f"{m.group(1)}-{month:02d}-{int(m.group(3)):02d} {int(m.group(4)):02d}:{m.group(5)}"
            meta["created_precision"] = "minute"
    header_m = _HEADER.search(page)
    header = _block(header_m.group(1)) if header_m else ""
    body = _block(body_m.group(1))
    # The header block runs on past the routing lines into the body's own top (banner, E.O., TAGS,
    # SUBJECT): that part belongs to the body.
    fm = _FM.search(header)
    banner = _BANNER.search(header, fm.end()) if fm else None
    if banner:
        header, body = header[: banner.start()].rstrip("\n"), header[banner.start():].rstrip("\n") + "\n" + body
    start = synopsis.start() if synopsis else body_m.start()
    return RawRecord(
        lineage=ctx.lineage(f"byte {len(page[:body_m.start()].encode('utf-8', 'replace'))}", FORMAT, encoding),
        header=header,
        body=body,
        meta=meta,
        raw=page[start:body_m.end()],
    )


def _plain(fragment: str) -> str:
    return " ".join(decode_entities_html(_TAG.sub(" ", fragment)).split()).replace(" |", ",").strip(", ")


def _block(fragment: str) -> str:
    text = normalize_newlines(decode_entities_html(_TAG.sub("", fragment)))
    return strip_paragraph_pilcrows(text.strip("\n"))
