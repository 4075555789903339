"""Steps publish_run and refresh_catalog: reconcile, merge into the lake in one commit, record the run."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl import catalog as _catalog
from etl import search as _search
from etl.lake import (
    CATALOG_STATE,
    LakePaths,
    ReconciliationError,
    Rows,
    adopt_legacy,
    atomic_write_text,
    catalog_version,
    clean_staging,
    collect_garbage,
    compact,
    lake_lock,
    needs_compaction,
    publish,
    read_current,
)
from etl.parse import PARSER_VERSION
from etl.pipeline._common import RunSummary, run_info, shard_summaries
from etl.schema import schema, staging_schema

UNIQUE_RULE = "reference_id_unique"


def _typed(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(typ):
        return datetime.fromisoformat(value)
    if pa.types.is_date(typ):
        return datetime.fromisoformat(value).date()
    return value


def _rescue_run_duplicates(quarantine: pa.Table) -> tuple[pa.Table, pa.Table]:
    """Rows the validation set aside *only* because another row of the run has the same id.

    Choosing among copies of a cable is the lake's job (it keeps the most complete copy and lists the others
    in ``also_seen_in``), not "first row wins": such rows are turned back into cables rows (from their
    ``record_json``) and handed to the lake's merge. Returns (rescued cables rows, remaining quarantine).
    """
    if quarantine.num_rows == 0:
        return schema("cables").empty_table(), quarantine
    reasons = quarantine.column("reasons").to_pylist()
    records = quarantine.column("record_json").to_pylist()
    stages = quarantine.column("stage").to_pylist()
    sch = staging_schema("cables")
    rescued: list[dict[str, Any]] = []
    keep = []
    for r, rec, st in zip(reasons, records, stages, strict=True):
        ok = st == "validate" and r == [UNIQUE_RULE] and rec is not None
        if ok:
            try:
                row = json.loads(rec)
                rescued.append({f.name: _typed(row.get(f.name), f.type) for f in sch})
            except (ValueError, TypeError):
                ok = False
        keep.append(not ok)
    if not rescued:
        return schema("cables").empty_table(), quarantine
    try:
        table = pa.Table.from_pylist(rescued, schema=sch).cast(schema("cables"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError):
        return schema("cables").empty_table(), quarantine
    return table, quarantine.filter(pa.array(keep, pa.bool_()))


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


def _drop_sources(table: pa.Table, shas: set[str]) -> pa.Table:
    if not shas or table.num_rows == 0:
        return table
    hit = pc.is_in(table.column("source_sha256"), value_set=pa.array(sorted(shas), pa.string()))
    return table.filter(pc.invert(pc.fill_null(hit, False)))


def publish_run(lake: str | Path, run_id: str, lock_timeout: float | None = None) -> dict[str, Any]:
    """Reconcile the run's validated rows and merge them into the lake in one atomic commit (with the
    run's ``runs`` row); then compact if partitions grew too many files. Returns the run summary.

    Dumps that a concurrent run committed since this run looked (their sha256 is now in the manifest) are
    dropped here, under the lake lock, so the same dump can never be published twice.
    """
    paths = LakePaths(Path(lake))
    stage = paths.staging(run_id)
    info = run_info(paths, run_id)
    full_refresh = bool(info.get("full_refresh"))
    ingested_at = datetime.fromisoformat(info["started_at"])
    shards = shard_summaries(paths, run_id)
    vsum = json.loads((stage / "validated" / "summary.json").read_text(encoding="utf-8"))
    # the run's cables are never read whole: etl.lake.publish streams them from the staged file
    cables_path = stage / "validated" / "cables.parquet"
    n_cables = pq.ParquetFile(cables_path).metadata.num_rows
    quarantine = pq.read_table(stage / "validated" / "quarantine.parquet", schema=schema("quarantine"))

    found = sum(s["records"] for s in shards)
    if found != n_cables + quarantine.num_rows:
        raise ReconciliationError(
            f"run {run_id}: {found} records found but {n_cables} cables + "
            f"{quarantine.num_rows} quarantined = {n_cables + quarantine.num_rows}"
        )
    rescued, quarantine = _rescue_run_duplicates(quarantine)
    cables = Rows("cables", (cables_path, rescued))

    replay: dict[str, list[int]] = {}
    replay_version: int | None = None
    for s in shards:
        if s.get("replay"):
            replay_version = int(s["replay"]["version"])
            quarantine, still = _keep_failed_replays(quarantine, s["replay"]["keys"])
            found -= len(still)
            for rel, index in s["replay"]["keys"].values():
                if (rel, index) not in still:
                    replay.setdefault(rel, []).append(index)
    inputs = [inp for s in shards for inp in s.get("inputs", [])]
    skipped: list[dict[str, Any]] = list(info.get("skipped", []))
    t0 = time.perf_counter()
    with lake_lock(paths.root, what=f"cablelake publish {run_id}", timeout=lock_timeout):
        manifest = {} if full_refresh else read_current(paths.root).dumps
        late = {inp["sha256"] for inp in inputs if inp["sha256"] in manifest}
        if late:  # ingested by a concurrent run meanwhile
            skipped += [{**i, "reason": "already_ingested"} for i in inputs if i["sha256"] in late]
            inputs = [i for i in inputs if i["sha256"] not in late]
            before = cables.count() + quarantine.num_rows
            cables = Rows("cables", cables.parts, frozenset(late))
            quarantine = _drop_sources(quarantine, late)
            found -= before - cables.count() - quarantine.num_rows
        per_format: Counter[str] = Counter()
        for s in shards:
            per_format.update(s["per_format"])
        per_reason: Counter[str] = Counter()
        for reasons in quarantine.column("reasons").to_pylist():
            per_reason.update(reasons or [])
        timings = {
            "parse": round(sum(s["seconds"] for s in shards), 3),
            "validate": vsum["seconds"],
        }
        runs_row = {
            "run_id": run_id,
            "started_at": ingested_at,
            "finished_at": datetime.now(UTC),
            "parser_version": PARSER_VERSION,
            "inputs": [{k: i[k] for k in ("uri", "sha256", "size", "records")} for i in inputs],
            "inputs_skipped": [{k: i.get(k) for k in ("uri", "sha256", "reason")} for i in skipped],
            "per_format": json.dumps(dict(per_format)),
            "per_reason": json.dumps(dict(per_reason.most_common())),
            "per_rule": json.dumps(vsum["per_rule"], default=str),
            "timings": json.dumps(timings),
        }
        dumps = {
            i["sha256"]: {"uri": i["uri"], "size": i["size"], "records": i["records"], "run_id": run_id}
            for i in inputs
        }
        result = publish(
            paths.root,
            run_id,
            cables,
            quarantine,
            ingested_at=ingested_at,
            dumps=dumps,
            runs_row=runs_row,
            full_refresh=full_refresh,
            replay=replay or None,
            replay_version=replay_version,
            lock_timeout=lock_timeout,
        )
        timings["publish"] = round(time.perf_counter() - t0, 3)
        if needs_compaction(read_current(paths.root)):
            t1 = time.perf_counter()
            compact(paths.root, run_id)
            timings["compact"] = round(time.perf_counter() - t1, 3)
        collect_garbage(paths.root)
    per_reason_all = Counter(per_reason)
    if result.duplicates:
        per_reason_all["duplicate"] += result.duplicates
    summary = RunSummary(
        run_id=run_id,
        lake=str(paths.root),
        records_found=result.records,
        cables=result.cables,
        quarantined=result.quarantined,
        per_format=dict(per_format),
        per_reason=dict(per_reason_all.most_common()),
        per_rule=vsum["per_rule"],
        inputs=inputs,
        timings=timings,
        quality_docs=vsum.get("docs_index"),
        operation=result.operation,
        lake_version=read_current(paths.root).version,
        duplicates=result.duplicates,
        displaced=result.displaced,
        replayed=result.replayed,
        skipped=skipped,
        lake_cables=result.lake_cables,
        lake_quarantine=result.lake_quarantine,
    )
    (paths.root / "_summaries").mkdir(exist_ok=True)
    (paths.root / "_summaries" / f"{run_id}.json").write_text(json.dumps(summary.to_dict(), default=str))
    shutil.rmtree(stage, ignore_errors=True)
    return summary.to_dict()


def refresh_catalog(lake: str | Path, lock_timeout: float | None = None) -> str:
    """Rebuild the DuckDB catalog of views over the committed files and swap it in; returns its path.

    Under the lake lock, so the version it reflects (recorded in ``_catalog.json``, which garbage
    collection honours) cannot move while it is built.
    """
    root = Path(lake)
    with lake_lock(root, what="cablelake refresh_catalog", timeout=lock_timeout):
        version = read_current(root).version
        path = _catalog.refresh(root)
        atomic_write_text(root / CATALOG_STATE, json.dumps({"version": version}))
        sync_search(root)
    return str(path)


def sync_search(root: Path) -> None:
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
    adopted = adopt_legacy(root)
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
        "adopted_files": adopted,
        "staging_removed": removed,
        "catalog_refreshed": refreshed,
        "files_removed": len(garbage),
    }
