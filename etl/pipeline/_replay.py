"""Step stage_replay: re-parse quarantined records (``cablelake run --replay-quarantine``).

Rows that the parse or validate stage set aside are rebuilt into :class:`etl.sources.RawRecord` objects
(raw header/body/meta + lineage) and parsed again into the run's staging folder as one more shard, so the
validation treats them like new records. At publish, the rows that now make it into ``cables`` (as the kept
copy or as a ``duplicate``) leave quarantine in the same commit; the rows that still fail keep their original
quarantine row untouched. Reader errors (stage ``sources``) are not replayed: they need the dump read again.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from etl.lake import LakePaths, read_current, replay_candidates, write_parquet
from etl.pipeline._common import BATCH_ROWS
from etl.pipeline._parse import _parse_batch
from etl.pipeline._staging import RunStaging
from etl.sources import Lineage, RawRecord

REPLAY_SHARD = "replay"


def lineage_key(row: dict[str, Any]) -> str:
    """Identity of an input record across runs: its dump's bytes and its place in the dump."""
    return json.dumps([row.get(k) for k in ("source_sha256", "source_uri", "source_member", "source_location")])


def raw_record(row: dict[str, Any]) -> RawRecord:
    """The :class:`RawRecord` a quarantine row was made from (as far as the row kept it)."""
    meta = json.loads(row["raw_meta"]) if row.get("raw_meta") else {}
    lineage = Lineage(
        source_uri=row["source_uri"],
        source_sha256=row.get("source_sha256") or "",
        member=row.get("source_member"),
        location=row.get("source_location") or "",
        format=row.get("source_format") or "unknown",
        encoding=row.get("source_encoding"),
    )
    return RawRecord(
        lineage=lineage,
        header=row.get("raw_header") or "",
        body=row.get("raw_body") or "",
        meta={str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {},
        raw=row.get("raw") or "",
    )


def stage_replay(lake: str | Path, run_id: str) -> str:
    """Re-parse the lake's replayable quarantine rows into the run's staging folder; returns the shard
    summary path (its ``replay`` entry names the rows: lake version, file -> row indices, lineage keys)."""
    staging = RunStaging(lake, run_id)
    ingested_at = datetime.fromisoformat(staging.info()["started_at"])
    t0 = time.perf_counter()
    lake_uri = LakePaths(Path(lake)).lake
    commit = read_current(lake_uri)
    rows: dict[str, list[int]] = {}
    keys: dict[str, list[Any]] = {}
    records: list[RawRecord] = []
    for rel, index, row in replay_candidates(lake_uri, commit):
        records.append(raw_record(row))
        rows.setdefault(rel, []).append(index)
        keys[lineage_key(row)] = [rel, index]
    cables_parts: list[pa.Table] = []
    rejected_parts: list[pa.Table] = []
    per_format: Counter[str] = Counter()
    for start in range(0, len(records), BATCH_ROWS):
        cables, rejected, formats = _parse_batch(records[start : start + BATCH_ROWS], run_id, ingested_at)
        cables_parts.append(cables)
        rejected_parts.append(rejected)
        per_format.update(formats)
    if cables_parts:
        write_parquet(pa.concat_tables(cables_parts), staging.parsed(REPLAY_SHARD))
        write_parquet(pa.concat_tables(rejected_parts), staging.rejected(REPLAY_SHARD))
    return staging.write_summary({
        "shard": REPLAY_SHARD,
        "inputs": [],
        "records": len(records),
        "parsed": sum(t.num_rows for t in cables_parts),
        "rejected": sum(t.num_rows for t in rejected_parts),
        "per_format": dict(per_format),
        "seconds": round(time.perf_counter() - t0, 3),
        "replay": {"version": commit.version, "rows": rows, "keys": keys},
    })
