"""How a run starts and ends: all steps in one process (the CLI's ``cablelake run``, holding the lake lock
throughout), the end of the parse step of a run whose steps are separate tasks (the DAG), and the one way
both record a run that found nothing new."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.lake import (
    Commit,
    LakePaths,
    catalog_version,
    check_schema,
    clean_staging,
    code_schema_versions,
    collect_garbage,
    lake_lock,
    needs_migration,
    read_current,
    record_noop,
    runs_row,
)
from etl.parse import PARSER_VERSION
from etl.pipeline._common import RunSummary, new_run_id, select_dumps, start_run
from etl.pipeline._config import RunConfig
from etl.pipeline._plan import cap_shards, plan_shards
from etl.pipeline._staging import RunStaging
from etl.sources import discover

log = logging.getLogger(__name__)


class NothingToRefreshError(ValueError):
    """``--full-refresh`` without any input would empty the lake."""


def run(
    sources: Iterable[str],
    lake: str | Path = "lake",
    *,
    full_refresh: bool = False,
    replay_quarantine: bool = False,
    lock_timeout: float | None = None,
    rehash: bool = False,
) -> RunSummary:
    """Run every step in this process: the CLI's ``cablelake run``.

    Incremental by default: dumps whose content (sha256) the lake already holds are skipped, and a run with
    nothing new parses nothing (it only records a ``noop`` run). ``full_refresh`` re-reads every given dump
    and replaces the lake's cables and quarantine with the result. ``replay_quarantine`` re-parses the
    quarantined records and moves those that now pass into cables. The lake lock is held for the whole run:
    a second run on the same lake waits up to ``lock_timeout`` seconds, then refuses. A dump that cannot be
    read is left out (``failed_dumps``); the others are published. A dump's sha256 comes from the quick-check
    index of unchanged files (:func:`etl.sources.discover`); ``rehash`` reads and hashes every dump again.

    Nothing new is decided before anything heavy is imported or repaired: on a lake at rest (see
    :func:`_at_rest`) such a run costs a stat per dump, the manifest, its ``runs`` row and the ``runs`` view.
    """
    t0 = time.perf_counter()
    root = Path(lake)
    sources = list(sources)
    with lake_lock(root, what="cablelake run", timeout=lock_timeout):
        run_id = new_run_id()
        base = read_current(root)
        at_rest = not (full_refresh or replay_quarantine) and _at_rest(root, base)
        recovered = None if at_rest else recover_lake(root)
        base = base if at_rest else read_current(root)
        check_schema(base, code_schema_versions(), str(root), full_refresh=full_refresh)
        dumps = discover(sources, rehash=rehash) if sources else []
        todo, skipped = select_dumps(dumps, None if full_refresh else base.dumps)
        if full_refresh and not todo:
            raise NothingToRefreshError(
                "--full-refresh rebuilds the lake from the given dumps, and none was found: refusing to empty it"
            )
        if not todo and not replay_quarantine:
            summary = record_noop_run(root, run_id, skipped)
            summary.timings["total"] = round(time.perf_counter() - t0, 3)
            return summary
        # there is work: only now the stages that do it are imported (parser, Great Expectations, DuckDB...)
        from etl.pipeline._parse import parse_shard
        from etl.pipeline._publish import publish_run, refresh_catalog
        from etl.pipeline._replay import stage_replay
        from etl.pipeline._validate import validate_run

        recovered = recovered if recovered is not None else recover_lake(root)
        start_run(root, run_id, full_refresh=full_refresh, replay_quarantine=replay_quarantine, mode="cli")
        RunStaging(root, run_id).update_info(skipped=skipped, recovered=recovered)
        for attempt, shard in enumerate(plan_shards([d.uri for d in todo])):
            parse_shard(shard, root, run_id, attempt)
        if replay_quarantine:
            stage_replay(root, run_id)
        validate_run(root, run_id)
        result = publish_run(root, run_id)
        t1 = time.perf_counter()
        refresh_catalog(root)
        collect_garbage(root)
        result["timings"]["catalog"] = round(time.perf_counter() - t1, 3)
        result["timings"]["total"] = round(time.perf_counter() - t0, 3)
        return RunSummary(**result)


def _at_rest(root: Path, base: Commit) -> bool:
    """Whether the lake needs no repair before a run decides it has nothing to do: no lake of the former
    format, no staging folder of a dead run left (removed here), a catalog at the lake's version. Then a run
    with nothing new does only its own work (:func:`record_noop_run`); otherwise :func:`recover_lake` first."""
    if not base.version or needs_migration(root) or clean_staging(root):
        return False
    return catalog_version(root) == base.version and LakePaths(root).catalog.exists()


def recover_lake(root: Path) -> dict[str, Any]:
    """:func:`etl.pipeline._publish.recover`, imported when a run needs it (it brings DuckDB and the search)."""
    from etl.pipeline._publish import recover

    return recover(root)


def plan_run(
    lake: str | Path, run_id: str, sources: Sequence[str], max_shards: int | None = None, *, rehash: bool = False
) -> list[list[str]]:
    """The shards of dumps that run ``run_id`` (started by :func:`start_run`) must parse: the dumps of
    ``sources`` whose content the lake has not ingested, in at most ``max_shards`` shards (and at most
    :attr:`RunConfig.max_shards`). The skipped dumps are recorded for the run's ``runs`` row. With nothing
    new, the run ends here as the CLI's does: a ``noop`` row in ``runs`` (:func:`record_noop_run`)."""
    staging = RunStaging(lake, run_id)
    todo, skipped = select_dumps(discover(list(sources), rehash=rehash), read_current(Path(lake)).dumps)
    if not todo:
        record_noop_run(lake, run_id, skipped, datetime.fromisoformat(staging.info()["started_at"]))
        staging.remove()
        return []
    staging.update_info(skipped=skipped)
    config = RunConfig.from_env()
    shards = cap_shards(plan_shards([d.uri for d in todo]), min(config.max_shards, max_shards or config.max_shards))
    log.info("%d new dump(s) in %s -> %d shard(s); %d skipped", len(todo), list(sources), len(shards), len(skipped))
    return shards


def finish_parsing(lake: str | Path, run_id: str) -> bool:
    """Close the parse step of a run whose shards were parsed by separate tasks; True: validate now.

    Leaves out the partial output of parses that died (shards without a summary). When no shard finished
    and no dump failed either, the staging folder is removed.
    """
    staging = RunStaging(lake, run_id)
    removed = staging.drop_unfinished()
    if removed:
        log.warning("left out the partial output of failed parses: %s", removed)
    if staging.finished():
        return True
    if not staging.failures():
        staging.remove()
    return False


def record_noop_run(
    lake: str | Path, run_id: str, skipped: list[dict[str, str]], started_at: datetime | None = None
) -> RunSummary:
    """Nothing new: record the run (status ``noop``) and its skipped inputs, parse nothing; then bring the
    catalog up to date and drop files no reader needs. The CLI and the DAG both end such a run here."""
    root = Path(lake)
    now = datetime.now(UTC)
    timings = {"total": round((now - (started_at or now)).total_seconds(), 3)}
    row = runs_row(run_id, started_at=started_at or now, finished_at=now, parser_version=PARSER_VERSION,
                   skipped=skipped, timings=timings)
    with lake_lock(root, what=f"cablelake run {run_id}"):
        from etl.pipeline._publish import refresh_catalog

        version = record_noop(root, run_id, row)
        refresh_catalog(root, noop_version=version)
        collect_garbage(root)
        current = read_current(root)
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
