"""Step validate_run: run the data-quality suites over the parsed rows of a run.

Memory stays bounded whatever the size of the run: the suite sees only the columns its rules read (a few
short columns per cable, plus a row number), and the full rows (bodies, paragraphs...) are then streamed
batch by batch from the staged Parquet into ``validated/cables.parquet`` or ``validated/quarantine.parquet``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.lake import LakePaths, iter_parquet
from etl.pipeline._common import BATCH_ROWS, json_default
from etl.pipeline._dedup import FIRST as DEDUP_SHARD
from etl.pipeline._staging import RunStaging
from etl.schema import schema, staging_schema, to_table

if TYPE_CHECKING:
    from etl.validate import QualityConfig

ROW = "__row"
"""Row number across the run's parsed shards, carried through validation to find each row again."""


def _rejected_rows(
    rows: list[dict[str, Any]], verdicts: list[tuple[list[str], list[str]]], run_id: str
) -> Iterator[dict[str, Any]]:
    for row, (reasons, details) in zip(rows, verdicts, strict=True):
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


def validation_columns(available: list[str]) -> list[str]:
    """The columns the ``cables`` suite reads (directly or through derived helper columns)."""
    from etl.validate import columns_read

    wanted = set(columns_read(available)) | {"reference_id", "dq_warnings"}
    return [c for c in available if c in wanted]


def _missing_id_verdicts(validation: Any) -> None:
    """A row without a reference id can never be a ``cables`` row: move any the suite let through."""
    missing = pc.is_null(validation.cables.column("reference_id"))
    if not pc.any(missing).as_py():
        return
    moved = validation.cables.filter(missing)
    validation.cables = validation.cables.filter(pc.invert(missing))
    validation.rejected = pa.concat_tables(
        [validation.rejected, moved.select(validation.rejected.column_names)]
    )
    validation.reasons = [*validation.reasons, *(["reference_id_missing"] for _ in range(moved.num_rows))]
    validation.details = [
        *validation.details,
        *(
            ["reference_id_missing: not stated by the dump and not derivable from banner + DTG"]
            for _ in range(moved.num_rows)
        ),
    ]


class _Writer:
    def __init__(self, path: Path, sch: pa.Schema) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.schema, self.count = path, sch, 0
        self._w = pq.ParquetWriter(path, sch, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._w.write_table(table.select(self.schema.names).cast(self.schema))
            self.count += table.num_rows

    def close(self) -> None:
        self._w.close()


def _iter_batches(paths: list[Path], sch: pa.Schema, columns: list[str] | None = None) -> Iterator[pa.Table]:
    for p in paths:
        for table in iter_parquet(pq.ParquetFile(p), BATCH_ROWS, columns):
            yield table.cast(sch)


def _light(table: pa.Table) -> pa.Table:
    """Drop the paragraph texts (the suite reads only numbers and portion marks): memory stays small."""
    if "paragraphs" not in table.column_names:
        return table
    paras = table.column("paragraphs").combine_chunks()
    items = paras.flatten()
    text_type = items.type.field("text").type
    light_items = pa.StructArray.from_arrays(
        [items.field(f.name) if f.name != "text" else pa.nulls(len(items), text_type) for f in items.type],
        fields=list(items.type),
    )
    offsets = pc.subtract(paras.offsets, paras.offsets[0])
    light = pa.ListArray.from_arrays(offsets, light_items, type=paras.type, mask=paras.is_null())
    return table.set_column(table.schema.get_field_index("paragraphs"), "paragraphs", light)


_Verdicts = dict[int, tuple[list[str], list[str]]]


def validate_run(lake: str | Path, run_id: str) -> str:
    """Validate every parsed row of the run; returns the path of the validation summary JSON."""
    from etl.validate import QualityConfig  # GE is heavy: imported when the step runs

    staging = RunStaging(lake, run_id)
    config = QualityConfig.load()
    t0 = time.perf_counter()
    # a shard is done once its summary is written; order_for_dedup's shard holds rows of finished shards only
    parsed_files = staging.parsed_files(also=[DEDUP_SHARD])
    verdicts, warnings, report = _judge(parsed_files, run_id, LakePaths(Path(lake)).quality(run_id), config)
    counts = _write_validated(staging, parsed_files, verdicts, warnings)
    summary = {**counts, **report, "seconds": round(time.perf_counter() - t0, 3)}
    out = staging.validated("summary.json")
    out.write_text(json.dumps(summary, default=str), encoding="utf-8")
    return str(out)


def _judge(
    parsed_files: list[Path], run_id: str, quality_dir: Path, config: QualityConfig
) -> tuple[_Verdicts, dict[int, list[str]], dict[str, Any]]:
    """Run the suite over the columns it reads: (row -> reasons and details of a rejected row,
    row -> warnings of a kept row, the report: rule counts and where the results are)."""
    from etl.validate import check_thresholds, validate

    stg = staging_schema("cables")
    cols = validation_columns(stg.names)
    narrow_schema = pa.schema([stg.field(c) for c in cols])
    narrow_parts = [_light(t) for p in parsed_files for t in _iter_batches([p], narrow_schema, cols)]
    narrow = pa.concat_tables(narrow_parts) if narrow_parts else narrow_schema.empty_table()
    narrow = narrow.append_column(ROW, pa.array(range(narrow.num_rows), pa.int64()))
    validation = validate(narrow, run_id=run_id, quality_dir=quality_dir, config=config)
    if validation.rows >= config.threshold_min_rows:
        check_thresholds(validation, config)  # a dump or parser gone wrong fails the run loudly, naming the rule
    _missing_id_verdicts(validation)
    rejected_rows = validation.rejected.column(ROW).to_pylist()
    verdicts = dict(zip(rejected_rows, zip(validation.reasons, validation.details, strict=True), strict=True))
    warn_rows = validation.cables.column(ROW).to_pylist()
    warn_vals = validation.cables.column("dq_warnings").to_pylist()
    warnings = {r: w for r, w in zip(warn_rows, warn_vals, strict=True) if w}
    report = {
        "per_rule": validation.rule_stats,
        "result_path": str(validation.result_path) if validation.result_path else None,
        "docs_index": str(validation.docs_index) if validation.docs_index else None,
    }
    return verdicts, warnings, report


def _write_validated(
    staging: RunStaging, parsed_files: list[Path], verdicts: _Verdicts, warnings: dict[int, list[str]]
) -> dict[str, int]:
    """Stream the full rows, batch by batch, into ``validated/cables.parquet`` (with their warnings) and
    ``validated/quarantine.parquet`` (the rows the suite rejected, after the shards' own rejected rows)."""
    cables_w = _Writer(staging.validated("cables.parquet"), schema("cables"))
    quarantine_w = _Writer(staging.validated("quarantine.parquet"), schema("quarantine"))
    for part in _iter_batches(staging.rejected_files(also=[DEDUP_SHARD]), schema("quarantine")):
        quarantine_w.write(part)
    offset = 0
    for part in _iter_batches(parsed_files, staging_schema("cables")):
        rows = range(offset, offset + part.num_rows)
        rejected_mask = pa.array([r in verdicts for r in rows])
        passed = part.filter(pc.invert(rejected_mask))
        kept_warnings = [warnings.get(r, []) for r in rows if r not in verdicts] if warnings else [[]] * passed.num_rows
        passed = passed.set_column(
            passed.schema.get_field_index("dq_warnings"), "dq_warnings", pa.array(kept_warnings, pa.list_(pa.string()))
        )
        cables_w.write(passed)
        bad = part.filter(rejected_mask) if verdicts else part.slice(0, 0)
        if bad.num_rows:
            bad_verdicts = [verdicts[r] for r in rows if r in verdicts]
            quarantine_w.write(to_table(list(_rejected_rows(bad.to_pylist(), bad_verdicts, staging.run_id)), "quarantine"))
        offset += part.num_rows
    cables_w.close()
    quarantine_w.close()
    return {"cables": cables_w.count, "quarantined": quarantine_w.count}
