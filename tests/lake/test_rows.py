"""The lake's bookkeeping rows without pandas (``etl/lake/_rows.py``) give what pyarrow's own converters give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_lake import cable, publish

from etl import lake
from etl.lake import _commit
from etl.lake._commit import DUMPS_SCHEMA, SNAPSHOT_SCHEMA
from etl.lake._rows import read_file, rows_table, to_rows
from etl.schema import schema

WHEN = datetime(2026, 12, 6, 18, 9, 47, 123456, tzinfo=UTC)


def _runs_rows() -> list[dict[str, Any]]:
    full = {
        "run_id": "20261206T170203Z-4484ad", "started_at": WHEN, "finished_at": WHEN + timedelta(seconds=1.5),
        "status": "published", "schema_version": "1.4.0", "parser_version": "0.2.0",
        "inputs": [{"uri": "file:///d/été \"quoted\"\n.txt", "sha256": "ab" * 32, "size": 2**40, "records": 3},
                   {"uri": "s3://b/k", "sha256": None, "size": None, "records": 0}],
        "inputs_skipped": [{"uri": "x 😀", "sha256": "cd" * 32, "reason": "already_ingested"}],
        "records_found": 3, "cables": 2, "quarantined": 1, "per_format": '{"text": 3}', "timings": "{}",
        "operation": "publish", "lake_version": 7, "lake_cables": 10**12, "not_a_column": object(),
    }
    sparse = {"run_id": "r2", "started_at": datetime(2026, 1, 1, 5, 0), "finished_at": None, "inputs": []}
    zoned = {"run_id": "r3", "started_at": datetime(2026, 1, 1, 7, 0, tzinfo=timezone(timedelta(hours=2)))}
    return [full, sparse, zoned]


def test_rows_table_is_from_pylist() -> None:
    rows = _runs_rows()
    expected = pa.Table.from_pylist(rows, schema=schema("runs"))
    got = rows_table(rows, schema("runs"))
    assert got.schema.equals(expected.schema, check_metadata=True)
    assert got.equals(expected)
    assert got.column("started_at").to_pylist()[2] == datetime(2026, 1, 1, 5, 0, tzinfo=UTC)


def test_rows_table_of_no_rows_and_of_a_value_json_cannot_hold() -> None:
    assert rows_table([], SNAPSHOT_SCHEMA).equals(SNAPSHOT_SCHEMA.empty_table())
    with pytest.raises(TypeError, match="bytes"):
        rows_table([{"run_id": b"raw"}], schema("runs"))


def test_to_rows_is_to_pylist_with_aware_datetimes() -> None:
    table = pa.Table.from_pylist(_runs_rows(), schema=schema("runs"))
    got = to_rows(table)
    assert got == table.to_pylist()
    assert got[0]["started_at"] == WHEN and got[0]["started_at"].tzinfo is not None
    berlin = pa.table({"t": pa.array([0, None], pa.timestamp("us", tz="Europe/Berlin"))})
    assert to_rows(berlin) == berlin.to_pylist()


def test_read_file_is_read_table_with_the_schema(tmp_path: Path) -> None:
    """Columns in another order, one missing (a file written before it was declared): as ``pq.read_table``."""
    rows = [{"sha256": "ab", "uri": "u", "size": 5, "records": 2}, {"sha256": "cd", "uri": None, "size": None}]
    old = pa.Table.from_pylist(rows, schema=pa.schema([DUMPS_SCHEMA.field(n) for n in ("uri", "sha256", "size")]))
    pq.write_table(old, tmp_path / "old.parquet")
    got = read_file(str(tmp_path / "old.parquet"), DUMPS_SCHEMA)
    assert got.equals(pq.read_table(tmp_path / "old.parquet", schema=DUMPS_SCHEMA))
    assert got.schema.equals(DUMPS_SCHEMA) and got.column("records").null_count == 2


def _seen(commit: Any) -> tuple[Any, ...]:
    tables = ("cables", "quarantine", "runs", "dumps")
    return (commit.version, commit.run_id, commit.operation, commit.committed_at, commit.schema_versions,
            commit.table_versions, commit.log_version, commit.token(), {t: commit.files(t) for t in tables},
            commit.dumps)


def test_the_snapshot_a_writer_remembers_is_the_one_read_back(tmp_path: Path) -> None:
    """After each commit (publish, no-op, compaction) this process's snapshot equals a fresh read of the lake."""
    root = tmp_path / "lake"
    steps = [
        lambda: publish(root, "r1", [cable("07A1"), cable("07A2", year=2008)]),
        lambda: publish(root, "r2", [cable("07A3", uri="/d/b.txt"), cable("07A1", body="longer body")]),
        lambda: lake.record_noop(root, "r3", {"run_id": "r3", "started_at": WHEN}),
        lambda: lake.compact(root, "r4", force=True),
    ]
    for step in steps:
        step()
        remembered = _seen(lake.read_current(root))
        _commit._HEADS.clear()
        assert _seen(lake.read_current(root)) == remembered
