"""What the reading room's pages show: the quarantine from the catalog, a cable from the index and the row's file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from etl.schema import declaration
from etl.search import Snapshot

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_REFS = 60
BACKLINKS = 200
QUARANTINE_PAGE = 25
RAW_CHARS = 200_000  # raw text shown on a page (the rest is cut, with a note)

# shown in their own sections, not in the table of header fields
_OWN_SECTION = {
    "body", "header", "paragraphs", "references", "summary", "comment", "also_seen_in", "source_meta",
    "to_addressees", "info_addressees", "tag_details",
}
LINEAGE = ("source_uri", "source_member", "source_location", "source_format", "source_encoding", "source_sha256",
           "run_id", "ingested_at", "parser_version")
_SUMMARY = re.compile(r"^\s*(begin\s+)?summary\b", re.I)
_COMMENT = re.compile(r"^\s*(begin\s+)?comment\b", re.I)


def column_docs(table: str) -> dict[str, str]:
    return {str(c["name"]): str(c.get("description", "")) for c in declaration(table)["columns"]}


@dataclass
class Cable:
    row: dict[str, Any]
    header_fields: list[tuple[str, Any, str]]  # (column, value, description)
    paragraphs: list[dict[str, Any]]
    refs: list[dict[str, Any]]  # {letter, raw, reference_id, in_lake}
    cited_by: list[Any]  # search hits
    cited_by_total: int
    lineage: list[tuple[str, Any]]
    addressees: list[tuple[str, str]] = field(default_factory=list)


def _plain(v: Any) -> Any:
    if isinstance(v, list | dict):
        return json.dumps(v, default=str, ensure_ascii=False)
    return v


def _mark(text: str, summary: str | None, comment: str | None) -> str:
    head = (text or "")[:200]
    if _SUMMARY.match(head) or (summary and summary[:60] and summary[:60] in (text or "")):
        return "summary"
    if _COMMENT.match(head) or (comment and comment[:60] and comment[:60] in (text or "")):
        return "comment"
    return ""


def cable(searcher: Snapshot, rid: str) -> Cable | None:
    """The cable page's data, None when the lake has no cable ``rid`` (read from the index and the row's file,
    not through the catalog; every search at the one version of ``searcher``)."""
    if not ID_RE.match(rid):
        return None
    found = searcher.search(f'id:"{rid}"', limit=1, facets=False, snippets=False)
    if not found.hits:
        return None
    top = found.hits[0]  # the index names the row's file and position: read that row group only
    row = searcher.rows([top]).get((top.file, top.row))
    if row is None or row.get("reference_id") != top.reference_id:
        return None
    rid = top.reference_id
    names = list(row)
    docs = column_docs("cables")
    header = [(n, _plain(row[n]), docs.get(n, "")) for n in names
              if n not in _OWN_SECTION and n not in LINEAGE and row[n] not in (None, [], "")]
    paras = []
    for p in row.get("paragraphs") or []:
        paras.append({**p, "mark": _mark(p.get("text") or "", row.get("summary"), row.get("comment"))})
    refs = [dict(r) for r in (row.get("references") or [])][:MAX_REFS]
    cited = sorted({r["reference_id"] for r in refs if r.get("reference_id") and ID_RE.match(r["reference_id"])})
    present: dict[str, str] = {}
    if cited:
        q = " OR ".join(f'id:"{c}"' for c in cited)
        for h in searcher.search(q, limit=len(cited) * 2, facets=False, snippets=False).hits:
            present[h.reference_id] = h.reference_id
        # a REF may cite a canonical id that the lake stores under another reference id: map through id:
        for c in cited:
            if c not in present:
                hit = searcher.search(f'id:"{c}"', limit=1, facets=False, snippets=False).hits
                if hit:
                    present[c] = hit[0].reference_id
    for r in refs:
        r["in_lake"] = present.get(r.get("reference_id") or "")
    back = searcher.search(f'ref:"{rid}"', limit=BACKLINKS, sort="date", facets=False, snippets=False)
    addressees = [("TO", a.get("address") or "") for a in row.get("to_addressees") or []]
    addressees += [("INFO", a.get("address") or "") for a in row.get("info_addressees") or []]
    return Cable(
        row=row,
        header_fields=header,
        paragraphs=paras,
        refs=refs,
        cited_by=[h for h in back.hits if h.reference_id != rid],
        cited_by_total=back.total,
        lineage=[(n, row.get(n)) for n in LINEAGE],
        addressees=addressees,
    )


@dataclass
class QuarantinePage:
    rows: list[dict[str, Any]]
    total: int
    reasons: list[tuple[str, int]]
    page: int
    pages: int


def quarantine(con: Any, page: int, reason: str | None) -> QuarantinePage:
    reasons = con.execute(
        "SELECT r, count(*) FROM (SELECT unnest(reasons) AS r FROM quarantine) GROUP BY r ORDER BY 2 DESC, 1"
    ).fetchall()
    cond, params = ("WHERE list_contains(reasons, ?)", [reason]) if reason else ("", [])
    total_row = con.execute(f"SELECT count(*) FROM quarantine {cond}", params).fetchone()
    total = int(total_row[0]) if total_row else 0
    pages = max(1, -(-total // QUARANTINE_PAGE))
    page = min(max(page, 1), pages)
    cur = con.execute(
        "SELECT reference_id, reasons, details, stage, source_uri, source_member, source_location, "
        "source_format, run_id, ingested_at, left(raw, ?) AS raw, length(raw) AS raw_len "
        f"FROM quarantine {cond} ORDER BY ingested_at DESC, source_uri, source_location LIMIT ? OFFSET ?",
        [RAW_CHARS, *params, QUARANTINE_PAGE, (page - 1) * QUARANTINE_PAGE],
    )
    names = [d[0] for d in cur.description or []]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return QuarantinePage(rows, total, [(str(r), int(n)) for r, n in reasons], page, pages)
