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
