"""The pipeline's steps, as plain functions that pass paths (never data) between them.

The Airflow DAG maps :func:`parse_shard` over shards of dumps and chains the other steps; the CLI calls
:func:`run`, which chains the very same functions in one process. Each step reads its inputs from and
writes its outputs to the run's staging folder ``<lake>/_staging/<run_id>/``, whose one owner is
:class:`RunStaging` (folder names, shard names, finished and failed shards, cleanup):

    start_run        -> run.json
    plan_run         -> the shards to parse (the dumps the lake has not ingested); skipped dumps into run.json;
                        a run with nothing new ends here, with the same noop runs row as the CLI's
    parse_shard (xN) -> per shard, in worker processes that each read the dumps and take every n-th batch
                        (work as a number, not as records): parse, validate (GX, chunk by chunk, on the
                        narrow columns) and write once: parsed/<shard>/<part>/cables/year=Y/*.parquet (the
                        validated rows as data files of the lake's cables table) + rejected/<shard>/<part>.parquet
                        (quarantine rows) + shards/<shard>.json (counts, data files, validation counts,
                        lineage, failed dumps), written last; failed dumps also in <lake>/_failures/<run_id>/
    finish_parsing   -> drops the output of parses that died (shards without a summary)
    stage_replay     -> the same for the replayed quarantine, as shard "replay" (--replay-quarantine only)
    validate_run     -> validated/summary.json: the workers' rule counts summed, the run's repeated ids
                        counted, thresholds checked run-wide
    publish_run      -> one atomic lake commit (Delta commits of cables, quarantine, runs, dumps, then the
                        _lake row naming them): dedup against the run and the lake on narrow columns; the
                        data files no decision touches are committed as they are (add actions), those holding
                        a repeated cable rewritten; dump manifest, reconciliation checks; compaction (Delta
                        optimize) past N files per partition
    refresh_catalog  -> lake/cables.duckdb (views over the committed files), built aside and swapped
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from etl.pipeline._common import (
        ReconciliationError,
        RunSummary,
        event_extra,
        find_dumps,
        new_run_id,
        start_run,
    )
    from etl.pipeline._config import RunConfig
    from etl.pipeline._lineage import lineage_facts
    from etl.pipeline._maintain import compact_lake, vacuum_lake
    from etl.pipeline._parse import parse_dump, parse_record, parse_shard, quarantine_row
    from etl.pipeline._plan import cap_shards, landing_sources, plan_shards, shard_label
    from etl.pipeline._publish import publish_run, recover, refresh_catalog
    from etl.pipeline._replay import stage_replay
    from etl.pipeline._run import NothingToRefreshError, finish_parsing, plan_run, record_noop_run, run
    from etl.pipeline._staging import RunStaging, shard_id
    from etl.pipeline._validate import validate_run

_HOME = {
    "ReconciliationError": "_common", "RunSummary": "_common", "event_extra": "_common", "find_dumps": "_common",
    "new_run_id": "_common", "start_run": "_common", "RunConfig": "_config",
    "lineage_facts": "_lineage", "compact_lake": "_maintain", "vacuum_lake": "_maintain", "parse_dump": "_parse",
    "parse_record": "_parse", "parse_shard": "_parse", "quarantine_row": "_parse", "cap_shards": "_plan",
    "landing_sources": "_plan", "plan_shards": "_plan", "shard_label": "_plan", "publish_run": "_publish",
    "recover": "_publish", "refresh_catalog": "_publish", "stage_replay": "_replay",
    "NothingToRefreshError": "_run", "finish_parsing": "_run", "plan_run": "_run", "record_noop_run": "_run",
    "run": "_run", "RunStaging": "_staging", "shard_id": "_staging", "validate_run": "_validate",
}
"""Where each public name lives. Imported when first used, so that a run with nothing to do (or a DAG task
that plans) does not load the parser, Great Expectations or DuckDB before it knows it needs them."""


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "NothingToRefreshError",
    "ReconciliationError",
    "RunConfig",
    "RunStaging",
    "RunSummary",
    "cap_shards",
    "compact_lake",
    "event_extra",
    "find_dumps",
    "finish_parsing",
    "landing_sources",
    "lineage_facts",
    "new_run_id",
    "parse_dump",
    "parse_record",
    "parse_shard",
    "plan_run",
    "plan_shards",
    "publish_run",
    "quarantine_row",
    "record_noop_run",
    "recover",
    "refresh_catalog",
    "run",
    "shard_id",
    "shard_label",
    "stage_replay",
    "start_run",
    "vacuum_lake",
    "validate_run",
]
