"""Lake stage: Parquet publish, quarantine, run records.

Layout under the lake root (default ``./lake``)::

    cables/year=YYYY/<run_id>-<n>.parquet      the cables table (zstd, Hive partitions)
    quarantine/year=YYYY/<run_id>-<n>.parquet  records set aside, with reasons and lineage
    runs/<run_id>.parquet                      one row per run (inputs, counts, timings)
    _staging/<run_id>/                         a run's work area (parsed shards, validated tables)
    _quality/<run_id>/                         GE validation results and Data Docs
    cables.duckdb                              DuckDB catalog of views over the Parquet
"""

from __future__ import annotations

from etl.lake._store import (
    CABLES,
    QUARANTINE,
    RUNS,
    LakePaths,
    publish,
    read_parquet_dir,
    write_parquet,
)

__all__ = ["CABLES", "QUARANTINE", "RUNS", "LakePaths", "publish", "read_parquet_dir", "write_parquet"]
