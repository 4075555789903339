"""Step validate_run: run the data-quality suites over the parsed rows of a run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from etl.lake import LakePaths, read_parquet_dir, write_parquet
from etl.pipeline._common import json_default
from etl.schema import schema, staging_schema, to_table


def _rejected_rows(validation: Any, run_id: str) -> Iterator[dict[str, Any]]:
    rejected: pa.Table = validation.rejected
    for row, reasons, details in zip(rejected.to_pylist(), validation.reasons, validation.details, strict=True):
        meta = json.loads(row["source_meta"]) if row.get("source_meta") else {}
        yield {
            "reference_id": row.get("reference_id"),
            "reasons": reasons,
            "details": details,
            "stage": "validate",
            "record_json": json.dumps(row, default=json_default, ensure_ascii=False),
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


def _require_ids(validation: Any) -> None:
    """A row without a reference id can never be a ``cables`` row: move any the suite let through."""
    ids = validation.cables.column("reference_id")
    missing = pc.is_null(ids)
    if not pc.any(missing).as_py():
        return
    moved = validation.cables.filter(missing)
    validation.cables = validation.cables.filter(pc.invert(missing))
    validation.rejected = pa.concat_tables([validation.rejected, moved.cast(validation.rejected.schema)])
    problems = ["reference_id: not stated and not derivable"] * moved.num_rows
    validation.reasons = [*validation.reasons, *(["reference_id_missing"] for _ in problems)]
    validation.details = [*validation.details, *([p] for p in problems)]


def validate_run(lake: str | Path, run_id: str) -> str:
    """Validate every parsed row of the run; returns the path of the validation summary JSON."""
    from etl.validate import validate  # GE is heavy: imported when the step runs

    paths = LakePaths(Path(lake))
    stage = paths.staging(run_id)
    t0 = time.perf_counter()
    parsed = read_parquet_dir(sorted((stage / "parsed").glob("*.parquet")), staging_schema("cables"))
    validation = validate(parsed, run_id=run_id, quality_dir=paths.quality(run_id))
    rejected_before = read_parquet_dir(sorted((stage / "rejected").glob("*.parquet")), schema("quarantine"))
    _require_ids(validation)
    rejected_now = to_table(list(_rejected_rows(validation, run_id)), "quarantine")
    quarantine = pa.concat_tables([rejected_before, rejected_now])
    out = stage / "validated"
    write_parquet(validation.cables.cast(schema("cables")), out / "cables.parquet")
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
