"""Cablegate web-site pages (``cable/YYYY/MM/<ID>.html``), every template of 2010-2011.

Layout: ``<h3>Viewing cable ID, SUBJECT</h3>``; ``<table class='cable'>`` whose linked cells give Reference
ID, Created, Released, Classification and Origin (the ``title=`` attributes are wrong: the link *text* is
used); then one or two ``<code><pre>`` blocks (two = header + body, one = body only). Inside the blocks
newlines are written ``&#x000A;``, TAGS are links and paragraphs start with ``<a id='parN' href='#parN'>¶</a>``.

The block text is **not** HTML-escaped (raw ``&``, raw ``<``, even ``</table``), so the blocks are *sliced*
between ``<pre>`` and ``</pre></code>`` rather than parsed with a forgiving HTML parser, then only markup
(links, pilcrow anchors, ``<br>``, a few HTML layout tags such as ``<td>``; never ``<<`` or other raw ``<``) is removed and only well-formed character references
are decoded (:func:`~etl.sources._text.decode_entities_strict`).

"Created" keeps the hour but its minutes repeat the hour on a 12-hour clock (``15:03``): when the minutes
show that pattern ``created_precision`` is ``hour``, otherwise (1966-75 pages of the 2011 release carry the
true DTG minutes) ``minute``.

A few pages hold a database row instead of the body: ``[seq\\t]YYYY-MM-DD HH:MM:SS\\tID\\torigin\\t
classification\\treferences\\theader\\tbody`` with every newline escaped by a backslash. Those rows are split
(header and body taken from the row, the row's exact creation time used with ``minute`` precision); when the
row does not split into the expected fields, only the backslash escapes are undone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord
from etl.sources._streams import read_one_record
from etl.sources._text import decode, decode_entities_strict, normalize_newlines, strip_paragraph_pilcrows

FORMAT = "cablegate-html"

_H3 = re.compile(r"<h3>\s*Viewing cable\s+([^,<]*?)\s*(?:,\s*(.*?))?\s*</h3>", re.S | re.I)
_TABLE = re.compile(r"<table\s+class=['\"]cable['\"][^>]*>", re.I)
_TH = re.compile(r"<th[^>]*>(.*?)</th>", re.S | re.I)
_TD = re.compile(r"<td[^>]*>(.*?)</td>", re.S | re.I)
_LINK_TEXT = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S | re.I)
_PRE_OPEN = re.compile(r"<code>\s*<pre>|<pre>", re.I)
_PRE_CLOSE = re.compile(r"</pre>\s*</code>", re.I)
_PILCROW_ANCHOR = re.compile(r"<a\s+(?:id|name)=['\"][^'\"]*['\"]\s+href=['\"]#[^'\"]*['\"]\s*>\s*\u00b6\s*</a>", re.I)
_SITE_TAG = re.compile(r"<a\s+(?:href|id|name|class|title|target|rel)=[^>]*>|</a\s*>|<br\s*/?>", re.I)
_PARTIAL = "This record is a partial extract of the original cable"
_ROW_START = re.compile(r"^(?:\d+\t)?(\d{4}-\d\d-\d\d \d\d:\d\d)(?::\d\d)?\t[^\t\n]{2,60}\t")
_UNESCAPED_TAB = re.compile(r"(?<!\\)\t")
_ROW_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?")
_ROW_ID = re.compile(r"[0-9]{2,4}[A-Z][A-Z0-9-]{1,40}[0-9]{1,7}")
_NEXT_ROW_SEQ = re.compile(r"(?:&#x000A;|\n)\d+\s*$")
_HTML_TAG = re.compile(r"</?(?:table|tbody|thead|tr|td|th|p|div|span|font|b|i|u|strong|em|center|hr)\b[^<>]{0,200}>", re.I)
_CREATED = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d):(\d\d)$")

_FIELDS = {
    "reference id": "reference_id",
    "created": "created",
    "released": "released",
    "classification": "classification",
    "origin": "origin",
}


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Yield the one cable of a cablegate page (or one error record when there is none)."""
    data = read_one_record(ctx, stream, "page", "byte 0", FORMAT)
    yield data if isinstance(data, RawRecord) else parse_page(ctx, *decode(data))


def parse_page(ctx: Context, page: str, encoding: str) -> RawRecord:
    """Turn one decoded page into a :class:`RawRecord`."""
    h3 = _H3.search(page)
    table = _TABLE.search(page)
    start = min(m.start() for m in (h3, table) if m is not None) if (h3 or table) else 0
    blocks = _blocks(page, table.end() if table else start)
    if not blocks:
        return ctx.error("no_cable", "HTML page without a cable text block", "byte 0", FORMAT if (h3 or table) else "html",
                         raw=page, encoding=encoding)
    meta: dict[str, str] = {}
    if h3:
        meta["reference_id"] = _plain(h3.group(1))
        subject = _plain(h3.group(2) or "").removesuffix("\\").rstrip()  # row-dump pages end it with "\\"
        if subject:
            meta["subject"] = subject
    if table:
        meta.update(_table_meta(page, table.end()))
    created = meta.get("created", "")
    m = _CREATED.match(created)
    if m:
        hour, minute = int(m.group(2)), int(m.group(3))
        meta["created_precision"] = "hour" if minute == (hour + 11) % 12 + 1 else "minute"
    raw_header, raw_body = ("", blocks[0][2]) if len(blocks) == 1 else (blocks[0][2], blocks[-1][2])
    header = clean_block(raw_header)
    body_row = _row_fields(raw_body, meta.get("reference_id", ""))
    if body_row is not None:
        row_created, row_header, row_body = body_row
        meta["created"], meta["created_precision"] = row_created, "minute"
        header = header or clean_block(row_header)
        body = clean_block(row_body)
    else:
        body = clean_block(_unescape_backslashes(raw_body) if _ROW_START.match(raw_body) else raw_body)
    if _PARTIAL in header:
        meta["partial"] = "1"
        header = ""
    end = blocks[-1][1]
    raw = page[start:end] if end > start else page
    return RawRecord(
        lineage=ctx.lineage(f"byte {_byte_offset(page, blocks[-1][0], encoding)}", FORMAT, encoding),
        header=header,
        body=body,
        meta=meta,
        raw=raw,
    )


def _blocks(page: str, pos: int) -> list[tuple[int, int, str]]:
    """``(start, end, inner text)`` of every ``<pre>`` block after ``pos``, sliced, not parsed."""
    found: list[tuple[int, int, str]] = []
    while True:
        opening = _PRE_OPEN.search(page, pos)
        if opening is None:
            return found
        closing = _PRE_CLOSE.search(page, opening.end())
        if closing is None:  # unterminated block: take the rest up to a bare </pre> or the end
            bare = page.find("</pre>", opening.end())
            stop = bare if bare >= 0 else len(page)
            found.append((opening.end(), stop, page[opening.end():stop]))
            return found
        found.append((opening.end(), closing.end(), page[opening.end():closing.start()]))
        pos = closing.end()


def _table_meta(page: str, pos: int) -> dict[str, str]:
    """Link texts of the metadata table, keyed by the column headings."""
    end = page.find("</table>", pos)
    table = page[pos:end if end >= 0 else pos + 20000]
    headings = [_plain(h).lower() for h in _TH.findall(table)]
    cells = _TD.findall(table)
    meta: dict[str, str] = {}
    for heading, cell in zip(headings, cells, strict=False):
        key = _FIELDS.get(heading)
        if key is None:
            continue
        link = _LINK_TEXT.search(cell)
        value = _plain(link.group(1) if link else cell)
        if value:
            meta[key] = value
    return meta


def _plain(fragment: str) -> str:
    """Text of a small markup fragment (table cell, h3): tags dropped, entities decoded, spaces squeezed."""
    text = re.sub(r"<[^>]*>", "", fragment)
    return " ".join(decode_entities_strict(text).split())


def clean_block(block: str) -> str:
    """Plain text of one ``<pre>`` block: site markup removed, character references decoded."""
    if not block:
        return ""
    text = _PILCROW_ANCHOR.sub("", block)
    text = _SITE_TAG.sub("", text)
    text = _HTML_TAG.sub("", text)
    text = normalize_newlines(decode_entities_strict(text))
    return strip_paragraph_pilcrows(text)


def _unescape_backslashes(text: str) -> str:
    """Undo the database-dump escaping: ``\\`` + newline -> newline, ``\\X`` -> ``X`` for tab and backslash."""
    text = text.replace("\\&#x000A;", "&#x000A;").replace("\\\n", "\n")
    text = text.replace("\\\t", "\t").replace("\\\\", "\\")
    return text.removesuffix("\\")


def _row_fields(block: str, reference_id: str) -> tuple[str, str, str] | None:
    """``(created, header, body)`` when the block holds database rows, else ``None``.

    A block may hold several rows (even rows of other cables): the row whose id is the page's reference id
    is taken, else the first row. Rows are ``created, id, origin, classification, references, header,
    body`` split on unescaped tabs; a row is ended by an unescaped newline and the next row's sequence number.
    """
    if _ROW_START.match(block) is None:
        return None
    tokens = _UNESCAPED_TAB.split(block)
    starts = [
        i for i in range(len(tokens) - 6)
        if _ROW_DATETIME.fullmatch(tokens[i]) and _ROW_ID.fullmatch(tokens[i + 1])
    ]
    if not starts:
        return None
    chosen = next((i for i in starts if tokens[i + 1] == reference_id), starts[0])
    body = tokens[chosen + 6]
    if chosen + 7 < len(tokens):  # another row follows: drop its sequence number
        body = _NEXT_ROW_SEQ.sub("", body)
    created = tokens[chosen][:16]
    return created, _unescape_backslashes(tokens[chosen + 5]), _unescape_backslashes(body)


def _byte_offset(page: str, char_offset: int, encoding: str) -> int:
    """Byte offset of a character offset (the page was decoded with ``encoding``)."""
    try:
        return len(page[:char_offset].encode(encoding.replace("-sig", "")))
    except (UnicodeEncodeError, LookupError):
        return char_offset
