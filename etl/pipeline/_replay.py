"""Step stage_replay: re-parse quarantined records (``cablelake run --replay-quarantine``).

Rows that the parse or validate stage set aside are rebuilt into :class:`etl.sources.RawRecord` objects
(raw header/body/meta + lineage) and parsed and validated again into the run's staging folder as one more
shard, like new records. At publish, the rows that now make it into ``cables`` (as the kept
copy or as a ``duplicate``) leave quarantine in the same commit; the rows that still fail keep their original
quarantine row untouched. Reader errors (stage ``sources``) are not replayed: they need the dump read again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from etl.lake import LakePaths, read_current, replay_candidates
from etl.pipeline._common import BATCH_ROWS
from etl.pipeline._parse import write_records
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
    """Re-parse the lake's replayable quarantine rows into the run's staging folder (parsed and validated as
    one more shard, streamed); returns the shard summary path (its ``replay`` entry names the rows: lake
    version, file -> row indices, lineage keys)."""
    staging = RunStaging(lake, run_id)
    t0 = time.perf_counter()
    commit = read_current(LakePaths(Path(lake)).lake)
    rows: dict[str, list[int]] = {}
    keys: dict[str, list[Any]] = {}

    def batches() -> Iterator[list[RawRecord]]:
        batch: list[RawRecord] = []
        for rel, index, row in replay_candidates(commit.loc, commit):
            batch.append(raw_record(row))
            rows.setdefault(rel, []).append(index)
            keys[lineage_key(row)] = [rel, index]
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
        if batch:
            yield batch

    out = write_records(batches(), staging, REPLAY_SHARD, 0, "replay quarantine")
    return staging.write_summary({
        "shard": REPLAY_SHARD,
        "inputs": [],
        **{k: out[k] for k in ("records", "parsed", "rejected", "per_format", "files")},
        "validation": [out["validation"]],
        "seconds": round(time.perf_counter() - t0, 3),
        "replay": {"version": commit.version, "rows": rows, "keys": keys},
    })
