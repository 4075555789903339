"""A run with nothing new: decided before the heavy stages are loaded, recorded (a ``noop`` runs row), the
catalog brought to the new version by replacing the ``runs`` view only, and no guarantee given up (a dump
changed behind the hash index is still read; a lake needing repair is repaired first)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _cables import Maker, many

from etl import catalog, pipeline
from etl import lake as lakelib
from etl.lake import LakePaths

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("great_expectations", "etl.validate", "etl.pipeline._parse", "etl.pipeline._validate",
         "etl.pipeline._replay",
         # pyarrow loads pandas (~0.3 s) on its first conversion of Python values, DuckDB on its first scan of
         # a Python object: the lake's bookkeeping rows and the catalog's view types take other ways
         "pandas",
         # the parser's rules (compiled when loaded): a no-op records only the parser's version
         "etl.parse._core")

def _fresh_run(lake: Path, *sources: str) -> tuple[dict[str, object], set[str]]:
    """``cablelake run`` in a new interpreter: its summary and the modules it had loaded at the end."""
    code = (
        "import json, sys\n"
        "from etl.cli import main\n"
        "rc = main(['run', *sys.argv[2:], '--lake', sys.argv[1], '--json'])\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(lake), *sources], capture_output=True, text=True,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True, timeout=300)
    return json.loads(out.stdout), set(json.loads(out.stderr.strip().splitlines()[-1]))


def _runs(lake: Path) -> list[tuple[object, ...]]:
    con = catalog.connect(lake)
    try:
        return con.execute("select operation, records_found, lake_version from runs order by lake_version").fetchall()
    finally:
        con.close()


def test_noop_loads_no_stage_it_does_not_use(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("in", many(5))
    lake = tmp_path / "lake"
    first = pipeline.run([str(tmp_path / "in")], lake)
    assert first.operation == "publish"
    summary, loaded = _fresh_run(lake, str(tmp_path / "in"))
    assert summary["operation"] == "noop" and summary["lake_cables"] == 5
    assert not loaded & set(HEAVY), f"a no-op run loaded {sorted(loaded & set(HEAVY))}"
    # the catalog file is current (not rebuilt in memory by readers) and shows the noop row
    assert not catalog._stale(LakePaths(lake))
    assert _runs(lake) == [("publish", 5, 1), ("noop", 0, 2)]
    assert json.loads((lake / "_catalog.json").read_text())["version"] == 2


def test_noop_catalog_is_the_full_catalog(tmp_path: Path, make_dump: Maker) -> None:
    """Replacing only the runs view gives the same views, comments and rows as a full rebuild."""
    make_dump("in", many(4))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "in")], lake)
    assert pipeline.run([str(tmp_path / "in")], lake).operation == "noop"
    incremental = _describe(lake)
    catalog.refresh(lake)
    assert _describe(lake) == incremental


def _describe(lake: Path) -> list[object]:
    con = catalog.connect(lake)
    try:
        views = catalog.describe_views(con)
        counts = [con.execute(f'select count(*) from "{name}"').fetchone() for name, _, _ in views]
        info = con.execute("select files_digest from catalog_info").fetchone()
        return [views, counts, info]
    finally:
        con.close()


def test_a_dump_changed_behind_the_index_is_read(tmp_path: Path, make_dump: Maker,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Same size, mtime put back: the quick check still sees the change (ctime), and --rehash reads all."""
    monkeypatch.setenv("CABLELAKE_CACHE", str(tmp_path / "cache"))
    make_dump("in", many(3))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "in")], lake)
    dump = sorted((tmp_path / "in").iterdir())[0]
    st = dump.stat()
    text = dump.read_text()
    i = max(i for i, ch in enumerate(text) if ch.isascii() and ch.isalpha())
    dump.write_text(text[:i] + text[i].swapcase() + text[i + 1:])  # one letter of the last paragraph
    assert dump.stat().st_size == st.st_size and dump.read_text() != text
    os.utime(dump, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = pipeline.run([str(tmp_path / "in")], lake)
    assert again.operation == "publish" and again.records_found == 1
    assert pipeline.run([str(tmp_path / "in")], lake, rehash=True).operation == "noop"


def test_a_lake_needing_repair_is_repaired_before_a_noop(tmp_path: Path, make_dump: Maker) -> None:
    """A catalog behind the lake (a run killed after its commit): the no-op run rebuilds it whole."""
    make_dump("in", many(3))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "in")], lake)
    make_dump("more", many(2, start=100))
    pipeline.run([str(tmp_path / "more")], lake)
    (lake / "_catalog.json").write_text(json.dumps({"version": 1}))  # as if the catalog were left at v1
    (lake / "cables.duckdb").unlink()
    noop = pipeline.run([str(tmp_path / "in"), str(tmp_path / "more")], lake)
    assert noop.operation == "noop" and noop.lake_cables == 5
    assert not catalog._stale(LakePaths(lake))
    assert lakelib.read_current(lake).version == 3
    con = catalog.connect(lake)
    try:
        assert con.execute("select count(*) from cables").fetchone() == (5,)
    finally:
        con.close()


def test_a_noop_moves_the_search_index_on_without_a_commit(tmp_path: Path, make_dump: Maker) -> None:
    """The no-op changed no ``cables`` file: the index is current at the new lake version by its version note
    (its own files untouched), searches answer without repairing it, and the next publish commits as usual."""
    from etl.search import check, index_dir, index_ids, search, sync

    make_dump("in", many(3))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "in")], lake)
    before = check(lake)
    index_files = {p.name: p.stat().st_mtime_ns for p in index_dir(lake).iterdir() if p.is_file()}
    assert pipeline.run([str(tmp_path / "in")], lake).operation == "noop"
    after = check(lake)
    assert after["current"] and after["lake"] != before["lake"] and after["docs"] == 3
    assert {p.name: p.stat().st_mtime_ns for p in index_dir(lake).iterdir()
            if p.is_file() and p.name in index_files} == index_files  # no tantivy commit
    assert sync(lake).operation == "current"
    assert pipeline.run([str(tmp_path / "in")], lake).operation == "noop"  # a note on a note
    assert check(lake)["current"] and search(lake, "invented").total == 3
    make_dump("more", many(1, start=50))
    assert pipeline.run([str(tmp_path / "more")], lake).operation == "publish"
    assert check(lake)["current"] and len(index_ids(lake)) == 4 and search(lake, "invented").total == 4
    assert pipeline.run([str(tmp_path / "in")], lake).operation == "noop"
    (index_dir(lake) / "lake_version.json").write_text("{torn")  # a note torn in a crash: behind, caught up
    assert not check(lake)["current"]
    assert sync(lake).operation == "current" and check(lake)["current"] and search(lake, "invented").total == 4
