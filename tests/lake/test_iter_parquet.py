"""iter_parquet: bounded tables, every row once and in order, whatever the file's row groups."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from etl.lake import iter_parquet


def _write(path: Path, sizes: list[int]) -> None:
    start = 0
    with pq.ParquetWriter(path, pa.schema([("n", pa.int64()), ("s", pa.string())])) as w:
        for size in sizes:
            w.write_table(pa.table({"n": list(range(start, start + size)), "s": ["x"] * size}))
            start += size


def test_small_and_huge_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "f.parquet"
    _write(path, [7, 3, 250, 1])  # 250 > 8 * batch: streamed within its row group
    pf = pq.ParquetFile(path)
    assert pf.num_row_groups == 4
    tables = list(iter_parquet(pf, batch_rows=5))
    assert all(0 < t.num_rows <= 5 for t in tables)
    assert [n for t in tables for n in t.column("n").to_pylist()] == list(range(261))
    assert [t.column_names for t in iter_parquet(pf, batch_rows=100, columns=["s"])][0] == ["s"]
