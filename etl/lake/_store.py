"""Paths of a lake and small Parquet helpers (the staging area uses them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CABLES = "cables"
QUARANTINE = "quarantine"
RUNS = "runs"

_COMPRESSION = "zstd"


@dataclass(frozen=True)
class LakePaths:
    """All the places of one lake, derived from its root."""

    root: Path

    @property
    def cables(self) -> Path:
        return self.root / CABLES

    @property
    def quarantine(self) -> Path:
        return self.root / QUARANTINE

    @property
    def runs(self) -> Path:
        return self.root / RUNS

    @property
    def catalog(self) -> Path:
        return self.root / "cables.duckdb"

    def staging(self, run_id: str) -> Path:
        return self.root / "_staging" / run_id

    def quality(self, run_id: str) -> Path:
        return self.root / "_quality" / run_id

    def table_dir(self, table: str) -> Path:
        return self.root / table


def write_parquet(table: pa.Table, path: Path) -> Path:
    """Write ``table`` to ``path`` atomically (temp file + rename), zstd-compressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression=_COMPRESSION)
    os.replace(tmp, path)
    return path


def read_parquet_dir(paths: list[Path], schema: pa.Schema) -> pa.Table:
    """Concatenate Parquet files (all of ``schema``); an empty list gives an empty table."""
    if not paths:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(p, schema=schema) for p in paths])
