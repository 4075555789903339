"""The lake as a standard: former-format lakes migrate losslessly, other Delta readers read the same rows,
old versions stay readable (time travel) until vacuumed."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from etl import lake
from etl.catalog import connect
from etl.cli import main
from etl.schema import schema, to_table

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _cable(rid: str, year: int | None, body: str = "body", run: str = "r1") -> dict[str, Any]:
    return {"reference_id": rid, "reference_id_source": "metadata", "header": "HDR", "body": body,
            "source_uri": f"/d/{rid}.txt", "source_sha256": f"sha-{run}", "source_location": "byte 0",
            "source_format": "text", "run_id": run, "ingested_at": T0, "year": year, "dq_warnings": [],
            "also_seen_in": []}


def _quarantined(n: int, year: int | None) -> dict[str, Any]:
    return {"reference_id": None, "reasons": ["no_reference_id"], "details": ["no id"], "stage": "parse",
            "source_uri": f"/d/bad{n}.txt", "source_sha256": "sha-r1", "source_location": f"byte {n}",
            "run_id": "r1", "ingested_at": T0, "year": year, "raw_body": f"bad {n}"}


def _write(root: Path, rel: str, table: pa.Table) -> dict[str, Any]:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return {"path": rel, "rows": table.num_rows, "bytes": path.stat().st_size}


def former_lake(root: Path) -> dict[str, list[dict[str, Any]]]:
    """A lake as the former cablelake wrote it: Hive-partitioned files without the partition column, a
    ``_current.json`` listing the live ones, ``_commits/``, and files it does not list. Returns its rows."""
    cables = to_table([_cable("07A", 2007), _cable("07B", 2007), _cable("08C", 2008), _cable("XD", None)], "cables")
    quarantine = to_table([_quarantined(1, 2007), _quarantined(2, None)], "quarantine")
    runs = to_table([{"run_id": "r1", "started_at": T0, "status": "published", "operation": "publish",
                      "records_found": 6, "cables": 4, "quarantined": 2, "lake_version": 3,
                      "inputs": [{"uri": "/d", "sha256": "sha-r1", "size": 10, "records": 6}]}], "runs")
    tables: dict[str, list[dict[str, Any]]] = {"cables": [], "quarantine": [], "runs": []}
    for name, t in (("cables", cables), ("quarantine", quarantine)):
        for year in (2007, 2008, None):
            part = t.filter(pa.compute.is_null(t["year"]) if year is None else pa.compute.equal(t["year"], year))
            if part.num_rows:
                folder = f"{name}/year={'__HIVE_DEFAULT_PARTITION__' if year is None else year}"
                tables[name].append(_write(root, f"{folder}/r1-{name[0]}0000.parquet", part.drop_columns(["year"])))
    tables["runs"].append(_write(root, "runs/r1-0000.parquet", runs))
    _write(root, "cables/year=2007/superseded-0000.parquet", cables.slice(0, 1).drop_columns(["year"]))
    record = {"format": "cablelake-commit/1", "version": 3, "run_id": "r1", "operation": "publish",
              "committed_at": T0.isoformat(), "schema_versions": {t: lake.code_schema_versions()[t] for t in tables},
              "tables": tables, "dumps": {"sha-r1": {"uri": "/d", "size": 10, "records": 6, "run_id": "r1"}}}
    (root / "_commits").mkdir()
    (root / "_commits" / "v00000003.json").write_text(json.dumps(record))
    (root / "_current.json").write_text(json.dumps(record))
    return {"cables": cables.to_pylist(), "quarantine": quarantine.to_pylist(), "runs": runs.to_pylist()}


def _sorted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: json.dumps(r, default=str, sort_keys=True))


def test_migrate_keeps_every_row_and_the_manifest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "lake"
    before = former_lake(root)
    shutil.copytree(root / "cables", tmp_path / "half" / "cables")
    (root / "cables" / "_delta_log").mkdir()  # a migration that died half-way left a log behind
    (root / "cables" / "_delta_log" / "00000000000000000000.json").write_text("{}")
    assert lake.needs_migration(root) and not lake.is_lake(root)
    assert main(["migrate", "--lake", str(root)]) == 0
    assert "migrated to Delta tables at lake version 3" in capsys.readouterr().out
    current = lake.read_current(root)
    assert current.version == 3 and current.dumps == {"sha-r1": {"uri": "/d", "size": 10, "records": 6, "run_id": "r1"}}
    for table, rows in before.items():
        assert _sorted(lake.read_table(root, table).to_pylist()) == _sorted(rows), table
    con = connect(root)
    try:
        assert con.execute("select count(*) from cables").fetchone() == (4,)  # not the superseded file
        assert con.execute("select count(*) from quarantine where year is null").fetchone() == (1,)
    finally:
        con.close()
    assert (root / "_migrated" / "_current.json").exists() and not (root / "_current.json").exists()
    assert main(["migrate", "--lake", str(root)]) == 0 and "nothing to migrate" in capsys.readouterr().out
    # the migrated lake is a lake like any other: the next publish merges into it
    res = lake.publish(root, "r2", to_table([_cable("07A", 2007, body="a longer body", run="r2")], "cables"),
                       to_table([], "quarantine"), ingested_at=T0 + timedelta(days=1), dumps={"sha-r2": {"uri": "/e"}},
                       runs_row={"run_id": "r2", "started_at": T0})
    assert res.displaced == 1 and lake.read_current(root).version == 4


def test_an_independent_delta_reader_reads_the_same_rows(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    former_lake(root)
    lake.migrate(root)
    lake.publish(root, "r2", to_table([_cable("09E", 2009, run="r2")], "cables"),
                 to_table([_quarantined(3, 2009)], "quarantine"), ingested_at=T0, dumps={"sha-r2": {"uri": "/e"}},
                 runs_row={"run_id": "r2", "started_at": T0})
    con = connect(root)
    try:
        for table in ("cables", "quarantine", "runs"):
            names = schema(table).names
            cols = ", ".join(f'"{n}"' for n in names)
            ours = con.sql(f"select {cols} from {table}").to_arrow_table()
            theirs = pl.read_delta(str(root / table)).to_arrow().select(names)
            assert theirs.num_rows == ours.num_rows > 0
            key = ["reference_id", "source_uri"] if table != "runs" else ["run_id"]
            assert (pl.from_arrow(theirs).sort(key).to_dicts() == pl.from_arrow(ours.cast(theirs.schema)).sort(key).to_dicts()), table
            assert DeltaTable(str(root / table)).protocol().min_writer_version == 2
    finally:
        con.close()


def test_time_travel_and_vacuum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "lake"
    for i, run in enumerate(("r1", "r2", "r3")):
        rows = [_cable(f"0{7 + i}X{i}", 2007 + i, run=run)] + ([_cable("07X0", 2007, body="longer body " * 3, run=run)] if i == 2 else [])
        lake.publish(root, run, to_table(rows, "cables"), to_table([], "quarantine"), ingested_at=T0 + timedelta(days=i),
                     dumps={f"sha-{run}": {"uri": run}}, runs_row={"run_id": run, "started_at": T0})
    v = {c.version: c for c in lake.history(root)}
    assert sorted(v) == [1, 2, 3]
    assert main(["sql", "--lake", str(root), "--as-of", "1", "--format", "csv", "select count(*) as n from cables"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1"]
    at = v[2].committed_at
    assert at is not None
    assert main(["sql", "--lake", str(root), "--as-of", at.isoformat(), "--format", "csv",
                 "select count(*) as n, max(lake_version) as v from runs"]) == 0
    assert capsys.readouterr().out.split() == ["n,v", "2,2"]
    assert main(["sql", "--lake", str(root), "--as-of", "9", "select 1"]) != 0
    assert "no version 9" in capsys.readouterr().err
    # version 3 rewrote the file holding 07X0: vacuum keeping nothing old removes version 1's copy
    (root / "_quality" / "old-run").mkdir(parents=True)
    assert main(["vacuum", "--lake", str(root), "--keep-days", "0", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove" in out and "_quality/old-run" in out and (root / "_quality" / "old-run").exists()
    assert main(["vacuum", "--lake", str(root), "--keep-days", "0"]) == 0
    assert not (root / "_quality" / "old-run").exists()
    assert sorted(lake.read_table(root, "cables").column("reference_id").to_pylist()) == ["07X0", "08X1", "09X2"]
    with pytest.raises(Exception):  # noqa: B017 - the files of version 1 are gone
        lake.read_table(root, "cables", lake.read_version(root, 1))
