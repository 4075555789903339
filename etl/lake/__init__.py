"""Lake stage: Parquet tables, atomic commits, dedup, manifest of ingested dumps, lock, compaction.

Layout under the lake root (default ``./lake``)::

    _current.json                              the commit record: THE truth (live files, dump manifest)
    _commits/v<version>.json                   every version's commit record (history)
    cables/year=YYYY/<run_id>-<n>.parquet      files of the cables table (zstd, Hive partitions)
    quarantine/year=YYYY/<run_id>-<n>.parquet  records set aside, with reasons and lineage
    runs/<run_id>-<n>.parquet                  one row per run (inputs, counts, timings)
    _staging/<run_id>/                         a run's work area (parsed shards, validated tables)
    _quality/<run_id>/                         GE validation results and Data Docs
    _lock                                      flock: one writer at a time
    cables.duckdb                              DuckDB catalog: views over the committed files only

A Parquet file under ``cables/`` is part of the table only when ``_current.json`` lists it: files of a
run that crashed before its commit, and files superseded by a later version (kept a while for readers of
the previous catalog), also lie there until the next run vacuums them.
"""

from __future__ import annotations

from etl.lake._commit import (
    Commit,
    FileEntry,
    atomic_write_text,
    committed_files,
    read_current,
    read_version,
    write_commit,
)
from etl.lake._lock import LakeLockedError, holds_lock, lake_lock
from etl.lake._merge import DUPLICATE, keys
from etl.lake._ops import (
    CATALOG_STATE,
    COMPACT_THRESHOLD,
    PublishResult,
    ReconciliationError,
    Rows,
    adopt_legacy,
    catalog_version,
    clean_staging,
    code_schema_versions,
    collect_garbage,
    compact,
    needs_compaction,
    publish,
    read_table,
    record_noop,
    replay_candidates,
)
from etl.lake._store import CABLES, QUARANTINE, RUNS, LakePaths, read_parquet_dir, write_parquet
from etl.lake._txn import SchemaMismatchError, TableWriter, Transaction, check_schema, iter_file, iter_parquet

__all__ = [
    "CABLES",
    "CATALOG_STATE",
    "COMPACT_THRESHOLD",
    "DUPLICATE",
    "QUARANTINE",
    "RUNS",
    "Commit",
    "FileEntry",
    "LakeLockedError",
    "LakePaths",
    "PublishResult",
    "ReconciliationError",
    "Rows",
    "SchemaMismatchError",
    "TableWriter",
    "Transaction",
    "adopt_legacy",
    "atomic_write_text",
    "catalog_version",
    "check_schema",
    "clean_staging",
    "code_schema_versions",
    "collect_garbage",
    "committed_files",
    "compact",
    "holds_lock",
    "iter_file",
    "iter_parquet",
    "keys",
    "lake_lock",
    "needs_compaction",
    "publish",
    "read_current",
    "read_parquet_dir",
    "read_table",
    "read_version",
    "record_noop",
    "replay_candidates",
    "write_commit",
    "write_parquet",
]
