"""Lake stage: the tables as Delta Lake tables, one atomic lake commit per run, dedup, manifest, retention.

Layout under the lake root (a local folder, or ``s3://bucket/prefix``, ``gs://...``, ``az://...``)::

    _lake/                       Delta table: one row per lake version naming each table's version (the truth)
    cables/                      Delta table, partitioned by year (cables/year=YYYY/<file>.parquet)
    quarantine/                  Delta table, partitioned by year: records set aside, with reasons and lineage
    runs/                        Delta table: one row per run (inputs, counts, timings)
    dumps/                       Delta table: the manifest of ingested dumps (sha256 -> uri, size, records, run)
    _staging/<run_id>/           a run's work area (parsed shards, validated tables)      [local lakes]
    _quality/<run_id>/           GE validation results and Data Docs                     [local lakes]
    _lock                        flock: local writers take turns (an optimisation, not the safety)
    cables.duckdb                DuckDB catalog: views over the files of the current lake version

Each table is plain Delta (reader 1 / writer 2): any Delta reader reads it. A lake version is a row of
``_lake``; readers that want every table at the same run read each at the version that row names
(:func:`read_current`, :func:`read_as_of`). See :mod:`etl.lake._commit` for the protocol.
"""

from __future__ import annotations

from etl.lake._commit import (
    Commit,
    committed_files,
    current_lake,
    history,
    is_lake,
    read_as_of,
    read_current,
    read_version,
    reader_files,
    version_token,
)
from etl.lake._delta import ConflictError, FileEntry
from etl.lake._lock import LakeLockedError, holds_lock, lake_lock
from etl.lake._migrate import migrate, needs_migration
from etl.lake._ops import (
    CATALOG_STATE,
    DataFile,
    PublishResult,
    ReconciliationError,
    Rows,
    catalog_version,
    check_schema,
    clean_staging,
    code_schema_versions,
    collect_garbage,
    compact,
    needs_compaction,
    publish,
    read_table,
    record_noop,
    replay_candidates,
    runs_row,
    vacuum,
)
from etl.lake._store import (
    LakePaths,
    ParquetSink,
    atomic_write_text,
    fsspec_store,
    is_remote,
    remote_uri,
    write_parquet,
)
from etl.lake._txn import FileSet, SchemaMismatchError, Transaction, iter_file, iter_parquet

__all__ = [
    "CATALOG_STATE",
    "Commit",
    "ConflictError",
    "DataFile",
    "FileEntry",
    "FileSet",
    "LakeLockedError",
    "LakePaths",
    "ParquetSink",
    "PublishResult",
    "ReconciliationError",
    "Rows",
    "SchemaMismatchError",
    "Transaction",
    "atomic_write_text",
    "catalog_version",
    "check_schema",
    "clean_staging",
    "code_schema_versions",
    "collect_garbage",
    "committed_files",
    "current_lake",
    "compact",
    "fsspec_store",
    "history",
    "holds_lock",
    "is_lake",
    "is_remote",
    "remote_uri",
    "iter_file",
    "iter_parquet",
    "lake_lock",
    "migrate",
    "needs_compaction",
    "needs_migration",
    "publish",
    "read_as_of",
    "read_current",
    "read_table",
    "read_version",
    "reader_files",
    "record_noop",
    "replay_candidates",
    "runs_row",
    "vacuum",
    "version_token",
    "write_parquet",
]
