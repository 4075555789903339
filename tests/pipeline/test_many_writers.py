"""Issue 16: two ``cablelake run`` processes on different dumps at the same time (two Celery workers), on a
local disk and on S3; both commit, every dump's cables land exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _cables import REPO, Maker, many
from _s3 import s3  # noqa: F401 - the fixture

from etl import lake as lakelib
from etl import pipeline
from etl.catalog import connect
from etl.cli import main


def _start(lake: str, source: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "run", str(source), "--lake", lake, "--json"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def _two_runs(lake: str, tmp_path: Path, make_dump: Maker) -> tuple[set[str], list[dict[str, object]]]:
    ids = set(make_dump("a", many(12))) | set(make_dump("b", many(12, start=500)))
    make_dump("b", many(3), paragraphs=5)  # better copies of three cables of dump a, in dump b
    procs = [_start(lake, tmp_path / d) for d in ("a", "b")]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return ids, results


def _check(lake: str, ids: set[str]) -> None:
    cables = lakelib.read_table(lake, "cables")
    got = cables.column("reference_id").to_pylist()
    assert sorted(got) == sorted(ids)  # every cable exactly once
    longer = [r for r in cables.to_pylist() if r["reference_id"] in {"05MOSCOW1", "06PARIS2", "07VALLETTA3"}]
    assert all("/b/" in r["source_uri"] for r in longer)  # the better copies won, whichever run came first
    runs = lakelib.read_table(lake, "runs").to_pylist()
    quarantined = lakelib.read_table(lake, "quarantine").num_rows
    assert sorted(r["operation"] for r in runs) == ["publish", "publish"]
    assert len(got) + quarantined == sum(r["records_found"] for r in runs) == 27


def test_two_runs_on_different_dumps_local(tmp_path: Path, make_dump: Maker) -> None:
    lake = str(tmp_path / "lake")
    ids, _ = _two_runs(lake, tmp_path, make_dump)
    _check(lake, ids)


def test_two_runs_on_different_dumps_s3(s3: str, tmp_path: Path, make_dump: Maker,  # noqa: F811
                                        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CABLELAKE_WORK_DIR", str(tmp_path / "work"))
    ids, results = _two_runs(s3, tmp_path, make_dump)
    _check(s3, ids)
    assert sorted(r["lake_version"] for r in results) == [1, 2]
    # the catalog reads the lake on S3 with no DuckDB extension; and its first version still reads
    assert main(["sql", "--lake", s3, "--format", "csv", "select count(*) as n from cables"]) == 0
    assert capsys.readouterr().out.split() == ["n", str(len(ids))]
    assert main(["sql", "--lake", s3, "--as-of", "1", "--format", "csv", "select count(*) as n from runs"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1"]


def test_two_parse_processes_give_the_rows_of_one(tmp_path: Path, make_dump: Maker,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Each parse worker reads the dumps itself and parses, validates and writes only its share (every other
    batch of 500 records); the parent gets counts back, no rows. Two processes give exactly the lake of one,
    repeated cables (across the workers' files) deduplicated the same way."""
    from etl.pipeline import _parse

    monkeypatch.setattr(_parse, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setenv("CABLELAKE_SHARD_FILES", "2000")  # one shard: both workers have batches
    make_dump("d", many(1100))
    make_dump("e", many(3), paragraphs=3)  # the same three cables, longer, in other dumps
    sql = ("select reference_id, source_uri, dq_warnings, list_transform(also_seen_in, lambda s: s.source_uri) "
           "from cables order by reference_id; "
           "select reasons, source_uri from quarantine order by source_uri")
    out = {}
    for workers in (1, 2):
        monkeypatch.setenv("CABLELAKE_WORKERS", str(workers))
        lake = tmp_path / f"lake{workers}"
        s = pipeline.run([str(tmp_path / "d"), str(tmp_path / "e")], lake)
        assert (s.records_found, s.cables, s.duplicates) == (1103, 1100, 3)
        parts = {p.name[-2:] for p in (lake / "_quality" / s.run_id).iterdir() if p.is_dir()}
        assert parts == {f"-{k}" for k in range(workers)}  # the results of each worker's validation
        con = connect(lake)
        try:
            out[workers] = [con.execute(q).fetchall() for q in sql.split("; ")]
        finally:
            con.close()
    assert out[1] == out[2] and len(out[2][0]) == 1100
