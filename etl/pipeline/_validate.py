"""Validation: in the parse workers, chunk by chunk (:class:`ChunkValidator`); run-wide, the step
:func:`validate_run` (thresholds on the summed counts, the run's repeated ids).

A parse worker hands its parsed rows to a :class:`ChunkValidator` in Arrow batches. Every ``chunk_rows``
rows, the suite (GX) runs over the columns its rules read (a few short columns per cable, paragraph texts
dropped), the rows it rejects become quarantine rows, and the rows it passes (with their ``dq_warnings``)
are written once, as data files of the lake's ``cables`` table, which the publish commits as they are.
Memory is one chunk, whatever the size of the run. The worker returns only counts.
"""

from __future__ import annotations

import ctypes
import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from etl.lake import FileEntry, FileSet, LakePaths
from etl.lake._merge import set_also_seen_in
from etl.pipeline._common import json_default
from etl.pipeline._staging import RunStaging
from etl.schema import schema, to_table

if TYPE_CHECKING:
    from etl.validate import QualityConfig

ROW = "__row"
"""Row number within a chunk, carried through validation to find each row again."""
UNIQUE_RULE = "reference_id_unique"
UNIQUE_HELPER = "_dq_reference_id_first"
"""The helper column of ``reference_id_unique``: a chunk cannot see the run, so the workers pass it as true
and :func:`validate_run` counts the run's repeated ids itself; the lake's merge keeps the best copy."""
CHUNK_ROWS = 4_000
"""Rows per validation. A GX call costs ~0.1 s of CPU plus ~5-10 us a row (``bench/validate_bench.py``; it was
~0.2 s before the GX session and its metric graph were kept from chunk to chunk): larger chunks are cheaper,
smaller ones hold less in memory (a chunk of full rows, ~17 KB each with body and paragraphs, waits for it)."""
WORKER_BUFFER_BYTES = 24 << 20
"""The rows a parse worker buffers before writing its data files (a worker holds little else)."""
WORKER_OPEN_ROWS = 48_000
"""The rows a parse worker's open data files hold together before the largest is finished: an open file keeps
its row groups' metadata (~24 MB for 48,000 rows), which would otherwise grow with the run (~60 MB per worker
at 251k rows, without bound beyond). Each early finish adds a file to a partition, and a partition of more than
``COMPACT_THRESHOLD`` files is rewritten after the publish: 16,000 split 2009 into 23 files at 251k rows (a
compaction), 48,000 gives at most 8."""


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


def _sorted_by_id(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, sort_keys=[("reference_id", "ascending")])) if table.num_rows > 1 else table


def _normal_seen(table: pa.Table) -> pa.Table:
    """``also_seen_in`` as the lake stores a copy without other copies (unique, sorted), so the publish can
    commit the file as it is."""
    from etl.lake._merge import normal_seen

    seen = table.column("also_seen_in")
    if not pc.sum(pc.fill_null(pc.list_value_length(seen), 0)).as_py():
        return table
    return set_also_seen_in(table, [normal_seen(v) for v in seen.to_pylist()])


class ChunkValidator:
    """Validate a parse worker's cables rows chunk by chunk and write the outcome (see the module doc).

    ``write`` takes parsed cables rows (staging schema) and returns the quarantine rows of the chunks it
    finished; :meth:`close` validates the rest and finishes the data files. ``files``: the data files
    written (relative to the :class:`FileSet` root), ``counts``: rows, rejected rows, per-rule failures.
    """

    def __init__(self, files: FileSet, run_id: str, quality_dir: Path | None, config: QualityConfig,
                 chunk_rows: int | None = None, gate: AbstractContextManager[Any] | None = None) -> None:
        from etl.schema import staging_schema

        self._gate = gate if gate is not None else nullcontext()
        """Held while a chunk is written, and while the files are finished (the worker's memory peaks; the suite
        runs before, on narrow columns): the parse workers share one, so that their peaks come one after the
        other, never together."""
        self.run_id, self.config = run_id, config
        self.chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows  # (the settings read when used)
        self._quality_dir = quality_dir  # the GX result and Data Docs of the worker's first chunk
        self._writer = files.writer("cables", tag="w", sort=_sorted_by_id, buffer_bytes=WORKER_BUFFER_BYTES,
                                    open_rows=WORKER_OPEN_ROWS)
        self._columns = validation_columns(staging_schema("cables").names)
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.files: list[FileEntry] = []
        self.rows = self.rejected = 0
        self.failed: dict[str, int] = {}
        self.skipped: dict[str, str] = {}
        self.quality: list[str] = []
        self.seconds = 0.0
        self.gate_wait = 0.0
        """Seconds spent waiting for the gate (another worker writing): time this worker's core had no work."""

    def write(self, cables: pa.Table) -> pa.Table | None:
        if cables.num_rows:
            self._pending.append(cables)
            self._pending_rows += cables.num_rows
        if self._pending_rows < self.chunk_rows:
            return None
        return self._flush()

    def close(self) -> pa.Table | None:
        return self._flush(finish=True)

    def _flush(self, finish: bool = False) -> pa.Table | None:
        """Validate the pending rows, then write them (and with ``finish``, finish the data files) under the
        gate. Only the write is gated: it copies, sorts and encodes the chunk's full rows (the worker's memory
        peak), while the suite reads a few narrow columns. A worker waiting at the gate leaves its core idle,
        so the gate is held for the write alone (``gate_wait`` counts the waiting)."""
        checked = self._validate() if self._pending_rows else None
        t0 = time.perf_counter()
        with self._gate:
            t1 = time.perf_counter()
            self.gate_wait += t1 - t0
            out = self._write(*checked) if checked is not None else None
            if finish:
                self.files = self._writer.close()
            self.seconds += time.perf_counter() - t1
        return out

    def _validate(self) -> tuple[list[pa.Table], pa.Array, pa.ChunkedArray, dict[int, tuple[list[str], list[str]]]]:
        """Run the suite over the narrow columns of the pending rows: (their batches, which rows pass, the passed
        rows' ``dq_warnings``, the verdicts of the rejected rows by row number)."""
        from etl.validate import validate

        t0 = time.perf_counter()
        batches, self._pending, self._pending_rows = self._pending, [], 0
        # the suite sees the narrow columns of the whole chunk; the full rows stay in their batches
        narrow = pa.concat_tables([_light(b.select(self._columns)) for b in batches])
        n = narrow.num_rows
        narrow = narrow.append_column(UNIQUE_HELPER, pa.array([True] * n, pa.bool_()))
        narrow = narrow.append_column(ROW, pa.array(range(n), pa.int64()))
        validation = validate(narrow, run_id=self.run_id, quality_dir=self._quality_dir, config=self.config)
        del narrow
        if validation.result_path is not None:
            self.quality.append(str(validation.docs_index or validation.result_path))
        self._quality_dir = None
        _missing_id_verdicts(validation)
        for name, st in validation.rule_stats.items():
            self.failed[name] = self.failed.get(name, 0) + int(st["failed"])
            if st["status"] != "evaluated":
                self.skipped.setdefault(name, st["status"])
        self.rows += n
        kept = pc.is_in(pa.array(range(n), pa.int64()), value_set=validation.cables.column(ROW))
        warnings = validation.cables.column("dq_warnings")
        bad_rows = validation.rejected.column(ROW).to_pylist()
        verdicts = dict(zip(bad_rows, zip(validation.reasons, validation.details, strict=True), strict=True))
        del validation
        self.seconds += time.perf_counter() - t0
        return batches, kept, warnings, verdicts

    def _write(self, batches: list[pa.Table], kept: pa.Array, warnings: pa.ChunkedArray,
               verdicts: dict[int, tuple[list[str], list[str]]]) -> pa.Table | None:
        """Write the passed rows of ``batches`` into the data files; return the rejected ones as quarantine rows."""
        sch = schema("cables")
        rejected: list[dict[str, Any]] = []
        start = done = 0
        while batches:
            batch = batches.pop(0)
            keep = kept.slice(start, batch.num_rows)
            passed = batch.filter(keep)
            passed = passed.set_column(passed.schema.get_field_index("dq_warnings"), "dq_warnings",
                                       warnings.slice(done, passed.num_rows))
            self._writer.write(_normal_seen(passed.select(sch.names).cast(sch)))
            done += passed.num_rows
            if passed.num_rows < batch.num_rows:
                bad = [i for i in range(batch.num_rows) if start + i in verdicts]
                rows = batch.take(pa.array(bad, pa.int64())).to_pylist()
                rejected += _rejected_rows(rows, [verdicts[start + i] for i in bad], self.run_id)
            start += batch.num_rows
            del batch, passed
        _release_memory()
        self.rejected += len(rejected)
        return to_table(rejected, "quarantine") if rejected else None

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "rejected": self.rejected, "failed": self.failed, "skipped": self.skipped,
                "quality": self.quality, "seconds": round(self.seconds, 3),
                "gate_wait": round(self.gate_wait, 3)}


def _release_memory() -> None:
    """Give the memory of a finished chunk back to the system (Arrow's pool, and the C heap where the parse's
    texts lived: without this a worker's resident size creeps up chunk after chunk)."""
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def repeated_ids(staging: RunStaging) -> int:
    """Rows of the run's validated cables whose ``reference_id`` an earlier row of the run has (what the
    ``reference_id_unique`` rule counts, run-wide; read from the id column alone)."""
    from etl.lake._store import Location
    from etl.lake._txn import iter_file

    sch = schema("cables")
    ids = [t.column("reference_id") for f in staging.data_files()
           for t in iter_file(Location.of(f.root), f.entry, sch, ["reference_id"])]
    if not ids:
        return 0
    column = pa.chunked_array([c for col in ids for c in col.chunks], pa.string()).drop_null()
    return len(column) - len(pc.unique(column))


def validate_run(lake: str | Path, run_id: str) -> str:
    """Close the run's validation: sum the counts of every finished shard's workers, count the run's repeated
    ids (``reference_id_unique``), fail the run when a threshold is passed (:func:`check_counts`, run-wide,
    from ``threshold_min_rows`` rows on) and write ``validated/summary.json``; returns its path."""
    from etl.validate import QualityConfig, check_counts, rule_stats

    staging = RunStaging(lake, run_id)
    config = QualityConfig.load()
    t0 = time.perf_counter()
    parts = [v for s in staging.summaries() for v in s.get("validation", [])]
    rows = sum(v["rows"] for v in parts)
    failed: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for v in parts:
        for name, count in v["failed"].items():
            failed[name] = failed.get(name, 0) + count
        for name, status in v["skipped"].items():
            skipped.setdefault(name, status)
    failed[UNIQUE_RULE] = repeated_ids(staging)
    stats = rule_stats(rows, failed, skipped)
    rejected = sum(v["rejected"] for v in parts)
    if rows >= config.threshold_min_rows:
        check_counts(rows, rejected + failed[UNIQUE_RULE], stats, config)  # a dump or parser gone wrong
    quality = [q for v in parts for q in v["quality"]]
    quality_dir = LakePaths(Path(lake)).quality(run_id)
    if parts:
        quality_dir.mkdir(parents=True, exist_ok=True)
        (quality_dir / "rules.json").write_text(json.dumps({"rows": rows, "per_rule": stats}, indent=1))
    summary = {
        "rows": rows,
        "rejected": rejected,
        "per_rule": stats,
        "docs_index": next((q for q in quality if q.endswith(".html")), None),
        "quality": quality,
        "seconds": round(sum(v["seconds"] for v in parts) + time.perf_counter() - t0, 3),
        "gate_wait": round(sum(v.get("gate_wait", 0.0) for v in parts), 3),
    }
    out = staging.validated("summary.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, default=str), encoding="utf-8")
    return str(out)

