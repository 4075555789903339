"""Lake operations: publish a run (dedup + atomic commit), compact, recover, read committed tables."""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.lake._commit import Commit, FileEntry, read_current, read_version, vacuum
from etl.lake._lock import holds_lock, lake_lock
from etl.lake._merge import NARROW_SOURCE, decide, key_array, narrow, normal_seen, set_also_seen_in, to_quarantine
from etl.lake._txn import BATCH_ROWS, PARTITION_KEY, Transaction, check_schema, iter_file, read_file
from etl.schema import schema, schema_version, to_table

COMPACT_THRESHOLD = 8
"""A partition with more live files than this is compacted after a publish."""
STAGING = "_staging"
CATALOG_STATE = "_catalog.json"


class ReconciliationError(RuntimeError):
    """Records found != cables + quarantine (per run or for the whole lake): the run cannot be trusted."""


def code_schema_versions() -> dict[str, str]:
    return {t: schema_version(t) for t in ("cables", "quarantine", "runs")}


def read_table(root: Path | str, table: str, commit: Commit | None = None) -> pa.Table:
    """The committed rows of ``table`` as one Arrow table (``year`` restored from the partition)."""
    root = Path(root)
    commit = commit or read_current(root)
    sch = schema(table)
    parts = [read_file(root, f, sch) for f in commit.files(table)]
    return pa.concat_tables(parts) if parts else sch.empty_table()


def _key_columns(path: Path) -> list[str]:
    names = pq.read_schema(path).names
    return [c for c in ("reference_id", "canonical_id") if c in names]


def _existing_files(root: Path, commit: Commit, wanted: pa.Array) -> list[str]:
    """The live cables files holding a row of a ``wanted`` key (reads only the id columns)."""
    out: list[str] = []
    for f in commit.files("cables"):
        t = pq.read_table(root / f.path, columns=_key_columns(root / f.path))
        if pc.any(pc.is_in(key_array(t), value_set=wanted)).as_py():
            out.append(f.path)
    return sorted(out)


@dataclass(frozen=True)
class Rows:
    """Rows of one table held in Parquet files (and/or small in-memory tables), read batch by batch so that
    a run never has to fit in memory. Rows whose ``source_sha256`` is in ``exclude_sources`` are skipped.
    Files are read with :func:`etl.lake._txn.iter_file` (``year`` read from the file, not the path)."""

    table: str
    parts: tuple[Path | pa.Table, ...]
    exclude_sources: frozenset[str] = frozenset()

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        sch = schema(self.table)
        names = list(columns) if columns is not None else list(sch.names)
        drop = bool(self.exclude_sources)
        read = names if not drop or "source_sha256" in names else [*names, "source_sha256"]
        excluded = pa.array(sorted(self.exclude_sources), pa.string())
        for part in self.parts:
            if isinstance(part, pa.Table):
                tables: Iterable[pa.Table] = (
                    part.select(read).slice(i, BATCH_ROWS) for i in range(0, part.num_rows, BATCH_ROWS)
                )
            else:
                tables = iter_file(part.parent, part.name, sch, read, year_from_path=False)
            for t in tables:
                if drop:
                    hit = pc.fill_null(pc.is_in(t.column("source_sha256"), value_set=excluded), False)
                    t = t.filter(pc.invert(hit)).select(names)
                if t.num_rows:
                    yield t

    def count(self) -> int:
        if not self.exclude_sources:
            return sum(p.num_rows if isinstance(p, pa.Table) else pq.ParquetFile(p).metadata.num_rows
                       for p in self.parts)
        return sum(t.num_rows for t in self.batches(["source_sha256"]))


@dataclass
class PublishResult:
    version: int
    operation: str
    records: int
    cables: int
    """Input records of this publish that are now rows of cables."""
    quarantined: int
    """Input records of this publish that are now rows of quarantine (duplicates included)."""
    duplicates: int
    displaced: int
    replayed: int
    lake_cables: int
    lake_quarantine: int
    seconds: float = 0.0
    files: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sorted_quarantine(table: pa.Table) -> pa.Table:
    if table.num_rows < 2:
        return table
    names = ("year", "source_uri", "source_member", "source_location", "reference_id")
    order = [(c, "ascending") for c in names if c in table.schema.names]  # no year inside a partition
    return table.take(pc.sort_indices(table, sort_keys=order))


def _sorted_cables(table: pa.Table) -> pa.Table:
    if table.num_rows < 2:
        return table
    return table.take(pc.sort_indices(table, sort_keys=[("reference_id", "ascending")]))


def publish(
    root: Path | str,
    run_id: str,
    cables: pa.Table | Rows,
    quarantine: pa.Table,
    *,
    ingested_at: datetime,
    dumps: dict[str, dict[str, Any]],
    runs_row: dict[str, Any],
    full_refresh: bool = False,
    replay: dict[str, list[int]] | None = None,
    replay_version: int | None = None,
    lock_timeout: float | None = None,
) -> PublishResult:
    """Merge a run's validated rows into the lake and commit them, with the run's ``runs`` row, atomically.

    ``cables`` and ``quarantine`` hold every input record of the run (one row each); ``cables`` may be
    :class:`Rows` (Parquet files read batch by batch). Cables are deduplicated against each other and
    against the lake (see :mod:`etl.lake._merge`); ``full_refresh`` replaces both tables (and the dump
    manifest) instead. ``replay`` names quarantine rows (file -> row indices, as of lake version
    ``replay_version``) that this run re-parsed: they leave quarantine in the same commit.

    Memory does not grow with the run: the merge is decided on a narrow projection of the candidates
    (keys, rank inputs, lineage: no text), then the full rows are streamed from their files into the new
    files, batch by batch; only the losing copies become Python rows (their quarantine rows).
    """
    root = Path(root)
    t0 = time.perf_counter()
    operation = "full_refresh" if full_refresh else ("replay" if replay else "publish")
    rows = cables if isinstance(cables, Rows) else Rows("cables", (cables,))
    with lake_lock(root, what=f"cablelake publish {run_id}", timeout=lock_timeout):
        base = read_current(root)
        check_schema(base, code_schema_versions(), str(root), full_refresh=full_refresh)
        if replay and replay_version is not None and base.version != replay_version:
            raise RuntimeError(
                f"the lake moved from version {replay_version} to {base.version} since the quarantine was "
                "read for replay; run the replay again"
            )
        txn = Transaction(root, run_id, operation, base=base)
        if full_refresh:
            txn.replace_all("cables")
            txn.replace_all("quarantine")
            txn.reset_dumps = True
        quarantine = quarantine.select(schema("quarantine").names)
        cables_sch = schema("cables")

        # -- the decision. Pass 1: the keys of the candidates (the lake's copies of the run's keys, then the
        # run's rows), as Arrow arrays. Pass 2: narrow rows (rank inputs, lineage; no text) of the keys
        # seen more than once only. Memory: a few bytes per candidate, whatever the size of its text.
        new_parts = [key_array(t) for t in rows.batches(["reference_id", "canonical_id"])]
        new_keys = pa.chunked_array(new_parts, pa.string())
        del new_parts
        found = len(new_keys) + quarantine.num_rows
        files: list[str] = []
        wanted = pc.unique(new_keys.drop_null()) if len(new_keys) else pa.array([], pa.string())
        if not full_refresh and len(wanted):
            files = _existing_files(root, base, wanted)
        old_parts = [
            pc.filter(k, pc.is_in(k, value_set=wanted))
            for rel in files
            for k in (key_array(t) for t in iter_file(root, rel, cables_sch, ["reference_id", "canonical_id"]))
        ]
        affected = sum(len(k) for k in old_parts)
        all_keys = pa.chunked_array([*old_parts, *new_keys.chunks], pa.string())
        del old_parts, new_keys
        counts = pc.value_counts(all_keys.drop_null()) if len(all_keys) else None
        multi = (pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1)) if counts is not None
                 else pa.array([], pa.string()))
        del all_keys, counts

        def candidates() -> Iterator[pa.Table]:
            for rel in files:
                for t in iter_file(root, rel, cables_sch):
                    yield t.filter(pc.is_in(key_array(t), value_set=wanted))
            yield from rows.batches()

        def narrow_candidates() -> Iterator[pa.Table]:
            for rel in files:
                for t in iter_file(root, rel, cables_sch, list(NARROW_SOURCE)):
                    yield t.filter(pc.is_in(key_array(t), value_set=wanted))
            yield from rows.batches(list(NARROW_SOURCE))

        positions: list[int] = []
        parts: list[pa.Table] = []
        position = 0
        for t in narrow_candidates() if len(multi) else iter(()):
            hit = pc.fill_null(pc.is_in(key_array(t), value_set=multi), False)
            idx = pc.indices_nonzero(hit).to_pylist()
            if idx:
                positions.extend(position + i for i in idx)
                parts.append(narrow(t.take(pa.array(idx, pa.int64()))))
            position += t.num_rows
        small = pa.concat_tables(parts) if parts else narrow(cables_sch.empty_table())
        del parts
        dec = decide(small, [positions[i] >= affected for i in range(len(positions))])
        losers = {positions[j]: (positions[w], k) for j, (w, k) in dec.losers.items()}
        lineage = {positions[w]: v for w, v in dec.lineage.items()}
        also = {positions[w]: v for w, v in dec.also_seen_in.items()}
        n_winners = affected + found - quarantine.num_rows - len(losers)

        # -- the rows, streamed: kept rows of rewritten files, winners, losers -> quarantine --------------
        kept = txn.writer("cables", tag="r", sort=_sorted_cables)
        out = txn.writer("cables", tag="c", sort=_sorted_cables)
        quar = txn.writer("quarantine", tag="q", sort=_sorted_quarantine)
        quar.write(quarantine)
        position = 0

        def emit(batch: pa.Table) -> None:
            nonlocal position
            at = range(position, position + batch.num_rows)
            position += batch.num_rows
            won = [i for i, p in enumerate(at) if p not in losers]
            lost = [i for i, p in enumerate(at) if p in losers]
            if won:
                winners = batch.take(pa.array(won, pa.int64())) if lost else batch
                seen = winners.column("also_seen_in").to_pylist()
                out.write(set_also_seen_in(winners, [
                    also[at[i]] if at[i] in also else normal_seen(v) for i, v in zip(won, seen, strict=True)
                ]))
            if lost:
                dups = []
                for i, row in zip(lost, batch.take(pa.array(lost, pa.int64())).to_pylist(), strict=True):
                    w, key = losers[at[i]]
                    dups.append(to_quarantine(row, lineage[w], key, run_id, ingested_at))
                quar.write(to_table(dups, "quarantine"))

        for rel in files:
            txn.remove("cables", rel)
            for t in iter_file(root, rel, cables_sch):
                hit = pc.is_in(key_array(t), value_set=wanted)
                kept.write(t.filter(pc.invert(hit)))
        for t in candidates():
            emit(t)
        if (position != affected + found - quarantine.num_rows or out.rows != n_winners
                or quar.rows != quarantine.num_rows + len(losers)):
            raise ReconciliationError(
                f"run {run_id}: the rows changed while they were published ({position} read, "
                f"{affected + found - quarantine.num_rows} decided on)"
            )
        kept.close()
        out.close()
        quar.close()

        # -- replayed quarantine rows leave quarantine ---------------------------------------------------
        replayed = 0
        rewrite = txn.writer("quarantine", tag="r")
        for rel, drop_rows in sorted((replay or {}).items()):
            drop = set(drop_rows)
            replayed += len(drop)
            txn.remove("quarantine", rel)
            index = 0
            for t in iter_file(root, rel, schema("quarantine")):
                keep = pa.array([index + i not in drop for i in range(t.num_rows)], pa.bool_())
                index += t.num_rows
                rewrite.write(t.filter(keep))
        rewrite.close()

        for sha, info in dumps.items():
            txn.record_dump(sha, info)

        # -- reconciliation: per run, and for the whole lake ---------------------------------------------
        displaced = len(losers) - dec.new_losers
        new_cables = n_winners - (affected - displaced)  # winners that are new rows
        run_quarantined = quarantine.num_rows + dec.new_losers
        run_cables = found - quarantine.num_rows - dec.new_losers
        if run_cables + run_quarantined != found:
            raise ReconciliationError(
                f"run {run_id}: {found} records but {run_cables} cables + {run_quarantined} quarantined"
            )
        preview = txn.preview()
        before = 0 if full_refresh else base.rows("cables") + base.rows("quarantine")
        after = preview.rows("cables") + preview.rows("quarantine")
        if after != before + found - replayed or new_cables != run_cables:
            raise ReconciliationError(
                f"run {run_id}: the lake would hold {after} rows (cables + quarantine) but {before} were there, "
                f"{found} records came in and {replayed} left quarantine for replay"
            )
        row = dict(runs_row)
        row.update(
            status="published",
            operation=operation,
            lake_version=preview.version,
            records_found=found,
            cables=run_cables,
            quarantined=run_quarantined,
            duplicates=dec.new_losers,
            displaced=displaced,
            replayed=replayed,
            lake_cables=preview.rows("cables"),
            lake_quarantine=preview.rows("quarantine"),
            schema_version=schema_version("cables"),
        )
        txn.add("runs", to_table([row], "runs"), tag="")
        commit = txn.commit(code_schema_versions())
        return PublishResult(
            version=commit.version,
            operation=operation,
            records=found,
            cables=run_cables,
            quarantined=run_quarantined,
            duplicates=dec.new_losers,
            displaced=displaced,
            replayed=replayed,
            lake_cables=commit.rows("cables"),
            lake_quarantine=commit.rows("quarantine"),
            seconds=round(time.perf_counter() - t0, 3),
            files={t: [f.path for f in fs] for t, fs in txn.added.items()},
        )


def record_noop(root: Path | str, run_id: str, runs_row: dict[str, Any], lock_timeout: float | None = None) -> int:
    """Commit just the ``runs`` row of a run that found nothing to do; returns the new version."""
    root = Path(root)
    with lake_lock(root, what=f"cablelake run {run_id}", timeout=lock_timeout):
        base = read_current(root)
        check_schema(base, code_schema_versions(), str(root))
        txn = Transaction(root, run_id, "noop", base=base)
        row = dict(runs_row)
        row.update(
            status="noop", operation="noop", lake_version=base.version + 1, records_found=0, cables=0,
            quarantined=0, duplicates=0, displaced=0, replayed=0, lake_cables=base.rows("cables"),
            lake_quarantine=base.rows("quarantine"), schema_version=schema_version("cables"),
        )
        txn.add("runs", to_table([row], "runs"))
        return txn.commit(code_schema_versions()).version


# ------------------------------------------------------------------------------------------- compaction


def _groups(commit: Commit, table: str) -> dict[str, list[FileEntry]]:
    out: dict[str, list[FileEntry]] = defaultdict(list)
    for f in commit.files(table):
        out[f.path.rsplit("/", 1)[0]].append(f)
    return out


def needs_compaction(commit: Commit, threshold: int = COMPACT_THRESHOLD) -> bool:
    return any(len(fs) > threshold for t in ("cables", "quarantine", "runs") for fs in _groups(commit, t).values())


def _sort_for(table: str, t: pa.Table) -> pa.Table:
    if t.num_rows < 2:
        return t
    if table == "cables":
        return t.take(pc.sort_indices(t, sort_keys=[("reference_id", "ascending")]))
    if table == "quarantine":
        return _sorted_quarantine(t)
    return t.take(pc.sort_indices(t, sort_keys=[("started_at", "ascending"), ("run_id", "ascending")]))


def compact(
    root: Path | str, run_id: str, *, threshold: int = COMPACT_THRESHOLD, force: bool = False,
    lock_timeout: float | None = None,
) -> dict[str, Any]:
    """Merge the files of each partition with more than ``threshold`` files (``force``: more than one) into
    as few files as possible, in one atomic commit. Returns what was merged."""
    root = Path(root)
    with lake_lock(root, what=f"cablelake compact {run_id}", timeout=lock_timeout):
        base = read_current(root)
        check_schema(base, code_schema_versions(), str(root))
        txn = Transaction(root, run_id, "compact", base=base)
        merged: dict[str, int] = {}
        for table in ("cables", "quarantine", "runs"):
            sch = schema(table)
            for folder, files in sorted(_groups(base, table).items()):
                if len(files) <= (1 if force else threshold):
                    continue
                writer = txn.writer(table, tag="k", sort=partial(_sort_for, table))
                for f in files:
                    txn.remove(table, f.path)
                    for batch in iter_file(root, f, sch):
                        writer.write(batch)
                writer.close()
                merged[folder] = len(files)
        if not merged:
            return {"version": base.version, "merged": {}}
        preview = txn.preview()
        for table in ("cables", "quarantine", "runs"):
            if preview.rows(table) != base.rows(table):
                raise ReconciliationError(f"compaction would change {table} from {base.rows(table)} rows")
        commit = txn.commit(code_schema_versions())
        return {"version": commit.version, "merged": merged}


# ----------------------------------------------------------------------------------------- maintenance


def catalog_version(root: Path) -> int:
    import json

    try:
        state: dict[str, Any] = json.loads((root / CATALOG_STATE).read_text(encoding="utf-8"))
        return int(state.get("version", 0))
    except (OSError, ValueError):
        return 0


def collect_garbage(root: Path | str) -> list[str]:
    """Delete files no reader can need: those of versions older than both the previous version and the
    one the DuckDB catalog points at. Needs the lake lock."""
    root = Path(root)
    if not holds_lock(root):
        raise RuntimeError("collect_garbage needs the lake lock")
    current = read_current(root).version
    keep_from = min(current - 1, catalog_version(root))
    return vacuum(root, keep_from=max(keep_from, 0))


def clean_staging(root: Path | str, *, keep: Iterable[str] = (), max_age: float = 24 * 3600) -> list[str]:
    """Remove the staging folders of dead runs: every CLI run's (a CLI run holds the lake lock for its
    whole life, so under the lock any other CLI staging folder is a crashed run's) and any run's older
    than ``max_age`` seconds (DAG runs, whose steps run in separate processes). Needs the lake lock."""
    import json

    root = Path(root)
    if not holds_lock(root):
        raise RuntimeError("clean_staging needs the lake lock")
    keep = set(keep)
    removed: list[str] = []
    stage_root = root / STAGING
    if not stage_root.is_dir():
        return removed
    now = time.time()
    for d in sorted(stage_root.iterdir()):
        if d.name in keep or not d.is_dir():
            continue
        try:
            info = json.loads((d / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
        age = now - d.stat().st_mtime
        if info.get("mode") == "cli" or age > max_age or not info:
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
    return removed


def replay_candidates(root: Path | str, commit: Commit | None = None) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Quarantine rows worth re-parsing: ``(file, row index, row)`` for rows set aside by parse or validate
    (not reader errors, which need the dump re-read, and not duplicates, which are good cables)."""
    root = Path(root)
    commit = commit or read_current(root)
    sch = schema("quarantine")
    for f in commit.files("quarantine"):
        t = read_file(root, f, sch)
        stages = t.column("stage").to_pylist()
        wanted = [i for i, s in enumerate(stages) if s in ("parse", "validate")]
        if not wanted:
            continue
        rows = t.take(pa.array(wanted, pa.int64())).to_pylist()
        for i, row in zip(wanted, rows, strict=True):
            yield f.path, i, row


def adopt_legacy(root: Path | str) -> int:
    """Give a lake written before commit records existed its first commit, listing the Parquet files it has
    (and its runs' inputs as the dump manifest), so nothing of it is ignored or collected. Needs the lock;
    returns the number of files adopted (0 when the lake already has commits or no files)."""
    root = Path(root)
    if read_current(root).version or not holds_lock(root):
        return 0
    found = {
        t: sorted(p for p in (root / t).rglob("*.parquet") if not p.name.startswith("."))
        for t in ("cables", "quarantine", "runs")
        if (root / t).is_dir()
    }
    if not any(found.values()):
        return 0
    txn = Transaction(root, "adopt", "adopt")
    versions: dict[str, str] = {}
    for table, files in found.items():
        for p in files:
            md = pq.ParquetFile(p).metadata
            rel = p.relative_to(root).as_posix()
            txn.added[table].append(FileEntry(path=rel, rows=md.num_rows, bytes=p.stat().st_size))
            meta = pq.read_schema(p).metadata or {}
            if b"cablelake.schema_version" in meta:
                versions[table] = meta[b"cablelake.schema_version"].decode()
    if found.get("runs"):
        runs = pa.concat_tables([pq.read_table(p, columns=["run_id", "inputs"]) for p in found["runs"]])
        for run_id, inputs in zip(runs.column("run_id").to_pylist(), runs.column("inputs").to_pylist(), strict=True):
            for i in inputs or []:
                if i.get("sha256"):
                    txn.record_dump(i["sha256"], {"uri": i.get("uri"), "size": i.get("size"),
                                                  "records": i.get("records"), "run_id": run_id})
    txn.commit(versions)
    return sum(len(f) for f in found.values())


def history(root: Path | str, version: int) -> Commit | None:
    return read_version(Path(root), version)


__all__ = [
    "PARTITION_KEY",
    "adopt_legacy",
    "PublishResult",
    "ReconciliationError",
    "catalog_version",
    "clean_staging",
    "collect_garbage",
    "compact",
    "needs_compaction",
    "publish",
    "read_table",
    "record_noop",
    "replay_candidates",
]
