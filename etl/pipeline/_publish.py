"""Steps publish_run and refresh_catalog: reconcile, publish into the lake, record the run."""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from etl import catalog as _catalog
from etl.lake import LakePaths, publish, write_parquet
from etl.parse import PARSER_VERSION
from etl.pipeline._common import ReconciliationError, RunSummary, run_info, shard_summaries
from etl.schema import schema, to_table


def publish_run(lake: str | Path, run_id: str) -> dict[str, Any]:
    """Reconcile, publish the run's validated tables into the lake, record the run; returns the summary."""
    paths = LakePaths(Path(lake))
    stage = paths.staging(run_id)
    info = run_info(paths, run_id)
    shards = shard_summaries(paths, run_id)
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
        inputs=[inp for s in shards for inp in s["inputs"]],
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
