"""Step parse_dump: read one dump, parse its records, stage cables rows and quarantine rows."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from etl.lake import LakePaths
from etl.parse import PARSER_VERSION, parse
from etl.pipeline._common import BATCH_ROWS, RAW_CAP, json_default, run_info
from etl.schema import schema, to_table
from etl.sources import Dump, RawRecord, discover, iter_records


def _lineage_columns(rec: RawRecord, run_id: str, ingested_at: datetime) -> dict[str, Any]:
    lin = rec.lineage
    return {
        "source_uri": lin.source_uri,
        "source_sha256": lin.source_sha256,
        "source_member": lin.member,
        "source_location": lin.location,
        "source_format": lin.format,
        "source_encoding": lin.encoding,
        "source_meta": json.dumps(rec.meta, ensure_ascii=False, sort_keys=True) if rec.meta else None,
        "run_id": run_id,
        "ingested_at": ingested_at,
        "parser_version": PARSER_VERSION,
    }


def _year_of(row: dict[str, Any]) -> int | None:
    sent = row.get("sent_at")
    if isinstance(sent, datetime):
        return sent.year
    rid = row.get("reference_id") or ""
    if len(rid) >= 2 and rid[:2].isdigit():
        yy = int(rid[:2])
        return 1900 + yy if yy >= 40 else 2000 + yy
    return None


def quarantine_row(
    rec: RawRecord,
    *,
    reasons: list[str],
    details: list[str],
    stage: str,
    run_id: str,
    ingested_at: datetime,
    parsed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``quarantine`` row for a record that cannot become a ``cables`` row."""
    row = _lineage_columns(rec, run_id, ingested_at)
    row.pop("source_meta")
    row.update(
        reference_id=(parsed or {}).get("reference_id") or rec.meta.get("reference_id"),
        reasons=reasons,
        details=details,
        stage=stage,
        record_json=json.dumps(parsed, default=json_default, ensure_ascii=False) if parsed else None,
        raw_header=rec.header or None,
        raw_body=rec.body or None,
        raw_meta=json.dumps(rec.meta, ensure_ascii=False, sort_keys=True) if rec.meta else None,
        raw=rec.raw[:RAW_CAP] if rec.raw else None,
        year=_year_of(parsed or {}) if parsed else None,
    )
    return row


def parse_record(rec: RawRecord, run_id: str, ingested_at: datetime) -> tuple[str, dict[str, Any]]:
    """Parse one raw record into ``("cables", row)`` or ``("quarantine", row)``."""
    if rec.error:
        reason, _, detail = rec.error.partition(":")
        return "quarantine", quarantine_row(
            rec,
            reasons=[f"read:{reason.strip()}"],
            details=[detail.strip() or reason],
            stage="sources",
            run_id=run_id,
            ingested_at=ingested_at,
        )
    try:
        fields = parse(rec)
    except Exception as exc:  # the parser promises not to raise; if it does, the record is kept anyway
        return "quarantine", quarantine_row(
            rec,
            reasons=["parse_error"],
            details=[f"{type(exc).__name__}: {exc}"],
            stage="parse",
            run_id=run_id,
            ingested_at=ingested_at,
        )
    fields.pop("_problems", None)
    row = {**fields, **_lineage_columns(rec, run_id, ingested_at)}
    row["year"] = _year_of(row)
    return "cables", row


class _ShardWriter:
    """Streams rows of one table into one Parquet file in batches (bounded memory)."""

    def __init__(self, path: Path, table: str) -> None:
        self.path = path
        self.table = table
        self.schema = schema(table)
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(to_table(self.rows, self.table))
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()


def _find_dump(uri: str) -> Dump:
    dumps = discover([uri])
    if len(dumps) != 1:
        raise ValueError(f"{uri}: expected exactly one dump, found {len(dumps)}")
    return dumps[0]


def parse_dump(uri: str, lake: str | Path, run_id: str) -> str:
    """Read and parse every record of one dump into the run's staging folder.

    Returns the path of the shard summary (JSON: counts per format and the dump's lineage).
    """
    paths = LakePaths(Path(lake))
    info = run_info(paths, run_id)
    ingested_at = datetime.fromisoformat(info["started_at"])
    dump = _find_dump(uri)
    shard = dump.sha256[:16]
    stage = paths.staging(run_id)
    t0 = time.perf_counter()
    writers = {
        "cables": _ShardWriter(stage / "parsed" / f"{shard}.parquet", "cables"),
        "quarantine": _ShardWriter(stage / "rejected" / f"{shard}.parquet", "quarantine"),
    }
    per_format: Counter[str] = Counter()
    for rec in iter_records(dump):
        per_format[rec.lineage.format] += 1
        table, row = parse_record(rec, run_id, ingested_at)
        writers[table].add(row)
    for w in writers.values():
        w.close()
    summary = {
        "uri": dump.uri,
        "sha256": dump.sha256,
        "size": dump.size,
        "records": sum(per_format.values()),
        "parsed": writers["cables"].count,
        "rejected": writers["quarantine"].count,
        "per_format": dict(per_format),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    out = stage / "shards" / f"{shard}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary), encoding="utf-8")
    return str(out)
