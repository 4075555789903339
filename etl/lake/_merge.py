"""Deduplication: one ``cables`` row per cable, the other copies accounted for.

The key of a cable is ``canonical_id`` (when the parser filled it) else ``reference_id``. Among all the
copies of one key (in this run and already in the lake) the winner is the first by:

1. has a routing header,
2. longest body,
3. the id is stated by the dump's metadata (``reference_id_source = 'metadata'``) rather than derived,
4. newest ingestion (a later run's copy wins a tie: a corrected re-release replaces the old one),
5. smallest lineage ``(source_uri, source_member, source_location)`` (so the choice is deterministic).

The winner stays in ``cables`` and lists every other copy in ``also_seen_in`` (lineage + run). Each losing
copy goes to ``quarantine`` with reason ``duplicate`` (stage ``lake``) and a detail naming the winner, so
every input record still ends in exactly one place and the losing text is kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

DUPLICATE = "duplicate"
SEEN_FIELDS = ("source_uri", "source_sha256", "source_member", "source_location", "source_format", "run_id")


def keys(table: pa.Table) -> list[str | None]:
    """The dedup key of every row: ``canonical_id`` when set, else ``reference_id``."""
    ref = table.column("reference_id").to_pylist()
    if "canonical_id" in table.schema.names:
        canon = table.column("canonical_id").to_pylist()
        return [c or r for c, r in zip(canon, ref, strict=True)]
    return ref


def key_array(table: pa.Table) -> pa.Array:
    """:func:`keys` as an Arrow array (no Python objects)."""
    ref = table.column("reference_id").combine_chunks()
    if "canonical_id" not in table.schema.names:
        return ref
    canon = table.column("canonical_id").combine_chunks()
    use = pc.fill_null(pc.not_equal(canon, ""), False)
    return pc.if_else(use, canon, ref)


def normal_seen(entries: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """``also_seen_in`` of a copy that has no other copy: its entries, unique and sorted."""
    uniq = {_seen_key(e): e for e in entries or []}
    return [uniq[s] for s in sorted(uniq)]


def _col(table: pa.Table, name: str) -> list[Any]:
    return table.column(name).to_pylist() if name in table.schema.names else [None] * table.num_rows


NARROW_SOURCE = (
    "reference_id", "canonical_id", "header", "body", "reference_id_source", "ingested_at", "source_uri",
    "source_member", "source_location", "source_sha256", "source_format", "run_id", "year", "also_seen_in",
)
"""The columns the merge decision reads (``header`` and ``body`` only to reduce them to rank inputs)."""


def narrow(table: pa.Table) -> pa.Table:
    """The merge decision's view of cables rows: ``key``, ``has_header``, ``body_length`` and the lineage /
    rank columns, without the text. A few hundred bytes per row, so a whole run fits in memory."""
    n = table.num_rows
    header = _col(table, "header")
    has_header = pa.array([bool((h or "").strip()) for h in header], pa.bool_())
    if "body" in table.schema.names:
        body_length = pc.fill_null(pc.utf8_length(table.column("body")), 0).cast(pa.int64())
    else:
        body_length = pa.array([0] * n, pa.int64())
    cols: dict[str, Any] = {"key": pa.array(keys(table), pa.string()), "has_header": has_header,
                            "body_length": body_length}
    for name in NARROW_SOURCE:
        if name in ("reference_id", "canonical_id", "header", "body"):
            continue
        if name in table.schema.names:
            cols[name] = table.column(name)
        else:
            cols[name] = pa.nulls(n)
    return pa.table(cols)


def _ranks(table: pa.Table) -> list[tuple[Any, ...]]:
    """Sort keys, best copy first (see the module docstring). ``table``: cables rows or :func:`narrow` rows."""
    if "has_header" in table.schema.names:
        has_header = [bool(h) for h in _col(table, "has_header")]
        length = [int(b or 0) for b in _col(table, "body_length")]
    else:
        has_header = [bool((h or "").strip()) for h in _col(table, "header")]
        length = [len(b or "") for b in _col(table, "body")]
    ref_src = _col(table, "reference_id_source")
    ingested = _col(table, "ingested_at")
    uri, member, loc = _col(table, "source_uri"), _col(table, "source_member"), _col(table, "source_location")
    out = []
    for i in range(table.num_rows):
        ts = ingested[i].timestamp() if isinstance(ingested[i], datetime) else 0.0
        out.append(
            (
                0 if has_header[i] else 1,
                -length[i],
                0 if ref_src[i] == "metadata" else 1,
                -ts,
                uri[i] or "",
                member[i] or "",
                loc[i] or "",
            )
        )
    return out


def _where(row: dict[str, Any]) -> str:
    where = row.get("source_uri") or "?"
    if row.get("source_member"):
        where += f"!{row['source_member']}"
    return f"{where} ({row.get('source_location') or '?'}, run {row.get('run_id') or '?'})"


def _seen(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in SEEN_FIELDS}


def _seen_key(s: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(s.get(k) or "") for k in SEEN_FIELDS)


@dataclass
class Decision:
    """The outcome of a merge, by row position among the candidates (decided on :func:`narrow` rows)."""

    winners: list[int]
    """One row per key (and every row without a key), sorted by (year, key)."""
    also_seen_in: dict[int, list[dict[str, Any]]]
    """The ``also_seen_in`` of every winner."""
    losers: dict[int, tuple[int, str]]
    """loser row -> (winner row, key)."""
    lineage: dict[int, dict[str, Any]]
    """Lineage (``SEEN_FIELDS``) of every winner that has losers (for the quarantine rows' detail)."""
    new_losers: int
    """How many losers came from the new rows (the rest were already in the lake: displaced)."""


def decide(candidates: pa.Table, is_new: list[bool]) -> Decision:
    """Choose the best copy per key among ``candidates`` (cables rows or their :func:`narrow` view)."""
    key_of = _col(candidates, "key") if "key" in candidates.schema.names else keys(candidates)
    ranks = _ranks(candidates)
    groups: dict[str, list[int]] = defaultdict(list)
    singles: list[int] = []
    for i, k in enumerate(key_of):
        if k is None:
            singles.append(i)
        else:
            groups[k].append(i)
    seen_in = _col(candidates, "also_seen_in")
    winners: list[int] = list(singles)
    also: dict[int, list[dict[str, Any]]] = {i: list(seen_in[i] or []) for i in singles}
    losers: dict[int, tuple[int, str]] = {}
    for k, idx in groups.items():
        idx.sort(key=lambda i: ranks[i])
        w = idx[0]
        winners.append(w)
        entries = list(seen_in[w] or [])
        for j in idx[1:]:
            losers[j] = (w, k)
            entries.extend(seen_in[j] or [])
        also[w] = entries
    has_losers = {w for w, _ in losers.values()}
    lineage_rows = sorted(has_losers | set(losers))
    seen_cols = {f: _col(candidates, f) for f in SEEN_FIELDS}
    lineage = {i: {f: seen_cols[f][i] for f in SEEN_FIELDS} for i in lineage_rows}
    new_losers = 0
    for j, (w, _) in losers.items():
        also[w].append(lineage[j])
        new_losers += bool(is_new[j])
    for w, entries in also.items():
        own = _seen_key(lineage[w]) if w in has_losers else None
        uniq = {_seen_key(e): e for e in entries if _seen_key(e) != own}
        also[w] = [uniq[s] for s in sorted(uniq)]
    years = _col(candidates, "year")
    winners.sort(key=lambda i: (years[i] is None, years[i] or 0, key_of[i] or "", ranks[i]))
    return Decision(winners=winners, also_seen_in=also, losers=losers,
                    lineage={i: lineage[i] for i in sorted(has_losers)}, new_losers=new_losers)


@dataclass
class MergeResult:
    winners: pa.Table
    """One row per key (and every row without a key), ``also_seen_in`` filled, sorted by (year, key)."""
    duplicates: list[dict[str, Any]]
    """Quarantine rows for the losing copies."""
    new_losers: int
    """How many losers came from the new rows (the rest were already in the lake: displaced)."""


def to_quarantine(row: dict[str, Any], winner: dict[str, Any], key: str, run_id: str, ingested_at: datetime) -> dict[str, Any]:
    """The quarantine row of a losing copy ``row`` (a cables row as a dict; ``winner``: its lineage)."""
    record = {k: v for k, v in row.items() if k != "also_seen_in"}
    return {
        "reference_id": row.get("reference_id"),
        "reasons": [DUPLICATE],
        "details": [f"duplicate of {key}: the lake keeps the copy from {_where(winner)}"],
        "stage": "lake",
        "record_json": json.dumps(record, default=_json_default, ensure_ascii=False, sort_keys=True),
        "raw_header": row.get("header"),
        "raw_body": row.get("body"),
        "raw_meta": row.get("source_meta"),
        "raw": None,
        "source_uri": row.get("source_uri"),
        "source_sha256": row.get("source_sha256"),
        "source_member": row.get("source_member"),
        "source_location": row.get("source_location"),
        "source_format": row.get("source_format"),
        "source_encoding": row.get("source_encoding"),
        "run_id": run_id,
        "ingested_at": ingested_at,
        "parser_version": row.get("parser_version"),
        "year": row.get("year"),
    }


def _json_default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def set_also_seen_in(table: pa.Table, values: list[list[dict[str, Any]]]) -> pa.Table:
    """``table`` with its ``also_seen_in`` column replaced by ``values``."""
    field = table.schema.field("also_seen_in")
    column = pa.array(values, type=field.type)
    return table.set_column(table.schema.get_field_index("also_seen_in"), field, column)


def merge(candidates: pa.Table, is_new: list[bool], run_id: str, ingested_at: datetime) -> MergeResult:
    """Keep the best copy per key among ``candidates`` (cables rows, with ``year``), all in memory.

    :func:`etl.lake.publish` takes the same decision (:func:`decide`) on :func:`narrow` rows and streams
    the full rows; this in-memory form is for small tables and tests."""
    n = candidates.num_rows
    dec = decide(narrow(candidates), is_new)
    order = sorted(dec.losers)
    loser_rows = candidates.take(pa.array(order, pa.int64())).to_pylist() if order else []
    duplicates = [
        to_quarantine(row, dec.lineage[dec.losers[j][0]], dec.losers[j][1], run_id, ingested_at)
        for j, row in zip(order, loser_rows, strict=True)
    ]
    table = candidates.take(pa.array(dec.winners, pa.int64())) if n else candidates
    table = set_also_seen_in(table, [dec.also_seen_in[i] for i in dec.winners])
    return MergeResult(winners=table, duplicates=duplicates, new_losers=dec.new_losers)


def rank_order(table: pa.Table) -> list[int]:
    """Row indices grouped by key, best copy first within each key (rows without a key last)."""
    key_of = keys(table)
    ranks = _ranks(table)
    return sorted(range(table.num_rows), key=lambda i: (key_of[i] is None, key_of[i] or "", ranks[i]))
