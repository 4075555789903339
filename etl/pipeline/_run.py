"""All steps in one process (the CLI's ``cablelake run``), holding the lake lock throughout."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

from etl.lake import (
    LakePaths,
    check_schema,
    code_schema_versions,
    collect_garbage,
    lake_lock,
    read_current,
)
from etl.pipeline._common import RunSummary, new_run_id, select_dumps, start_run
from etl.pipeline._dedup import order_for_dedup
from etl.pipeline._parse import parse_dump, plan_shards
from etl.pipeline._publish import publish_run, record_noop_run, recover, refresh_catalog
from etl.pipeline._replay import stage_replay
from etl.pipeline._validate import validate_run
from etl.sources import discover


class NothingToRefreshError(ValueError):
    """``--full-refresh`` without any input would empty the lake."""


def run(
    sources: Iterable[str],
    lake: str | Path = "lake",
    *,
    full_refresh: bool = False,
    replay_quarantine: bool = False,
    lock_timeout: float | None = None,
) -> RunSummary:
    """Run every step in this process: the CLI's ``cablelake run``.

    Incremental by default: dumps whose content (sha256) the lake already holds are skipped, and a run with
    nothing new parses nothing (it only records a ``noop`` run). ``full_refresh`` re-reads every given dump
    and replaces the lake's cables and quarantine with the result. ``replay_quarantine`` re-parses the
    quarantined records and moves those that now pass into cables. The lake lock is held for the whole run:
    a second run on the same lake waits up to ``lock_timeout`` seconds, then refuses.
    """
    t0 = time.perf_counter()
    root = Path(lake)
    sources = list(sources)
    with lake_lock(root, what="cablelake run", timeout=lock_timeout):
        run_id = new_run_id()
        recovered = recover(root)
        base = read_current(root)
        check_schema(base, code_schema_versions(), str(root), full_refresh=full_refresh)
        dumps = discover(sources) if sources else []
        todo, skipped = select_dumps(dumps, None if full_refresh else base.dumps)
        if full_refresh and not todo:
            raise NothingToRefreshError(
                "--full-refresh rebuilds the lake from the given dumps, and none was found: refusing to empty it"
            )
        if not todo and not replay_quarantine:
            return _noop(root, run_id, skipped, t0)
        start_run(root, run_id, full_refresh=full_refresh, replay_quarantine=replay_quarantine, mode="cli")
        paths = LakePaths(root)
        info_path = paths.staging(run_id) / "run.json"
        info = json.loads(info_path.read_text(encoding="utf-8"))
        info["skipped"] = skipped
        info["recovered"] = recovered
        info_path.write_text(json.dumps(info), encoding="utf-8")
        for shard in plan_shards([d.uri for d in todo]):
            parse_dump(shard, root, run_id)
        if replay_quarantine:
            stage_replay(root, run_id)
        order_for_dedup(root, run_id)
        validate_run(root, run_id)
        result = publish_run(root, run_id)
        t1 = time.perf_counter()
        refresh_catalog(root)
        collect_garbage(root)
        result["timings"]["catalog"] = round(time.perf_counter() - t1, 3)
        result["timings"]["total"] = round(time.perf_counter() - t0, 3)
        return RunSummary(**result)


def _noop(root: Path, run_id: str, skipped: list[dict[str, str]], t0: float) -> RunSummary:
    """Nothing new: record the run (status ``noop``) and its skipped inputs, parse nothing."""
    version, timings = record_noop_run(root, run_id, skipped)
    refresh_catalog(root)
    collect_garbage(root)
    current = read_current(root)
    timings["total"] = round(time.perf_counter() - t0, 3)
    return RunSummary(
        run_id=run_id,
        lake=LakePaths(root).lake,
        operation="noop",
        lake_version=version,
        skipped=skipped,
        timings=timings,
        lake_cables=current.rows("cables"),
        lake_quarantine=current.rows("quarantine"),
    )
