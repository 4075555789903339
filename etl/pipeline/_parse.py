"""Step parse_dump: read one dump, parse its records, stage cables rows and quarantine rows."""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl._century import century
from etl.parse import PARSER_VERSION, cable_found, parse
from etl.pipeline._common import BATCH_ROWS, RAW_CAP, json_default
from etl.pipeline._config import RunConfig
from etl.pipeline._staging import RunStaging, shard_id
from etl.progress import Progress
from etl.schema import schema, staging_schema, to_table
from etl.sources import Dump, Lineage, RawRecord, discover, iter_records, landmarks

log = logging.getLogger(__name__)


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
        return century(int(rid[:2]))
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
    if not cable_found(fields):
        seen = landmarks(f"{rec.header}\n{rec.body}" if rec.header else rec.body)
        return "quarantine", quarantine_row(
            rec,
            reasons=["no_cable_found"],
            details=["no cable found (no id, DTG, FM line, banner, E.O. or TAGS read); landmarks seen: "
                     + (", ".join(seen) + " - a layout the parser missed" if seen else "none - not a cable")],
            stage="parse",
            run_id=run_id,
            ingested_at=ingested_at,
        )
    problems = fields.pop("_problems", None)
    fields["parse_problems"] = list(problems) if problems else []
    row = {**fields, **_lineage_columns(rec, run_id, ingested_at)}
    row["year"] = _year_of(row)
    return "cables", row


class _ShardWriter:
    """Streams Arrow batches of one table into one Parquet file (bounded memory)."""

    def __init__(self, path: Path, table: str, *, staging: bool = False) -> None:
        self.path = path
        self.schema = staging_schema(table) if staging else schema(table)
        self.count = 0
        self._writer: pq.ParquetWriter | None = None

    @property
    def _part(self) -> Path:
        return self.path.with_name(f".{self.path.name}.part")

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._part, self.schema, compression="zstd")
        self._writer.write_table(table)
        self.count += table.num_rows

    def close(self) -> None:
        """Finish the file and give it its real name: a shard that died half-way never looks finished."""
        if self._writer is not None:
            self._writer.close()
            os.replace(self._part, self.path)


_Batch = tuple[pa.Table, pa.Table, dict[str, int]]


def _parse_batch(records: list[RawRecord], run_id: str, ingested_at: datetime) -> _Batch:
    """Parse a batch of records into (cables, quarantine, records per format); runs in pool workers."""
    rows: dict[str, list[dict[str, Any]]] = {"cables": [], "quarantine": []}
    per_format: Counter[str] = Counter()
    for rec in records:
        per_format[rec.lineage.format] += 1
        table, row = parse_record(rec, run_id, ingested_at)
        rows[table].append(row)
    return (
        to_table(rows["cables"], "cables", staging=True),
        to_table(rows["quarantine"], "quarantine"),
        dict(per_format),
    )


def _records(dump: Dump, failed: list[dict[str, Any]]) -> Iterator[RawRecord]:
    """The records of ``dump``. Readers turn bad input into error records; if one raises all the same, the
    dump is recorded in ``failed`` and ends with one error record naming it and where reading stopped."""
    n = 0
    try:
        for rec in iter_records(dump):
            n += 1
            yield rec
    except Exception as exc:  # a reader bug or a failure below it: this dump stops, the shard goes on
        error = f"{type(exc).__name__}: {exc}"
        log.exception("reading dump %s failed after %d record(s)", dump.uri, n)
        failed.append({"uri": dump.uri, "sha256": dump.sha256, "error": error})
        lineage = Lineage(source_uri=dump.uri, source_sha256=dump.sha256, member=None,
                          location=f"record {n + 1}", format="unknown")
        yield RawRecord(lineage=lineage, error=f"dump_failed: {dump.uri}: reader raised after {n} record(s): {error}")


def _batches(dumps: Sequence[Dump], per_dump: Counter[str], failed: list[dict[str, Any]]) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for dump in dumps:
        for rec in _records(dump, failed):
            per_dump[dump.uri] += 1
            batch.append(rec)
            if len(batch) >= BATCH_ROWS:
                yield batch
                batch = []
    if batch:
        yield batch


def _parsed_batches(
    batches: Iterator[list[RawRecord]], run_id: str, ingested_at: datetime, workers: int
) -> Iterator[_Batch]:
    """Parse batches in order, in a process pool once the input proves larger than one batch."""
    first = next(batches, None)
    if first is None:
        return
    second = next(batches, None)
    if second is None or workers <= 1:
        yield _parse_batch(first, run_id, ingested_at)
        if second is not None:
            yield _parse_batch(second, run_id, ingested_at)
            for b in batches:
                yield _parse_batch(b, run_id, ingested_at)
        return
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: deque[Future[_Batch]] = deque()
        for b in itertools.chain([first, second], batches):
            pending.append(pool.submit(_parse_batch, b, run_id, ingested_at))
            while len(pending) > 2 * workers:  # bounded: memory does not grow with the input
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def parse_dump(uri: str | Sequence[str], lake: str | Path, run_id: str, workers: int | None = None) -> str:
    """Read and parse every record of one dump (or a shard: a list of dumps) into the run's staging folder.

    Writes the shard's cables rows and quarantine rows (:class:`RunStaging` ``parsed``/``rejected``) and
    returns the path of its summary (inputs with sha256 and record counts, per-format counts). A dump whose
    reader raises does not stop the shard: it is listed under ``failed`` (not under ``inputs``, so the lake
    does not count it as ingested and the next run reads it again), and its error record is a quarantine row.
    """
    uris = [uri] if isinstance(uri, str) else list(uri)
    staging = RunStaging(lake, run_id)
    ingested_at = datetime.fromisoformat(staging.info()["started_at"])
    dumps = discover(uris)
    shard = shard_id([d.uri for d in dumps])
    t0 = time.perf_counter()
    writers = {
        "cables": _ShardWriter(staging.parsed(shard), "cables", staging=True),
        "quarantine": _ShardWriter(staging.rejected(shard), "quarantine"),
    }
    per_format: Counter[str] = Counter()
    per_dump: Counter[str] = Counter()
    failed: list[dict[str, Any]] = []
    batches = _batches(dumps, per_dump, failed)
    label = f"parse {dumps[0].uri if len(dumps) == 1 else f'{len(dumps)} dumps'}"
    with Progress(label, unit="records") as progress:
        for cables, quarantine, formats in _parsed_batches(
            batches, run_id, ingested_at, RunConfig.from_env().parse_processes(workers)
        ):
            writers["cables"].write(cables)
            writers["quarantine"].write(quarantine)
            per_format.update(formats)
            progress.update(cables.num_rows + quarantine.num_rows, cables=cables.num_rows,
                            quarantined=quarantine.num_rows)
    for w in writers.values():
        w.close()
    failed_uris = {f["uri"] for f in failed}
    return staging.write_summary({
        "shard": shard,
        "inputs": [
            {"uri": d.uri, "sha256": d.sha256, "size": d.size, "records": per_dump[d.uri]}
            for d in dumps
            if d.uri not in failed_uris
        ],
        "failed": [{**f, "records": per_dump[f["uri"]]} for f in failed],
        "records": sum(per_format.values()),
        "parsed": writers["cables"].count,
        "rejected": writers["quarantine"].count,
        "per_format": dict(per_format),
        "seconds": round(time.perf_counter() - t0, 3),
    })


@dataclass(frozen=True)
class ShardOutcome:
    """What :func:`parse_shard` did: the summaries of the shards it parsed, the dumps that failed."""

    done: list[str]
    failed: list[dict[str, Any]]


def parse_shard(
    uris: Sequence[str], lake: str | Path, run_id: str, attempt: int, workers: int | None = None
) -> ShardOutcome:
    """Parse a shard of dumps so that one bad dump costs only itself.

    First the whole shard; if that raises, its dumps one by one. The dumps that failed either way (their
    reader or the whole step raised) are recorded under ``attempt`` (the mapped task's index) together with
    the shards that were finished, after undoing what an earlier try of the same attempt recorded.
    """
    staging = RunStaging(lake, run_id)
    staging.forget_attempt(attempt)
    done: list[str] = []
    failed: list[dict[str, Any]] = []
    try:
        done.append(parse_dump(uris, lake, run_id, workers=workers))
    except Exception as exc:
        log.exception("parsing %d dump(s) at once failed", len(uris))
        if len(uris) == 1:
            failed.append({"uri": uris[0], "error": f"{type(exc).__name__}: {exc}"})
        for uri in uris if len(uris) > 1 else []:
            try:
                done.append(parse_dump(uri, lake, run_id, workers=workers))
            except Exception as exc:
                log.exception("cannot parse dump %s", uri)
                failed.append({"uri": uri, "error": f"{type(exc).__name__}: {exc}"})
    failed += [f for summary in done for f in json.loads(Path(summary).read_text("utf-8"))["failed"]]
    if failed:
        staging.record_failures(attempt, done, failed)
    return ShardOutcome(done, failed)
