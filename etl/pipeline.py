"""The pipeline's steps, as plain functions that pass paths (never data) between them.

The Airflow DAG maps :func:`parse_dump` over the dumps and chains the other steps; the CLI calls
:func:`run`, which chains the very same functions in one process. Each step reads its inputs from and
writes its outputs to the run's staging folder ``<lake>/_staging/<run_id>/``:

    start_run        -> run.json
    parse_dump (xN)  -> parsed/<shard>.parquet (cables rows) + rejected/<shard>.parquet (quarantine rows)
                        + shards/<shard>.json (counts, lineage of the dump)
    validate_run     -> validated/cables.parquet + validated/quarantine.parquet + validated/summary.json
    publish_run      -> lake/cables, lake/quarantine, lake/runs (+ reconciliation check)
    refresh_catalog  -> lake/cables.duckdb
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl import catalog as _catalog
from etl.lake import LakePaths, publish, read_parquet_dir, write_parquet
from etl.parse import PARSER_VERSION, parse
from etl.schema import schema, to_table
from etl.sources import Dump, RawRecord, discover, iter_records

BATCH_ROWS = 2_000
RAW_CAP = 1 << 20  # keep at most 1 MiB of a record's raw text in quarantine


class ReconciliationError(RuntimeError):
    """Records found != cables + quarantine: the run cannot be trusted."""


@dataclass
class RunSummary:
    run_id: str
    lake: str
    records_found: int = 0
    cables: int = 0
    quarantined: int = 0
    per_format: dict[str, int] = field(default_factory=dict)
    per_reason: dict[str, int] = field(default_factory=dict)
    per_rule: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    quality_docs: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------------------------- run


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(lake: str | Path, run_id: str | None = None) -> str:
    """Create the run's staging folder and record its start; returns the run id."""
    paths = LakePaths(Path(lake))
    run_id = run_id or new_run_id()
    stage = paths.staging(run_id)
    stage.mkdir(parents=True, exist_ok=True)
    info = {"run_id": run_id, "started_at": datetime.now(UTC).isoformat(), "lake": str(paths.root.resolve())}
    (stage / "run.json").write_text(json.dumps(info), encoding="utf-8")
    return run_id


def _run_info(paths: LakePaths, run_id: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((paths.staging(run_id) / "run.json").read_text(encoding="utf-8"))
    return info


def find_dumps(sources: Sequence[str]) -> list[str]:
    """Expand files, directories, globs and URLs into the dumps to read (their URIs)."""
    return [d.uri for d in discover(list(sources))]


# ------------------------------------------------------------------------------------------- parse


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


def _json_default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


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
        record_json=json.dumps(parsed, default=_json_default, ensure_ascii=False) if parsed else None,
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
    info = _run_info(paths, run_id)
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


# ---------------------------------------------------------------------------------------- validate


def _shard_summaries(paths: LakePaths, run_id: str) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((paths.staging(run_id) / "shards").glob("*.json"))
    ]


def _rejected_rows(validation: Any, run_id: str) -> Iterator[dict[str, Any]]:
    rejected: pa.Table = validation.rejected
    for row, reasons, details in zip(rejected.to_pylist(), validation.reasons, validation.details, strict=True):
        meta = json.loads(row["source_meta"]) if row.get("source_meta") else {}
        yield {
            "reference_id": row.get("reference_id"),
            "reasons": reasons,
            "details": details,
            "stage": "validate",
            "record_json": json.dumps(row, default=_json_default, ensure_ascii=False),
            "raw_header": row.get("header"),
            "raw_body": row.get("body"),
            "raw_meta": json.dumps(meta, ensure_ascii=False, sort_keys=True) if meta else None,
            "raw": None,
            **{k: row.get(k) for k in schema("quarantine").names if k.startswith("source_")},
            "run_id": run_id,
            "ingested_at": row.get("ingested_at"),
            "parser_version": row.get("parser_version"),
            "year": row.get("year"),
        }


def validate_run(lake: str | Path, run_id: str) -> str:
    """Validate every parsed row of the run; returns the path of the validation summary JSON."""
    from etl.validate import validate  # GE is heavy: imported when the step runs

    paths = LakePaths(Path(lake))
    stage = paths.staging(run_id)
    t0 = time.perf_counter()
    parsed = read_parquet_dir(sorted((stage / "parsed").glob("*.parquet")), schema("cables"))
    validation = validate(parsed, run_id=run_id, quality_dir=paths.quality(run_id))
    rejected_before = read_parquet_dir(sorted((stage / "rejected").glob("*.parquet")), schema("quarantine"))
    rejected_now = to_table(list(_rejected_rows(validation, run_id)), "quarantine")
    quarantine = pa.concat_tables([rejected_before, rejected_now])
    out = stage / "validated"
    write_parquet(validation.cables, out / "cables.parquet")
    write_parquet(quarantine, out / "quarantine.parquet")
    summary = {
        "cables": validation.cables.num_rows,
        "quarantined": quarantine.num_rows,
        "per_rule": validation.rule_stats,
        "result_path": str(validation.result_path) if validation.result_path else None,
        "docs_index": str(validation.docs_index) if validation.docs_index else None,
        "seconds": round(time.perf_counter() - t0, 3),
    }
    (out / "summary.json").write_text(json.dumps(summary, default=str), encoding="utf-8")
    return str(out / "summary.json")


# ----------------------------------------------------------------------------------------- publish


def publish_run(lake: str | Path, run_id: str) -> dict[str, Any]:
    """Reconcile, publish the run's validated tables into the lake, record the run; returns the summary."""
    paths = LakePaths(Path(lake))
    stage = paths.staging(run_id)
    info = _run_info(paths, run_id)
    shards = _shard_summaries(paths, run_id)
    vsum = json.loads((stage / "validated" / "summary.json").read_text(encoding="utf-8"))
    cables = pq.read_table(stage / "validated" / "cables.parquet", schema=schema("cables"))
    quarantine = pq.read_table(stage / "validated" / "quarantine.parquet", schema=schema("quarantine"))

    found = sum(s["records"] for s in shards)
    if found != cables.num_rows + quarantine.num_rows:
        raise ReconciliationError(
            f"run {run_id}: {found} records found but {cables.num_rows} cables + "
            f"{quarantine.num_rows} quarantined = {cables.num_rows + quarantine.num_rows}"
        )
    per_format: Counter[str] = Counter()
    for s in shards:
        per_format.update(s["per_format"])
    per_reason: Counter[str] = Counter()
    for reasons in quarantine.column("reasons").to_pylist():
        per_reason.update(reasons or [])
    t0 = time.perf_counter()
    publish(paths, run_id, {"cables": cables, "quarantine": quarantine})
    finished = datetime.now(UTC)
    summary = RunSummary(
        run_id=run_id,
        lake=str(paths.root),
        records_found=found,
        cables=cables.num_rows,
        quarantined=quarantine.num_rows,
        per_format=dict(per_format),
        per_reason=dict(per_reason.most_common()),
        per_rule=vsum["per_rule"],
        inputs=[{"uri": s["uri"], "sha256": s["sha256"], "size": s["size"], "records": s["records"]} for s in shards],
        timings={
            "parse": round(sum(s["seconds"] for s in shards), 3),
            "validate": vsum["seconds"],
            "publish": round(time.perf_counter() - t0, 3),
        },
        quality_docs=vsum.get("docs_index"),
    )
    runs_row = {
        "run_id": run_id,
        "started_at": datetime.fromisoformat(info["started_at"]),
        "finished_at": finished,
        "status": "published",
        "schema_version": schema("cables").metadata[b"cablelake.schema_version"].decode(),
        "parser_version": PARSER_VERSION,
        "inputs": summary.inputs,
        "records_found": found,
        "cables": summary.cables,
        "quarantined": summary.quarantined,
        "per_format": json.dumps(summary.per_format),
        "per_reason": json.dumps(summary.per_reason),
        "per_rule": json.dumps(summary.per_rule, default=str),
        "timings": json.dumps(summary.timings),
    }
    write_parquet(to_table([runs_row], "runs"), paths.runs / f"{run_id}.parquet")
    (paths.root / "_summaries").mkdir(exist_ok=True)
    (paths.root / "_summaries" / f"{run_id}.json").write_text(json.dumps(summary.to_dict(), default=str))
    shutil.rmtree(stage, ignore_errors=True)
    return summary.to_dict()


def refresh_catalog(lake: str | Path) -> str:
    """Rebuild the DuckDB catalog of views; returns its path."""
    return str(_catalog.refresh(Path(lake)))


# --------------------------------------------------------------------------------------------- all


def run(sources: Iterable[str], lake: str | Path = "lake") -> RunSummary:
    """Run every step in this process: the CLI's ``cablelake run``."""
    t0 = time.perf_counter()
    run_id = start_run(lake)
    dumps = find_dumps(list(sources))
    for uri in dumps:
        parse_dump(uri, lake, run_id)
    validate_run(lake, run_id)
    result = publish_run(lake, run_id)
    t1 = time.perf_counter()
    refresh_catalog(lake)
    result["timings"]["catalog"] = round(time.perf_counter() - t1, 3)
    result["timings"]["total"] = round(time.perf_counter() - t0, 3)
    return RunSummary(**result)
