"""Parquet min/max statistics: kept on the columns readers filter on, left out on long free text."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from etl.lake._store import ParquetSink
from etl.schema import declaration, schema, staging_schema, statistics_columns, to_table


@pytest.mark.parametrize("table", ["cables", "quarantine"])
def test_leaf_paths_are_parquets_own(table: str, tmp_path: Path) -> None:
    sch = schema(table)
    pq.write_table(sch.empty_table(), tmp_path / "x.parquet")
    leaves = {pq.ParquetFile(tmp_path / "x.parquet").schema.column(i).path
              for i in range(len(pq.ParquetFile(tmp_path / "x.parquet").schema))}
    kept = statistics_columns(sch)
    assert isinstance(kept, list)
    assert set(kept) <= leaves  # a name Parquet does not know would silently keep nothing
    off = {c["name"] for c in declaration(table)["columns"] if c.get("statistics") is False}
    assert off, "the declaration flags its long text columns"
    assert {p.split(".")[0] for p in leaves - set(kept)} == off


def test_written_file_has_statistics_only_where_declared(tmp_path: Path) -> None:
    row = {"reference_id": "07MOSCOW5349", "body": "x" * 5000, "summary": "s" * 300, "year": 2007,
           "tags": ["PGOV"], "paragraphs": [{"number": 1, "portion_mark": "C", "text": "t" * 900}]}
    with ParquetSink(tmp_path, "c.parquet", staging_schema("cables")) as sink:
        sink.write(to_table([row], "cables", staging=True))
    md = pq.ParquetFile(tmp_path / "c.parquet").metadata
    rg = md.row_group(0)
    stats = {rg.column(i).path_in_schema: rg.column(i).is_stats_set for i in range(md.num_columns)}
    assert stats["reference_id"] and stats["year"] and stats["tags.list.element"]
    assert not stats["body"] and not stats["summary"] and not stats["paragraphs.list.element.text"]


def test_a_schema_without_flags_keeps_every_statistic() -> None:
    assert statistics_columns(schema("runs")) is True
