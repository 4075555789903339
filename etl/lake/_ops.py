"""Lake operations: publish a run (dedup + one lake commit), compact, vacuum, read committed tables.

Every operation that changes the lake is optimistic: it reads the latest lake version, decides its change
against it, and commits (see :mod:`etl.lake._commit`); when another writer committed first it decides again
on the new version (up to ``RETRIES`` times). On a local disk the ``flock`` of :mod:`etl.lake._lock` makes
writers take turns, so they rarely conflict; correctness does not depend on it (an object store has none).
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.lake import _delta
from etl.lake._commit import SNAPSHOTS, TABLES, Commit, history, read_current, write_commit
from etl.lake._delta import ABSENT, APP_ID, ConflictError, FileEntry
from etl.lake._lock import lake_lock
from etl.lake._merge import (
    NARROW_SOURCE,
    decide,
    key_array,
    narrow,
    normal_seen,
    set_also_seen_in,
    to_quarantine,
)
from etl.lake._rows import rows_table
from etl.lake._store import ROW_GROUP_ROWS, LakePaths, Location
from etl.lake._txn import BATCH_ROWS, Transaction, check_schema, iter_file, read_file
from etl.schema import schema, schema_version, to_table

if TYPE_CHECKING:
    from deltalake import CommitProperties  # (imported where a compaction commits: see etl.lake._delta)

COMPACT_THRESHOLD = 8
"""A partition with more live files under ``COMPACT_TARGET_BYTES`` than this is compacted after a publish."""
COMPACT_TARGET_BYTES = 32 << 20
"""The size Delta's bin-packing joins small files up to; a file of this size or more is never rewritten. A
compaction thus joins a nightly's small files (a few hundred rows per partition) and leaves the large files of
a first load alone: when it rewrote every file under Delta's 100 MiB default, the first nightly after a
251,287-row load rewrote (and the search index re-read) 115,000 rows, and left the largest partition over the
threshold for the next night to rewrite again."""
STAGING = "_staging"
CATALOG_STATE = "_catalog.json"
RETRIES = 30
ORPHAN_HOURS = 6.0
"""On an object store, files no lake version lists are deleted by vacuum only once this old (a run still
writing them must have committed or died by then)."""
T = TypeVar("T")


class ReconciliationError(RuntimeError):
    """Records found != cables + quarantine (per run or for the whole lake): the run cannot be trusted."""


def code_schema_versions() -> dict[str, str]:
    return {t: schema_version(t) for t in ("cables", "quarantine", "runs")}


def _local_lock(loc: Location, what: str, timeout: float | None) -> AbstractContextManager[None]:
    return nullcontext() if loc.remote else lake_lock(loc.local(), what=what, timeout=timeout)


def optimistic(root: Path | str | Location, what: str, change: Callable[[Commit], T],
               lock_timeout: float | None = None) -> T:
    """Run ``change(latest lake version)`` until it commits without a conflict (at most ``RETRIES`` times)."""
    loc = Location.of(root)
    last: ConflictError | None = None
    for attempt in range(RETRIES):
        with _local_lock(loc, what, lock_timeout):
            try:
                return change(read_current(loc))
            except ConflictError as exc:
                last = exc
        time.sleep(random.uniform(0, min(0.05 * 2 ** attempt, 2.0)))
    raise ConflictError(f"{what}: still conflicting after {RETRIES} attempts ({last})")


def read_table(root: Path | str | Location, table: str, commit: Commit | None = None) -> pa.Table:
    """The committed rows of ``table`` as one Arrow table (``year`` restored from the partition)."""
    loc = Location.of(root)
    commit = commit or read_current(loc)
    sch = schema(table)
    parts = [read_file(loc, f, sch) for f in commit.files(table)]
    return pa.concat_tables(parts) if parts else sch.empty_table()


def _key_columns(pf: pq.ParquetFile) -> list[str]:
    return [c for c in ("reference_id", "canonical_id") if c in pf.schema_arrow.names]


def _existing_files(loc: Location, commit: Commit, wanted: pa.Array) -> list[str]:
    """The live cables files holding a row of a ``wanted`` key (reads only the id columns)."""
    out: list[str] = []
    for f in commit.files("cables"):
        with loc.fs.open_input_file(loc.path(f.path)) as fh:
            pf = pq.ParquetFile(fh)
            t = pf.read(columns=_key_columns(pf))
        if pc.any(pc.is_in(key_array(t), value_set=wanted)).as_py():
            out.append(f.path)
    return sorted(out)


@dataclass(frozen=True)
class DataFile:
    """A finished data file of a lake table written under another root (a run's staging folder) in the
    table's own layout and schema (``cables/year=YYYY/<name>.parquet``, no ``year`` column): :func:`publish`
    adopts it as it is (:meth:`Transaction.adopt`) when none of its rows needs a change."""

    root: str
    entry: FileEntry


@dataclass(frozen=True)
class Rows:
    """Rows of one table held in Parquet files (and/or small in-memory tables), read batch by batch so that
    a run never has to fit in memory. Rows whose ``source_sha256`` is in ``exclude_sources`` are skipped.
    Files are read with :func:`etl.lake._txn.iter_file` (``year`` read from the file, not the path, except
    for a :class:`DataFile`, whose ``year`` is its partition folder)."""

    table: str
    parts: tuple[Path | pa.Table | DataFile, ...]
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
            elif isinstance(part, DataFile):
                tables = iter_file(Location.of(part.root), part.entry, sch, read)
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
            return sum(_part_rows(p) for p in self.parts)
        return sum(t.num_rows for t in self.batches(["source_sha256"]))

    def without(self, sources: set[str]) -> Rows:
        return Rows(self.table, self.parts, self.exclude_sources | frozenset(sources))

    def only(self, parts: Iterable[Path | pa.Table | DataFile]) -> Rows:
        return Rows(self.table, tuple(parts), self.exclude_sources)


def _part_rows(part: Path | pa.Table | DataFile) -> int:
    if isinstance(part, pa.Table):
        return part.num_rows
    if isinstance(part, DataFile):
        return part.entry.rows
    return int(pq.ParquetFile(part).metadata.num_rows)


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
    inputs: list[dict[str, Any]] = field(default_factory=list)
    """The dumps this publish ingested (those a concurrent writer committed first are left out)."""
    skipped: list[dict[str, Any]] = field(default_factory=list)
    """Inputs not ingested, with the reason (``already_ingested`` for those a concurrent writer took)."""
    attempts: int = 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ----------------------------------------------------------------------------------------- runs rows


def runs_row(
    run_id: str, *, started_at: datetime, finished_at: datetime | None = None, parser_version: str | None = None,
    inputs: Iterable[dict[str, Any]] = (), skipped: Iterable[dict[str, Any]] = (),
    per_format: dict[str, int] | None = None, per_reason: dict[str, int] | None = None,
    per_rule: dict[str, Any] | None = None, timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The ``runs`` row of a run as the pipeline knows it: what it read and how long it took. The lake fills
    in what the run did to the lake (operation, counts, lake version) when it commits the row."""
    return {
        "run_id": run_id,
        "started_at": started_at,
        "finished_at": finished_at or datetime.now(UTC),
        "parser_version": parser_version,
        "inputs": [{k: i.get(k) for k in ("uri", "sha256", "size", "records")} for i in inputs],
        "inputs_skipped": [{k: i.get(k) for k in ("uri", "sha256", "reason")} for i in skipped],
        "per_format": json.dumps(per_format or {}),
        "per_reason": json.dumps(per_reason or {}),
        "per_rule": json.dumps(per_rule or {}, default=str),
        "timings": json.dumps(timings or {}),
    }


def _outcome(row: dict[str, Any], preview: Commit, *, operation: str, found: int = 0, cables: int = 0,
             quarantined: int = 0, duplicates: int = 0, displaced: int = 0, replayed: int = 0) -> pa.Table:
    """``row`` completed with what the run did to the lake, as a one-row ``runs`` table."""
    out = dict(row)
    out.update(
        status="noop" if operation == "noop" else "published", operation=operation,
        lake_version=preview.version, records_found=found, cables=cables, quarantined=quarantined,
        duplicates=duplicates, displaced=displaced, replayed=replayed, lake_cables=preview.rows("cables"),
        lake_quarantine=preview.rows("quarantine"), schema_version=schema_version("cables"),
    )
    return rows_table([out], schema("runs"))


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
    root: Path | str | Location,
    run_id: str,
    cables: pa.Table | Rows,
    quarantine: pa.Table | Rows,
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
    files, batch by batch; only the losing copies become Python rows (their quarantine rows). ``quarantine``
    may be :class:`Rows` too: it is streamed into the lake's files, never loaded whole.

    Dumps of ``dumps`` that the lake ingested meanwhile (a concurrent run committed them first) are left
    out with their rows, and listed as skipped. When another writer commits while this one works, the merge
    is decided again on the new lake version.
    """
    t0 = time.perf_counter()
    rows = cables if isinstance(cables, Rows) else Rows("cables", (cables,))
    quar_rows = quarantine if isinstance(quarantine, Rows) else Rows("quarantine", (quarantine,))
    attempts = 0

    def attempt(base: Commit) -> PublishResult:
        nonlocal attempts
        attempts += 1
        result = _publish_once(
            base, run_id, rows, quar_rows, ingested_at=ingested_at, dumps=dumps, runs_row=runs_row,
            full_refresh=full_refresh, replay=replay, replay_version=replay_version,
        )
        result.seconds, result.attempts = round(time.perf_counter() - t0, 3), attempts
        return result

    return optimistic(root, f"cablelake publish {run_id}", attempt, lock_timeout)


def _late(base: Commit, dumps: dict[str, dict[str, Any]], runs_row: dict[str, Any],
          full_refresh: bool) -> tuple[set[str], dict[str, Any]]:
    """Dumps the lake holds already (a concurrent run committed them first), and the runs row without them."""
    late = set() if full_refresh else {sha for sha in dumps if sha in base.dumps}
    if not late:
        return late, runs_row
    row = dict(runs_row)
    row["inputs_skipped"] = list(row.get("inputs_skipped") or []) + [
        {"uri": i.get("uri"), "sha256": i.get("sha256"), "reason": "already_ingested"}
        for i in row.get("inputs") or [] if i.get("sha256") in late
    ]
    row["inputs"] = [i for i in row.get("inputs") or [] if i.get("sha256") not in late]
    return late, row


def _untouched(part: Path | pa.Table | DataFile, keys: list[pa.Array], multi: pa.Array) -> bool:
    """Whether ``part`` is a :class:`DataFile` that publishing leaves as it is: every row kept (none from a
    dump left out) and no key held by another row (no loser, no ``also_seen_in`` to change)."""
    if not isinstance(part, DataFile) or sum(len(k) for k in keys) != part.entry.rows:
        return False
    return not any(pc.any(pc.fill_null(pc.is_in(k, value_set=multi), False)).as_py() for k in keys if len(k))


def _publish_once(
    base: Commit, run_id: str, rows: Rows, quar_rows: Rows, *, ingested_at: datetime,
    dumps: dict[str, dict[str, Any]], runs_row: dict[str, Any], full_refresh: bool,
    replay: dict[str, list[int]] | None, replay_version: int | None,
) -> PublishResult:
    """One attempt of :func:`publish` on lake version ``base``."""
    loc = base.loc
    root = loc
    operation = "full_refresh" if full_refresh else ("replay" if replay else "publish")
    check_schema(base, code_schema_versions(), base.root, full_refresh=full_refresh)
    if replay and replay_version is not None and base.version != replay_version:
        raise RuntimeError(
            f"the lake moved from version {replay_version} to {base.version} since the quarantine was "
            "read for replay; run the replay again"
        )
    late, runs_row = _late(base, dumps, runs_row, full_refresh)
    if late:
        rows, quar_rows = rows.without(late), quar_rows.without(late)
        dumps = {k: v for k, v in dumps.items() if k not in late}
    n_quarantine = quar_rows.count()
    txn = Transaction(loc, run_id, operation, base=base)
    if full_refresh:
        txn.replace_all("cables")
        txn.replace_all("quarantine")
        txn.reset_dumps = True
    cables_sch = schema("cables")

    # -- the decision. Pass 1: the keys of the candidates (the lake's copies of the run's keys, then the
    # run's rows), as Arrow arrays. Pass 2: narrow rows (rank inputs, lineage; no text) of the keys
    # seen more than once only. Memory: a few bytes per candidate, whatever the size of its text.
    per_part = [[key_array(t) for t in rows.only([p]).batches(["reference_id", "canonical_id"])]
                for p in rows.parts]
    new_keys = pa.chunked_array([k for ks in per_part for k in ks], pa.string())
    found = len(new_keys) + n_quarantine
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
    # -- the run's data files that no decision touches are committed as they are (no rewrite) ----------
    adopted = [p for p, ks in zip(rows.parts, per_part, strict=True) if _untouched(p, ks, multi)]
    rows = rows.only(p for p in rows.parts if all(p is not a for a in adopted))
    adopted_rows = sum(p.entry.rows for p in adopted if isinstance(p, DataFile))
    del per_part

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
    n_winners = affected + found - n_quarantine - len(losers)
    for p in adopted:
        assert isinstance(p, DataFile)
        txn.adopt("cables", Location.of(p.root), p.entry)

    # -- the rows, streamed: kept rows of rewritten files, winners, losers -> quarantine --------------
    kept = txn.writer("cables", tag="r", sort=_sorted_cables)
    out = txn.writer("cables", tag="c", sort=_sorted_cables)
    quar = txn.writer("quarantine", tag="q", sort=_sorted_quarantine)
    for batch in quar_rows.batches():
        quar.write(batch)
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
    if (position + adopted_rows != affected + found - n_quarantine or out.rows + adopted_rows != n_winners
            or quar.rows != n_quarantine + len(losers)):
        raise ReconciliationError(
            f"run {run_id}: the rows changed while they were published ({position} read, "
            f"{affected + found - n_quarantine} decided on)"
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
    run_quarantined = n_quarantine + dec.new_losers
    run_cables = found - n_quarantine - dec.new_losers
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
    txn.add("runs", _outcome(runs_row, preview, operation=operation, found=found, cables=run_cables,
                             quarantined=run_quarantined, duplicates=dec.new_losers, displaced=displaced,
                             replayed=replayed))
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
        files={t: [f.path for f in fs] for t, fs in txn.added.items()},
        inputs=list(runs_row.get("inputs") or []),
        skipped=list(runs_row.get("inputs_skipped") or []),
    )




def record_noop(root: Path | str | Location, run_id: str, runs_row: dict[str, Any],
                lock_timeout: float | None = None) -> int:
    """Commit just the ``runs`` row of a run that found nothing to do; returns the new lake version."""

    def attempt(base: Commit) -> int:
        check_schema(base, code_schema_versions(), base.root)
        txn = Transaction(base.loc, run_id, "noop", base=base)
        txn.add("runs", _outcome(runs_row, txn.preview(), operation="noop"))
        return txn.commit(code_schema_versions()).version

    return optimistic(root, f"cablelake run {run_id}", attempt, lock_timeout)


# ------------------------------------------------------------------------------------------- compaction


def _groups(commit: Commit, table: str) -> dict[str, list[FileEntry]]:
    out: dict[str, list[FileEntry]] = {}
    for f in commit.files(table):
        out.setdefault(f.path.rsplit("/", 1)[0], []).append(f)
    return out


def _small(files: list[FileEntry], target_bytes: int) -> list[FileEntry]:
    """The files a compaction may join (a file of unknown size counts as small)."""
    return [f for f in files if f.bytes < target_bytes]


def needs_compaction(commit: Commit, threshold: int = COMPACT_THRESHOLD,
                     target_bytes: int = COMPACT_TARGET_BYTES) -> bool:
    if len(_delta.files(commit.loc, SNAPSHOTS, commit.log_version)) > threshold:
        return True
    return any(len(_small(fs, target_bytes)) > threshold for t in TABLES for fs in _groups(commit, t).values())


def compact(
    root: Path | str | Location, run_id: str, *, threshold: int = COMPACT_THRESHOLD, force: bool = False,
    lock_timeout: float | None = None, target_bytes: int = COMPACT_TARGET_BYTES,
) -> dict[str, Any]:
    """Delta ``optimize`` (bin-packing, row order kept) of each table with a partition of more than
    ``threshold`` files under ``target_bytes``, joining adjacent files under that size into files of up to it,
    as one lake commit (``force``: of each table with a partition of more than one file, with Delta's default
    target). Returns what was merged: the partitions over the threshold and their files."""

    def attempt(base: Commit) -> dict[str, Any]:
        from deltalake import CommitProperties
        from deltalake import Transaction as AppTransaction

        check_schema(base, code_schema_versions(), base.root)
        loc = base.loc
        new = Commit(version=base.version + 1, run_id=run_id, operation="compact",
                     schema_versions=dict(base.schema_versions), table_versions=dict(base.table_versions),
                     root=loc.root)
        merged: dict[str, int] = {}
        props = CommitProperties(
            custom_metadata={"cablelake.run_id": run_id, "cablelake.operation": "compact",
                             "cablelake.lake_version": new.version},
            max_commit_retries=0, app_transactions=[AppTransaction(APP_ID, new.version)],
        )
        for table in TABLES:
            if force:
                groups = {k: len(v) for k, v in _groups(base, table).items() if len(v) > 1}
            else:
                groups = {k: n for k, v in _groups(base, table).items() if (n := len(_small(v, target_bytes))) > threshold}
            if not groups:
                continue
            before = _delta.base_for(loc, table, base.table_versions[table])
            after = _optimize(loc, table, before, props, None if force else target_bytes)
            new.table_versions[table] = after
            if after != before:  # (else nothing to join: its small files are not next to each other)
                merged.update(groups)
        if not merged:
            return {"version": base.version, "merged": {}}
        for table in TABLES:
            if new.rows(table) != base.rows(table):
                raise ReconciliationError(f"compaction would change {table} from {base.rows(table)} rows")
        log_files = len(_delta.files(loc, SNAPSHOTS, base.log_version))
        if log_files > (1 if force else threshold):  # the lake commits' own table: one file per version
            props = CommitProperties(max_commit_retries=0)
            base = replace(base, log_version=_optimize(loc, SNAPSHOTS, base.log_version, props))
            merged[SNAPSHOTS] = log_files
        return {"version": write_commit(base, new).version, "merged": merged}

    return optimistic(root, f"cablelake compact {run_id}", attempt, lock_timeout)


def _optimize(loc: Location, table: str, version: int, props: CommitProperties, target_bytes: int | None = None) -> int:
    """Delta ``optimize`` (bin-packing into files of up to ``target_bytes``, None: Delta's default) of ``table``
    as the version right after ``version``; returns the version it made. Raises :class:`ConflictError` when
    another commit came first."""
    from deltalake import WriterProperties

    dt = _delta.open_table(loc, table, version)
    assert dt is not None
    try:
        # the lake's own Parquet layout: zstd, small row groups (point lookups of search read one of them)
        layout = WriterProperties(compression="ZSTD", max_row_group_size=ROW_GROUP_ROWS)  # = COMPRESSION
        dt.optimize.compact(target_size=target_bytes, commit_properties=props, writer_properties=layout)
    except Exception as exc:  # delta-rs raises CommitFailedError, or a generic error on a lost race
        raise ConflictError(f"{table}: optimize lost a race ({exc})") from exc
    return dt.version()


# ----------------------------------------------------------------------------------------- maintenance


def catalog_version(root: Path | str) -> int:
    """The lake version the DuckDB catalog file was built on (0: none)."""
    try:
        state: dict[str, Any] = json.loads((LakePaths(Path(root)).root / CATALOG_STATE).read_text(encoding="utf-8"))
        return int(state.get("version", 0))
    except (OSError, ValueError):
        return 0


def _vacuum(loc: Location, keep: list[Commit], hours: float, dry_run: bool, full: bool) -> list[str]:
    out: list[str] = []
    for table in (*TABLES, "_lake"):
        dt = _delta.open_table(loc, table)
        if dt is None:
            continue
        versions = sorted({c.table_versions.get(table, ABSENT) for c in keep} - {ABSENT}) if table != "_lake" else []
        gone = dt.vacuum(retention_hours=int(hours), dry_run=dry_run, enforce_retention_duration=False,
                         keep_versions=versions or None, full=full)
        out += [f"{table}/{g}" for g in gone]
    return sorted(out)


def collect_garbage(root: Path | str | Location, retention_hours: float | None = None) -> list[str]:
    """Delete the files no table lists any more, except those the current, the previous and the catalog's
    lake versions need (readers of the previous catalog), after ``retention_hours`` (default: none on a
    local disk, where writers take turns under the lock; 1 hour on an object store)."""
    loc = Location.of(root)
    current = read_current(loc)
    if current.version == 0:
        return []
    wanted = {current.version, current.version - 1}
    wanted.add(catalog_version(loc.root))
    keep = [c for c in history(loc) if c.version in wanted]
    hours = retention_hours if retention_hours is not None else (1.0 if loc.remote else 0.0)
    return _vacuum(loc, keep, hours, dry_run=False, full=False)


def vacuum(root: Path | str | Location, *, keep_days: float = 7.0, dry_run: bool = False) -> dict[str, Any]:
    """Remove what no lake version of the last ``keep_days`` days needs: files of older versions, files no
    version ever listed (runs that died or lost a race) once older than ``keep_days``, and the ``_quality/``
    folders of older runs. The latest version is always kept. Returns what was (or would be) removed."""
    loc = Location.of(root)
    current = read_current(loc)
    if current.version == 0:
        return {"files": [], "quality": [], "kept_from": 0}
    since = datetime.now(UTC) - timedelta(days=keep_days)
    keep = [c for c in history(loc) if c.version == current.version or (c.committed_at and c.committed_at >= since)]
    hours = keep_days * 24
    files = _vacuum(loc, keep, hours, dry_run=dry_run, full=False)
    # files no version lists (runs that died or lost a race): on an object store no lock keeps a running
    # writer's new files safe, so they are only taken once older than ORPHAN_HOURS whatever keep_days says
    orphan_hours = max(hours, ORPHAN_HOURS) if loc.remote else hours
    files = sorted(set(files) | set(_vacuum(loc, keep, orphan_hours, dry_run=dry_run, full=True)))
    quality: list[str] = []
    work = LakePaths(Path(loc.root)).root
    if (work / "_quality").is_dir():
        for d in sorted((work / "_quality").iterdir()):
            if d.is_dir() and datetime.fromtimestamp(d.stat().st_mtime, UTC) < since:
                quality.append(f"_quality/{d.name}")
                if not dry_run:
                    shutil.rmtree(d, ignore_errors=True)
    return {"files": files, "quality": quality, "kept_from": min(c.version for c in keep)}


def clean_staging(root: Path | str, *, keep: Iterable[str] = (), max_age: float = 24 * 3600) -> list[str]:
    """Remove the staging folders of dead runs: every CLI run's (a CLI run holds the lake lock for its
    whole life, so under the lock any other CLI staging folder is a crashed run's) and any run's older
    than ``max_age`` seconds (DAG runs, whose steps run in separate processes). Needs the lake lock."""
    from etl.lake._lock import holds_lock

    root = LakePaths(Path(root)).root
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


def replay_candidates(root: Path | str | Location, commit: Commit | None = None) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Quarantine rows worth re-parsing: ``(file, row index, row)`` for rows set aside by parse or validate
    (not reader errors, which need the dump re-read, and not duplicates, which are good cables)."""
    loc = Location.of(root)
    commit = commit or read_current(loc)
    sch = schema("quarantine")
    for f in commit.files("quarantine"):
        index = 0
        for t in iter_file(loc, f, sch):
            stages = t.column("stage").to_pylist()
            wanted = [i for i, s in enumerate(stages) if s in ("parse", "validate")]
            if wanted:
                rows = t.take(pa.array(wanted, pa.int64())).to_pylist()
                for i, row in zip(wanted, rows, strict=True):
                    yield f.path, index + i, row
            index += t.num_rows
