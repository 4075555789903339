"""Steps publish_run and refresh_catalog: reconcile, commit the run's data files into the lake (dedup
decided on narrow columns; only files holding a repeated cable rewritten) in one lake commit, record the run."""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl import catalog as _catalog
from etl import search as _search
from etl.lake import (
    CATALOG_STATE,
    LakePaths,
    ParquetSink,
    ReconciliationError,
    Rows,
    atomic_write_text,
    catalog_version,
    clean_staging,
    collect_garbage,
    compact,
    iter_file,
    lake_lock,
    migrate,
    needs_compaction,
    needs_migration,
    publish,
    read_current,
    runs_row,
)
from etl.parse import PARSER_VERSION
from etl.pipeline._common import RunSummary
from etl.pipeline._staging import RunStaging
from etl.schema import schema


def _keep_failed_replays(quarantine: pa.Table, keys: dict[str, list[Any]]) -> tuple[pa.Table, set[tuple[str, int]]]:
    """Replayed records that failed again keep their original quarantine row: drop the new one.

    Returns the quarantine without those rows and the (file, row) of the originals that stay."""
    from etl.pipeline._replay import lineage_key

    if not keys or quarantine.num_rows == 0:
        return quarantine, set()
    cols = ("source_sha256", "source_uri", "source_member", "source_location")
    data = {c: quarantine.column(c).to_pylist() for c in cols}
    keep: list[bool] = []
    still: set[tuple[str, int]] = set()
    for i in range(quarantine.num_rows):
        hit = keys.get(lineage_key({c: data[c][i] for c in cols}))
        keep.append(hit is None)
        if hit is not None:
            still.add((str(hit[0]), int(hit[1])))
    return quarantine.filter(pa.array(keep, pa.bool_())), still


def _stage_quarantine(
    staging: RunStaging, replay_keys: dict[str, list[Any]]
) -> tuple[tuple[Path, ...], Counter[str], set[tuple[str, int]]]:
    """The run's quarantine files for the commit and their rows per reason (read from ``reasons`` alone).
    A replay's quarantine is streamed, batch by batch, into one file without the new rows of replayed
    records that failed again. Returns (files, quarantined rows per reason, replayed rows that stay)."""
    files = tuple(staging.rejected_files())
    qsch = schema("quarantine")
    per_reason: Counter[str] = Counter()
    still: set[tuple[str, int]] = set()
    if replay_keys:
        with ParquetSink(staging.publish_dir, "quarantine.parquet", qsch) as kept:
            for src in files:
                for batch in iter_file(src.parent, src.name, qsch, year_from_path=False):
                    batch, again = _keep_failed_replays(batch, replay_keys)
                    still |= again
                    kept.write(batch)
        files = (staging.publish_dir / "quarantine.parquet",)
    for src in files:
        for batch in iter_file(src.parent, src.name, qsch, ["reasons"], year_from_path=False):
            for reasons in batch.column("reasons").to_pylist():
                per_reason.update(reasons or [])
    return files, per_reason, still


def publish_run(lake: str | Path, run_id: str, lock_timeout: float | None = None) -> dict[str, Any]:
    """Reconcile the run's validated rows and merge them into the lake in one atomic lake commit (with the
    run's ``runs`` row); then compact if partitions grew too many files. Returns the run summary.

    Dumps that a concurrent run committed since this run looked (their sha256 is now in the manifest) are
    left out by :func:`etl.lake.publish`, so the same dump can never be published twice.
    """
    paths = LakePaths(Path(lake))
    staging = RunStaging(lake, run_id)
    info = staging.info()
    full_refresh = bool(info.get("full_refresh"))
    ingested_at = datetime.fromisoformat(info["started_at"])
    shards = staging.summaries()
    vsum = json.loads(staging.validated("summary.json").read_text(encoding="utf-8"))
    # the run's rows are never read whole: its validated cables are data files that etl.lake.publish
    # commits as they are (only files holding a copy of a cable seen twice are rewritten)
    data_files = staging.data_files()
    n_cables = sum(f.entry.rows for f in data_files)
    n_quarantine = sum(pq.ParquetFile(p).metadata.num_rows for p in staging.rejected_files())

    found = sum(s["records"] for s in shards)
    if found != n_cables + n_quarantine:
        raise ReconciliationError(
            f"run {run_id}: {found} records found but {n_cables} cables + "
            f"{n_quarantine} quarantined = {n_cables + n_quarantine}"
        )
    replay_keys: dict[str, list[Any]] = {}
    replay_version: int | None = None
    for s in shards:
        if s.get("replay"):
            replay_version = int(s["replay"]["version"])
            replay_keys.update(s["replay"]["keys"])
    quarantine, per_reason, still = _stage_quarantine(staging, replay_keys)
    replay: dict[str, list[int]] = {}
    for rel, index in replay_keys.values():
        if (rel, index) not in still:
            replay.setdefault(rel, []).append(index)
    per_format: Counter[str] = Counter()
    for s in shards:
        per_format.update(s["per_format"])
    timings = {"parse": round(sum(s["seconds"] for s in shards), 3), "validate": vsum["seconds"]}
    if any("cpu" in s for s in shards):  # the parse workers' CPU: with the wall above, how busy their cores were
        timings["parse_cpu"] = round(sum(s.get("cpu", 0.0) for s in shards), 3)
    if vsum.get("gate_wait"):  # the parse workers' seconds waiting for each other's writes (idle cores)
        timings["gate_wait"] = vsum["gate_wait"]
    inputs = [inp for s in shards for inp in s.get("inputs", [])]
    row = runs_row(
        run_id, started_at=ingested_at, parser_version=PARSER_VERSION, inputs=inputs,
        skipped=info.get("skipped", []), per_format=dict(per_format), per_reason=dict(per_reason.most_common()),
        per_rule=vsum["per_rule"], timings=timings,
    )
    dumps = {
        i["sha256"]: {"uri": i["uri"], "size": i["size"], "records": i["records"], "run_id": run_id}
        for i in inputs
    }
    t0 = time.perf_counter()
    with lake_lock(paths.root, what=f"cablelake publish {run_id}", timeout=lock_timeout):
        result = publish(
            paths.lake, run_id, Rows("cables", tuple(data_files)), Rows("quarantine", quarantine),
            ingested_at=ingested_at, dumps=dumps, runs_row=row, full_refresh=full_refresh, replay=replay or None,
            replay_version=replay_version, lock_timeout=lock_timeout,
        )
        timings["publish"] = round(time.perf_counter() - t0, 3)
        if needs_compaction(read_current(paths.lake)):
            t1 = time.perf_counter()
            compact(paths.lake, run_id)
            timings["compact"] = round(time.perf_counter() - t1, 3)
        collect_garbage(paths.lake)
    per_reason_all = Counter(per_reason)
    if result.duplicates:
        per_reason_all["duplicate"] += result.duplicates
    summary = RunSummary(
        run_id=run_id,
        lake=paths.lake,
        records_found=result.records,
        cables=result.cables,
        quarantined=result.quarantined,
        per_format=dict(per_format),
        per_reason=dict(per_reason_all.most_common()),
        per_rule=vsum["per_rule"],
        inputs=[i for i in inputs if i["sha256"] in {x["sha256"] for x in result.inputs}],
        timings=timings,
        quality_docs=vsum.get("docs_index"),
        operation=result.operation,
        lake_version=read_current(paths.lake).version,
        duplicates=result.duplicates,
        displaced=result.displaced,
        replayed=result.replayed,
        skipped=result.skipped,
        lake_cables=result.lake_cables,
        lake_quarantine=result.lake_quarantine,
        failed_dumps=staging.failures(),
    )
    (paths.root / "_summaries").mkdir(parents=True, exist_ok=True)
    (paths.root / "_summaries" / f"{run_id}.json").write_text(json.dumps(summary.to_dict(), default=str))
    staging.remove()
    return summary.to_dict()


def refresh_catalog(lake: str | Path, lock_timeout: float | None = None, noop_version: int | None = None) -> str:
    """Rebuild the DuckDB catalog of views over the committed files and swap it in; returns its path.

    Under the lake lock, so the version it reflects (recorded in ``_catalog.json``, which garbage
    collection honours) cannot move while it is built. ``noop_version``: the lake version a run with nothing
    new just made (it added one ``runs`` row): when the catalog was at the version before it and the lake is
    still at it, only the ``runs`` view is replaced (see :func:`etl.catalog.refresh`).
    """
    paths = LakePaths(Path(lake))
    with lake_lock(paths.root, what="cablelake refresh_catalog", timeout=lock_timeout):
        commit = read_current(paths.lake)
        noop = noop_version is not None and commit.version == noop_version == catalog_version(paths.root) + 1
        path = _catalog.refresh(lake, ("runs",) if noop else _catalog.TABLES, commit if commit.version else None)
        atomic_write_text(paths.root / CATALOG_STATE, json.dumps({"version": commit.version}))
        sync_search(lake)
    return str(path)


def sync_search(root: Path | str) -> None:
    """Bring the search index to the lake's version (under the lake lock). The commit is already made: a
    failure here is logged, not raised, and the next run or search repairs the index.
    ``CABLELAKE_SEARCH_INDEX=0`` leaves the index alone (the benchmark's baseline; a search then builds it)."""
    if os.environ.get("CABLELAKE_SEARCH_INDEX", "1") == "0":
        return
    try:
        _search.sync(root)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - derived data (a panic in tantivy is a BaseException); the lake is fine
        logging.getLogger(__name__).exception("search index of %s not brought up to date", root)


def recover(lake: str | Path, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Finish what a crashed run left: stale staging folders, a catalog behind the lake, orphan files.

    Needs the lake lock (``cablelake run`` holds it). Nothing here changes what the lake holds: the commit
    record alone says that.
    """
    root = Path(lake)
    migrated = migrate(root) if needs_migration(root) else {"migrated": False}
    removed = clean_staging(root, keep=keep)
    refreshed = False
    current = read_current(root)
    if current.version and (catalog_version(root) != current.version or not LakePaths(root).catalog.exists()):
        refresh_catalog(root)
        refreshed = True
    elif current.version:
        sync_search(root)  # a crash between the catalog and the index: catch the index up
    garbage = collect_garbage(root)
    return {
        "migrated": migrated,
        "staging_removed": removed,
        "catalog_refreshed": refreshed,
        "files_removed": len(garbage),
    }
