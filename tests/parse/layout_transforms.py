"""Layout transforms for the metamorphic tests (tests/parse/test_layouts.py) and bench/layouts.py.

A record is rendered as one text (routing header, a line break, body: the one-file-per-cable layout), then
re-laid out: a preamble in front, the header glued to the banner, other line ends, blank lines removed or
doubled, tabs, page furniture, an NNNN trailer, junk lines, a BOM. Parsing the result must give the same
fields as parsing the record as its dump gave it (:func:`kept`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from golden_fields import GOLDEN_FIELDS, project

from etl.parse import parse, parse_text

Transform = Callable[[str, Mapping[str, Any]], str | None]
"""(rendered text, base fields) -> transformed text, or None when the transform does not apply."""


@dataclass
class Case:
    """One record: its rendered text, the dump's metadata and format, and the fields of the plain parse."""

    label: str
    text: str
    meta: Mapping[str, str]
    fmt: str | None
    base: dict[str, Any]
    fields: dict[str, Any]


def case(label: str, rec: Any) -> Case:
    header = rec.header or ""
    text = f"{header.rstrip(chr(10))}\n{rec.body}" if header.strip() else rec.body
    lin = getattr(rec, "lineage", None)
    base = parse(rec)
    return Case(label, text, dict(rec.meta or {}), getattr(lin, "format", None), base, project(base))


def parse_case(c: Case, text: str) -> dict[str, Any]:
    return project(parse_text(text, c.meta, c.fmt))


def kept(c: Case, text: str) -> dict[str, bool]:
    """Per golden field: does the transformed text give the plain parse's value?"""
    got = parse_case(c, text)
    return {f: got[f] == c.fields[f] for f in GOLDEN_FIELDS}


# ----------------------------------------------------------------------------------------------- preambles
def _ctime(d: datetime) -> str:
    return d.strftime("%a %b %d 00:00:00 +0200 %Y")


def _preamble_values(base: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    if base.get("reference_id"):
        out["id"] = base["reference_id"]
    if isinstance(base.get("sent_at"), datetime):
        out["date"] = base["sent_at"].strftime("%Y-%m-%d %H:%M")
    if base.get("classification"):
        out["classification"] = base["classification"]
    if base.get("origin_name"):
        out["origin"] = base["origin_name"]
    if base.get("subject"):
        out["subject"] = base["subject"]
    return out


def preamble_lines(text: str, base: Mapping[str, Any]) -> str | None:
    """The 5-line preamble: id, subject cut at 50 characters, ctime date, classification, post name."""
    v = _preamble_values(base)
    lines = [v.get("id"), (v.get("subject") or "")[:50] or None,
             _ctime(base["sent_at"]) if isinstance(base.get("sent_at"), datetime) else None,
             v.get("classification"), v.get("origin")]
    return "\n".join(x for x in lines if x) + "\n" + text


def preamble_kv(text: str, base: Mapping[str, Any]) -> str | None:
    """A ``key: value`` block and a blank line."""
    v = _preamble_values(base)
    return "".join(f"{k}: {val}\n" for k, val in v.items()) + "\n" + text


def preamble_export(text: str, base: Mapping[str, Any]) -> str | None:
    """An export's header lines (``null``, ``DB/Inbox ...``) then ``refid:``/``Date:``/``Classification:``."""
    v = _preamble_values(base)
    block = "null\nDB/Inbox 2011-08-30 13:22\n"
    if "id" in v:
        block += f"refid: {v['id']}\n"
    if isinstance(base.get("sent_at"), datetime):
        block += f"Date: {base['sent_at']:%m/%d/%Y %H:%M}\n"
    if "classification" in v:
        block += f"Classification: {v['classification']}\n"
    return block + "\n" + text


# ----------------------------------------------------------------------------------------------- others
_BANNER_START = re.compile(r"^[ \t]*(?:C O N F|S E C R E T|U N C L A S|UNCLAS|CONFIDENTIAL|SECRET|TOP SECRET"
                           r"|LIMITED OFFICIAL USE)", re.I)


def glued(text: str, base: Mapping[str, Any]) -> str | None:
    """The routing header's last line glued to the banner line (records with a header and a banner)."""
    header = base.get("header") or ""
    if not header.strip() or not base.get("banner_level"):
        return None
    at = text.find(base["body"].lstrip("\n")[:40]) if base.get("body") else -1
    if at <= 0 or not _BANNER_START.match(text[at:at + 40]):
        return None
    return text[:at].rstrip(" \t\n") + text[at:]


def crlf(text: str, base: Mapping[str, Any]) -> str | None:
    return text.replace("\n", "\r\n")


def cr(text: str, base: Mapping[str, Any]) -> str | None:
    return text.replace("\n", "\r")


def blank_removed(text: str, base: Mapping[str, Any]) -> str | None:
    return re.sub(r"\n[ \t]*(?=\n)", "", text)


def blank_doubled(text: str, base: Mapping[str, Any]) -> str | None:
    return re.sub(r"\n([ \t]*)\n", r"\n\1\n\n", text)


def tabs(text: str, base: Mapping[str, Any]) -> str | None:
    """Indentation and runs of two or more spaces written as tabs."""
    return re.sub(r"(?m)^ +| {2,}", "\t", text)


def page_furniture(text: str, base: Mapping[str, Any], every: int = 60) -> str | None:
    """Every ``every`` lines a classification footer, a blank line and a teletype page header."""
    lines = text.split("\n")
    level = base.get("banner_level") or "UNCLASSIFIED"
    post = (base.get("banner_post") or "STATE").upper()
    serial = f"{int(base['banner_serial']):05d}" if base.get("banner_serial") else "00001"
    out: list[str] = []
    for i, line in enumerate(lines):
        if i and i % every == 0:
            page = i // every + 1
            out += [level, "", f"PAGE {page:02d} {post} {serial} {page:02d} OF 09 091341Z"]
        out.append(line)
    return "\n".join(out)


def print_pages(text: str, base: Mapping[str, Any], every: int = 60) -> str | None:
    """Every ``every`` lines a printed page break: ``Page N of M`` then the classification."""
    lines = text.split("\n")
    total = len(lines) // every + 1
    level = base.get("banner_level") or "UNCLASSIFIED"
    out: list[str] = []
    for i, line in enumerate(lines):
        if i and i % every == 0:
            out += [f"Page {i // every} of {total}", level]
        out.append(line)
    return "\n".join(out)


def nnnn(text: str, base: Mapping[str, Any]) -> str | None:
    return text.rstrip("\n") + "\n\nNNNN\n"


def junk(text: str, base: Mapping[str, Any]) -> str | None:
    return "null\nDB/Inbox 2011-08-30 13:22\n-----\n\n" + text.rstrip("\n") + "\n\n-----\nnull\n"


def bom(text: str, base: Mapping[str, Any]) -> str | None:
    return "\ufeff" + text


TRANSFORMS: dict[str, Transform] = {
    "render": lambda text, base: text,
    "preamble_lines": preamble_lines,
    "preamble_kv": preamble_kv,
    "preamble_export": preamble_export,
    "glued_banner": glued,
    "crlf": crlf,
    "cr": cr,
    "blank_removed": blank_removed,
    "blank_doubled": blank_doubled,
    "tabs": tabs,
    "page_furniture": page_furniture,
    "print_pages": print_pages,
    "nnnn": nnnn,
    "junk": junk,
    "bom": bom,
}
"""Name -> transform. ``render`` is the plain one-file-per-cable rendering (no transform)."""

# Order in which combined transforms are applied: line ends and the BOM last (they re-encode the whole text).
ORDER = ("glued_banner", "blank_removed", "blank_doubled", "tabs", "page_furniture", "print_pages", "nnnn",
         "preamble_lines", "preamble_kv", "preamble_export", "junk", "crlf", "cr", "bom")


def apply(names: list[str], text: str, base: Mapping[str, Any]) -> str:
    """Apply several transforms in :data:`ORDER` (each skipped where it does not apply)."""
    for name in ORDER:
        if name in names:
            out = TRANSFORMS[name](text, base)
            text = text if out is None else out
    return text


def sweep(cases: Iterable[Case], name: str, examples: int = 10) -> tuple[int, int, Counter[str], list[str]]:
    """One transform over many records: (records it applies to, records keeping every field, lost count per
    field, up to ``examples`` records that lose a field)."""
    lost: Counter[str] = Counter()
    applies = whole = 0
    shown: list[str] = []
    for c in cases:
        text = TRANSFORMS[name](c.text, c.base)
        if text is None:
            continue
        applies += 1
        bad = [f for f, ok in kept(c, text).items() if not ok]
        lost.update(bad)
        if not bad:
            whole += 1
        elif len(shown) < examples:
            shown.append(f"{c.label}: {', '.join(bad)}")
    return applies, whole, lost, shown
