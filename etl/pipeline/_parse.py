"""Step parse_dump: read a shard of dumps, parse and validate its records in worker processes, stage the
cables rows as lake data files and the quarantine rows."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from etl._century import century
from etl._gc import long_lived
from etl.lake import FileSet, LakePaths, ParquetSink
from etl.parse import PARSER_VERSION, cable_found, parse
from etl.pipeline._common import RAW_CAP, json_default
from etl.pipeline._config import RunConfig
from etl.pipeline._staging import RunStaging, shard_id
from etl.pipeline._validate import ChunkValidator
from etl.progress import Progress
from etl.schema import schema, to_table
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


REJECTED_BUFFER_BYTES = 4 << 20
"""Quarantine rows a parse worker buffers before writing them (a few rows per batch of records would
otherwise each make a row group, whose metadata the open file keeps until it is closed)."""


class _RejectedWriter:
    """Streams quarantine rows into one Parquet file (bounded memory), named only once finished."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._sink: ParquetSink | None = None
        self._buffer: list[pa.Table] = []
        self._buffered = 0  # bytes in _buffer

    def write(self, table: pa.Table | None) -> None:
        if table is None or table.num_rows == 0:
            return
        self._buffer.append(table)
        self._buffered += table.nbytes
        self.count += table.num_rows
        if self._buffered >= REJECTED_BUFFER_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._sink is None:
            self._sink = ParquetSink(self.path.parent, self.path.name, schema("quarantine"))
        self._sink.write(pa.concat_tables(self._buffer))
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        self._flush()
        if self._sink is not None:
            self._sink.close()


_Batch = tuple[pa.Table, pa.Table, dict[str, int]]


def _parse_batch(records: list[RawRecord], run_id: str, ingested_at: datetime) -> _Batch:
    """Parse a batch of records into (cables, quarantine, records per format)."""
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


PARSE_BATCH = 500
"""Records parsed at a time (their Python rows are the parse's working memory)."""


def _batches(dumps: Sequence[Dump], per_dump: Counter[str], failed: list[dict[str, Any]], part: int = 0,
             parts: int = 1) -> Iterator[list[RawRecord]]:
    """Batches of ``PARSE_BATCH`` records of the dumps; with ``parts`` workers, only every ``parts``-th batch
    from the ``part``-th on (every worker reads the dumps, each parses its own batches: a worker receives
    its work as a number, never as records). ``per_dump`` counts every record read."""
    batch: list[RawRecord] = []
    index = size = 0
    for dump in dumps:
        for rec in _records(dump, failed):
            per_dump[dump.uri] += 1
            if index % parts == part:
                batch.append(rec)
            size += 1
            if size == PARSE_BATCH:
                if batch:
                    yield batch
                batch, size, index = [], 0, index + 1
    if batch:
        yield batch


@dataclass(frozen=True)
class _Unit:
    """The work of one parse worker: the shard's dumps (described, not read) and which batches are its own."""

    lake: str
    run_id: str
    shard: str
    dumps: tuple[Dump, ...]
    part: int
    parts: int
    label: str


class _Gate:
    """A lock the parse workers share around their memory peaks (a chunk's write, the files finished; not its
    validation, which reads narrow columns), so that the peaks of two workers come one after the other instead of adding up. Best effort:
    a worker that waited ``GATE_TIMEOUT`` seconds goes on without it, so a worker killed while holding it
    cannot stall the others."""

    def __init__(self, lock: Any) -> None:
        self.lock = lock
        self._held = False

    def __enter__(self) -> None:
        self._held = bool(self.lock.acquire(timeout=GATE_TIMEOUT))

    def __exit__(self, *_: object) -> None:
        if self._held:
            self._held = False
            self.lock.release()


GATE_TIMEOUT = 300.0
_GATE: _Gate | None = None
"""This worker process's share of the workers' gate (``None`` when the shard is parsed in this process)."""


ORPHAN_POLL = 1.0
"""Seconds between a parse worker's looks at whether the process that started it is still there."""


def _init_worker(lock: Any, parent: int) -> None:
    global _GATE
    _GATE = _Gate(lock)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="cablelake-parent-watch", daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    """Stop this worker once the run that started it is gone (killed by SIGKILL, or by a SIGTERM sent to it
    alone): the workers are children of multiprocessing's forkserver, not of the run, so nothing else would stop
    them, and they would parse their shard to the end for nobody, in a staging folder the next run recovers.
    Leaving mid-write is what a SIGKILL of the whole run does too: the lake never sees a worker's files
    before the run's own commit."""
    while True:
        time.sleep(ORPHAN_POLL)
        if not _alive(parent):
            log.warning("the run (pid %d) is gone: parse worker %d stops", parent, os.getpid())
            os._exit(70)  # (EX_SOFTWARE) no cleanup: the staging folder is the next run's to recover


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel whether the pid exists
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def write_records(
    records: Iterable[list[RawRecord]], staging: RunStaging, shard: str, part: int, label: str
) -> dict[str, Any]:
    """Parse, validate and write batches of records as worker ``part`` of ``shard``: validated cables rows
    as lake data files under :meth:`RunStaging.parsed`, quarantine rows into :meth:`RunStaging.rejected`.
    Returns the worker's counts (records, per format, data files, validation counts)."""
    from etl.validate import QualityConfig

    run_id = staging.run_id
    ingested_at = datetime.fromisoformat(staging.info()["started_at"])
    quality = LakePaths(staging.lake).quality(run_id) / f"{shard}-{part}"
    validator = ChunkValidator(FileSet(staging.parsed(shard, part), run_id), run_id, quality, QualityConfig.load(),
                               gate=_GATE)
    rejected = _RejectedWriter(staging.rejected(shard, part))
    per_format: Counter[str] = Counter()
    with Progress(label, unit="records") as progress, long_lived() as heap:
        engine_loaded = False
        for batch in records:
            cables, quarantine, formats = _parse_batch(batch, run_id, ingested_at)
            rejected.write(quarantine)
            rejected.write(validator.write(cables))
            if not engine_loaded and validator.rows:  # the first chunk loaded the rule engine: long-lived too
                heap.settle()
                engine_loaded = True
            per_format.update(formats)
            progress.update(len(batch), cables=cables.num_rows, quarantined=quarantine.num_rows)
        rejected.write(validator.close())
    rejected.close()
    return {
        "part": part,
        "records": sum(per_format.values()),
        "parsed": validator.rows - validator.rejected,
        "rejected": rejected.count,
        "per_format": dict(per_format),
        "files": [{"part": part, **f.to_dict()} for f in validator.files],
        "validation": validator.summary(),
    }


def _parse_part(unit: _Unit) -> dict[str, Any]:
    """One parse worker (in a pool process, or in this one): read the dumps, parse and validate its own
    batches, write them; returns only counts."""
    staging = RunStaging(unit.lake, unit.run_id)
    per_dump: Counter[str] = Counter()
    failed: list[dict[str, Any]] = []
    t0 = time.process_time()
    out = write_records(_batches(unit.dumps, per_dump, failed, unit.part, unit.parts), staging, unit.shard,
                        unit.part, unit.label)
    return {**out, "per_dump": dict(per_dump), "failed": failed, "cpu": round(time.process_time() - t0, 3)}


PARALLEL_MIN_BYTES = 8 << 20
"""Shards smaller than this are parsed in this process: starting workers (and GX in each) costs seconds."""


def _parse_parts(units: list[_Unit]) -> list[dict[str, Any]]:
    if len(units) == 1:
        return [_parse_part(units[0])]
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=len(units), mp_context=ctx, initializer=_init_worker,
                             initargs=(ctx.Lock(), os.getpid())) as pool:
        try:
            return list(pool.map(_parse_part, units))
        except BaseException:  # a worker failed, or the run was interrupted (Ctrl-C, SIGTERM: see etl.cli)
            _stop_workers(pool)
            raise


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now: leaving the ``with`` block (or the interpreter's exit, which joins the pool's
    manager thread) would wait for each to finish its shard. The workers are taken before the shutdown, which
    forgets them."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # (Python 3.14 has terminate_workers)
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()


def parse_dump(uri: str | Sequence[str], lake: str | Path, run_id: str, workers: int | None = None) -> str:
    """Read, parse and validate every record of one dump (or a shard: a list of dumps) into the run's
    staging folder, in ``workers`` processes that each read the dumps and take every n-th batch.

    Writes the shard's validated cables rows (lake data files) and quarantine rows and returns the path of
    its summary (inputs with sha256 and record counts, per-format counts, data files, validation counts). A
    dump whose reader raises does not stop the shard: it is listed under ``failed`` (not under ``inputs``,
    so the lake does not count it as ingested and the next run reads it again), and its error record is a
    quarantine row.
    """
    uris = [uri] if isinstance(uri, str) else list(uri)
    staging = RunStaging(lake, run_id)
    dumps = discover(uris)
    shard = shard_id([d.uri for d in dumps])
    staging.forget(staging.summary_path(shard))  # what an earlier attempt of this shard left
    t0 = time.perf_counter()
    config = RunConfig.from_env()
    n = config.parse_processes(workers)
    min_bytes = PARALLEL_MIN_BYTES if config.parallel_min_bytes is None else config.parallel_min_bytes
    if sum(d.size or 0 for d in dumps) < min_bytes:
        n = 1
    label = f"parse {dumps[0].uri if len(dumps) == 1 else f'{len(dumps)} dumps'}"
    units = [_Unit(str(lake), run_id, shard, tuple(dumps), k, n, label if n == 1 else f"{label} [{k + 1}/{n}]")
             for k in range(n)]
    parts = _parse_parts(units)
    per_dump, failed = parts[0]["per_dump"], parts[0]["failed"]  # every worker read all the records
    per_format: Counter[str] = Counter()
    for p in parts:
        per_format.update(p["per_format"])
    failed_uris = {f["uri"] for f in failed}
    return staging.write_summary({
        "shard": shard,
        "inputs": [
            {"uri": d.uri, "sha256": d.sha256, "size": d.size, "records": per_dump.get(d.uri, 0)}
            for d in dumps
            if d.uri not in failed_uris
        ],
        "failed": [{**f, "records": per_dump.get(f["uri"], 0)} for f in failed],
        "records": sum(p["records"] for p in parts),
        "parsed": sum(p["parsed"] for p in parts),
        "rejected": sum(p["rejected"] for p in parts),
        "per_format": dict(per_format),
        "files": [f for p in parts for f in p["files"]],
        "validation": [p["validation"] for p in parts],
        "workers": n,
        "cpu": sum(p["cpu"] for p in parts),
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
