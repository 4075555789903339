"""Assemble all fields of one cable (called by :func:`etl.parse.parse`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from etl.parse import _body, _classif, _decl, _dtg, _header, _tags
from etl.parse._text import normalize

PARSER_VERSION = "0.1.0"

_ID_POST_CLEAN = re.compile(r"[^A-Z0-9]")
_NOFORN = re.compile(r"^[ \t]*NOFORN\b|\bNOFORN[ \t]*$", re.M)
_SENSITIVE = re.compile(r"^[ \t]*SENSITIVE\b", re.M)

FIELDS: tuple[str, ...] = (
    "reference_id", "reference_id_source", "dtg", "sent_at", "sent_at_source", "precedence_raw", "precedence",
    "origin", "classification_raw", "classification", "eo_raw", "eo", "decl_raw", "decl_date", "tags_raw",
    "tags", "subject_raw", "subject", "references_raw", "header", "body",
)


def empty_row() -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FIELDS)
    row["tags"] = []
    row["_problems"] = []
    return row


def parse_parts(header: str, body: str, meta: Mapping[str, str]) -> dict[str, Any]:
    """Never raises: an unexpected error becomes a problem and the fields found so far are kept."""
    row = empty_row()
    try:
        _fill(row, header, body, meta)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        row["_problems"].append(f"parser error: {type(exc).__name__}: {exc}")
    return row


def _meta(meta: Mapping[str, str], key: str) -> str | None:
    v = meta.get(key)
    return v.strip() if isinstance(v, str) and v.strip() else None


def _fill(row: dict[str, Any], header: str, body: str, meta: Mapping[str, str]) -> None:
    problems: list[str] = row["_problems"]
    if not header.strip():
        split_h, split_b = _header.split_cable(normalize(body) if "\r" in body else body)
        if split_h:
            header, body = split_h, split_b
    row["header"] = header
    row["body"] = body
    h = normalize(header)
    b = normalize(body)

    # --- DTG / precedence / origin (routing header)
    sent_at: datetime | None = None
    m = _dtg.DTG_LINE.search(h)
    if m:
        row["dtg"] = m.group("dtg").strip()
        row["precedence_raw"] = m.group("prec")
        row["precedence"] = m.group("prec")[0]
        sent_at = _dtg.dtg_to_datetime(m["day"], m["hh"], m["mm"], m["zone"], m["mon"], m["yy"])
        if sent_at is None:
            problems.append(f"dtg: not a real time {row['dtg']!r}")
    fm = _header.FM_LINE.search(h)
    if fm:
        row["origin"] = fm.group("fm")
    if sent_at is not None:
        row["sent_at"], row["sent_at_source"] = sent_at, "dtg"
    else:
        created = _meta(meta, "created")
        if created:
            row["sent_at"] = _dtg.parse_created(created, _meta(meta, "created_precision"))
            if row["sent_at"] is not None:
                row["sent_at_source"] = "metadata"
            else:
                problems.append(f"meta: unreadable created {created!r}")

    # --- banner
    banner = _body.find_banner(b)
    level = None
    if banner:
        row["classification_raw"] = banner.raw
        level = _classif.level_of(banner.level_raw)
    top = _body.top_of(b)

    # --- classification
    meta_cls = _meta(meta, "classification")
    if meta_cls:
        row["classification"] = " ".join(meta_cls.upper().split())
    elif level:
        cls = level
        head = top[:1500]
        if level != "UNCLASSIFIED" and _NOFORN.search(head):
            cls += "//NOFORN"
        elif level == "UNCLASSIFIED" and _SENSITIVE.search(head):
            cls += "//FOR OFFICIAL USE ONLY"
        row["classification"] = cls

    # --- reference id
    year: int | None = sent_at.year if sent_at else None
    meta_id = _meta(meta, "reference_id")
    if meta_id:
        row["reference_id"], row["reference_id_source"] = meta_id, "metadata"
    elif banner and banner.post and banner.serial:
        if year is None and row["sent_at"] is not None:
            year = row["sent_at"].year
        if year is not None:
            post = _ID_POST_CLEAN.sub("", banner.post.upper())
            row["reference_id"] = f"{year % 100:02d}{post}{int(banner.serial)}"
            row["reference_id_source"] = "derived"
    if row["reference_id"] is None:
        problems.append("reference_id: not stated and not derivable (banner post/serial + DTG year)")
    if year is None:
        year = _year_of_id(row["reference_id"])

    # --- E.O. / DECL
    eo_m = _decl.EO_LINE.search(top) or _decl.EO_ANY.search(top)
    if eo_m:
        line = eo_m.group(0).strip()
        num, rest = _decl.eo_parts(line)
        row["eo_raw"] = re.split(r"\s*(?:\b|(?<=\d))TAGS?\s*:", line, maxsplit=1, flags=re.I)[0].rstrip()
        row["eo"] = num
        row["decl_raw"] = _decl.decl_value(rest)
        _kind, d, problem = _decl.classify_decl(row["decl_raw"], year)
        row["decl_date"] = d
        if problem:
            problems.append(problem)

    # --- TAGS / SUBJECT / REF
    tags_raw = _body.find_tags(top)
    if tags_raw is not None:
        row["tags_raw"] = tags_raw
        row["tags"] = _tags.split_tags(tags_raw)
    row["subject_raw"], row["subject"], _mark = _body.find_subject(top)
    row["references_raw"] = _body.find_references(top)


def _year_of_id(ref: str | None) -> int | None:
    if not ref or len(ref) < 2 or not ref[:2].isdigit():
        return None
    return _dtg.century(int(ref[:2]))
