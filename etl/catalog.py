"""Catalog stage: a DuckDB file of views over the lake's Parquet.

The ``.duckdb`` file holds no data, only views, so it is cheap to rebuild: it is built beside the old one
and swapped in with one rename, so a reader never opens a half-built catalog.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from etl.lake import LakePaths
from etl.schema import declaration, schema


def _parquet_glob(paths: LakePaths, table: str) -> str:
    return str(paths.table_dir(table) / "**" / "*.parquet")


def _view_sql(paths: LakePaths, table: str) -> str:
    """A view over a table's Parquet files; an empty typed view when there are none yet."""
    has_files = any(paths.table_dir(table).rglob("*.parquet")) if paths.table_dir(table).exists() else False
    if has_files:
        glob = _parquet_glob(paths, table).replace("'", "''")
        partitioned = bool(declaration(table).get("partition_by")) if table != "runs" else False
        hive = "true" if partitioned else "false"
        return (
            f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet('{glob}', "
            f"hive_partitioning = {hive}, union_by_name = true)"
        )
    return f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM {table}__empty"


def refresh(lake_root: Path | str, tables: tuple[str, ...] = ("cables", "quarantine", "runs")) -> Path:
    """(Re)build ``cables.duckdb`` with one view per table and swap it in atomically."""
    paths = LakePaths(Path(lake_root))
    paths.root.mkdir(parents=True, exist_ok=True)
    target = paths.catalog
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for table in tables:
            empty = schema(table).empty_table()
            con.register("empty_arrow", empty)
            con.execute(f"CREATE OR REPLACE TABLE {table}__empty AS SELECT * FROM empty_arrow")
            con.unregister("empty_arrow")
            con.execute(_view_sql(paths, table))
            desc = str(declaration(table).get("description", "")).replace("'", "''")
            if desc:
                con.execute(f"COMMENT ON VIEW {table} IS '{desc}'")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    return target


def connect(lake_root: Path | str, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the lake's catalog (read-only by default, so dashboards never lock writers out)."""
    paths = LakePaths(Path(lake_root))
    if not paths.catalog.exists():
        refresh(paths.root)
    return duckdb.connect(str(paths.catalog), read_only=read_only)
