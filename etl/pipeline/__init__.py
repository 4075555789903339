"""The pipeline's steps, as plain functions that pass paths (never data) between them.

The Airflow DAG maps :func:`parse_dump` over the dumps and chains the other steps; the CLI calls
:func:`run`, which chains the very same functions in one process. Each step reads its inputs from and
writes its outputs to the run's staging folder ``<lake>/_staging/<run_id>/``:

    start_run        -> run.json
    parse_dump (xN)  -> parsed/<shard>.parquet (cables rows) + rejected/<shard>.parquet (quarantine rows)
                        + shards/<shard>.json (counts, lineage of the dump)
    validate_run     -> validated/cables.parquet + validated/quarantine.parquet + validated/summary.json
    stage_replay     -> parsed/replay.parquet + rejected/replay.parquet (--replay-quarantine only)
    publish_run      -> one atomic lake commit (Delta commits of cables, quarantine, runs, dumps, then the
                        _lake row naming them): dedup against the lake, dump manifest, reconciliation checks;
                        compaction (Delta optimize) past N files per partition
    refresh_catalog  -> lake/cables.duckdb (views over the committed files), built aside and swapped
"""

from etl.pipeline._common import ReconciliationError, RunSummary, find_dumps, new_run_id, start_run
from etl.pipeline._dedup import order_for_dedup
from etl.pipeline._maintain import compact_lake, vacuum_lake
from etl.pipeline._parse import parse_dump, parse_record, plan_shards, quarantine_row
from etl.pipeline._publish import publish_run, recover, refresh_catalog
from etl.pipeline._replay import stage_replay
from etl.pipeline._run import NothingToRefreshError, run
from etl.pipeline._validate import validate_run

__all__ = [
    "NothingToRefreshError",
    "ReconciliationError",
    "RunSummary",
    "compact_lake",
    "find_dumps",
    "new_run_id",
    "order_for_dedup",
    "parse_dump",
    "parse_record",
    "plan_shards",
    "publish_run",
    "quarantine_row",
    "recover",
    "refresh_catalog",
    "run",
    "stage_replay",
    "start_run",
    "vacuum_lake",
    "validate_run",
]
