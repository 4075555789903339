"""Parquet storage of the lake: staging, publish, run records."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
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


def _partitions(table: pa.Table) -> list[tuple[int | None, pa.Table]]:
    if table.num_rows == 0:
        return []
    years = table.column("year")
    out: list[tuple[int | None, pa.Table]] = []
    for year in pc.unique(years).to_pylist():
        mask = pc.is_null(years) if year is None else pc.equal(years, year)
        out.append((year, table.filter(mask)))
    return sorted(out, key=lambda t: (t[0] is None, t[0] or 0))


def _partition_name(year: int | None) -> str:
    return "year=__HIVE_DEFAULT_PARTITION__" if year is None else f"year={year}"


def publish(paths: LakePaths, run_id: str, tables: dict[str, pa.Table]) -> dict[str, list[str]]:
    """Publish a run's tables into the lake.

    Files are first written under the run's staging folder, then renamed into their partition folders
    (same filesystem, so each rename is atomic). The ``year`` column becomes the Hive partition key.
    Returns the published file paths per table.
    """
    stage = paths.staging(run_id) / "publish"
    if stage.exists():
        shutil.rmtree(stage)
    staged: list[tuple[Path, Path]] = []
    published: dict[str, list[str]] = {}
    for name, table in tables.items():
        published[name] = []
        for n, (year, part) in enumerate(_partitions(table)):
            part = part.drop_columns(["year"])
            rel = Path(name) / _partition_name(year) / f"{run_id}-{n:04d}.parquet"
            write_parquet(part, stage / rel)
            staged.append((stage / rel, paths.root / rel))
    for src, dst in staged:
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dst)
        published[dst.relative_to(paths.root).parts[0]].append(str(dst))
    shutil.rmtree(stage, ignore_errors=True)
    return published
