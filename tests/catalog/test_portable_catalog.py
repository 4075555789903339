"""The catalog works when the lake is copied elsewhere: through ``cablelake``, a plain DuckDB client and
SQLAlchemy (duckdb-engine, what Superset uses), each in its own process, while a publish runs in the
original lake.

The publisher stops inside its publish (the new commit record is in place, the catalog not yet rebuilt)
until the three clients have read the copy, so the overlap does not depend on timing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample" / "dumps"

# Publishes `dumps` into `lake`, but waits inside the catalog refresh (after the commit) for a go file.
_PUBLISHER = """
import sys, time
from pathlib import Path
import etl.catalog
from etl.pipeline import run
reached, go = Path(sys.argv[3]), Path(sys.argv[4])
real = etl.catalog.refresh
def held(*args, **kwargs):
    reached.touch()
    t0 = time.monotonic()
    while not go.exists() and time.monotonic() - t0 < 300:
        time.sleep(0.05)
    return real(*args, **kwargs)
etl.catalog.refresh = held
if __name__ == "__main__":
    run([sys.argv[1]], sys.argv[2])
"""

_DUCKDB = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True, config=dict(a.split("=", 1) for a in sys.argv[3:]))
print(con.execute(sys.argv[2]).fetchone()[0])
"""

_SQLALCHEMY = """
import sys
from sqlalchemy import create_engine, text
engine = create_engine(sys.argv[1])
with engine.connect() as con:
    print(con.execute(text(sys.argv[2])).scalar())
engine.dispose()
"""

COUNT = "SELECT count(*) FROM cables"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABLELAKE_LAKE")}
    env["PYTHONPATH"] = str(REPO)
    return env


def _py(code: str, *args: str, cwd: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{args}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return (proc.stdout.strip().splitlines() or [""])[-1]


def _cablelake_count(lake: Path, cwd: Path) -> int:
    code = "import sys; from etl.cli import main; raise SystemExit(main(sys.argv[1:]))"
    return int(_py(code, "sql", COUNT, "--lake", str(lake), "--format", "csv", cwd=cwd))


def _dump(dest: Path, n: int) -> None:
    text = (SAMPLE / "07MOSCOW5349.txt").read_text(encoding="utf-8").replace("5349", f"{8000 + n}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("orig") / "lake"
    code = "import sys\nfrom etl.pipeline import run\nif __name__ == '__main__': run([sys.argv[1]], sys.argv[2])"
    _py(code, str(SAMPLE), str(lake), cwd=lake.parent)
    return lake


def test_a_copied_lake_is_read_by_every_client_while_the_original_publishes(
    original: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "mnt" / "elsewhere" / "lake"
    shutil.copytree(original, copy, ignore=shutil.ignore_patterns("_lock"))
    # no absolute path in the catalog: nothing names the original folder
    assert str(original.parent) not in (copy / "cables.duckdb").read_bytes().decode("latin-1")
    nowhere = tmp_path / "cwd"  # a working directory with no lake in it
    nowhere.mkdir()
    expected = _cablelake_count(original, nowhere)
    assert expected >= 3

    new = tmp_path / "new"
    for n in range(3):
        _dump(new / f"07MOSCOW{8000 + n}.txt", n)
    reached, go = tmp_path / "reached", tmp_path / "go"
    publisher = subprocess.Popen(
        [sys.executable, "-c", _PUBLISHER, str(new), str(original), str(reached), str(go)],
        cwd=nowhere, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        t0 = time.monotonic()
        while not reached.exists():
            assert publisher.poll() is None, publisher.communicate()[1][-3000:]
            assert time.monotonic() - t0 < 240, "the publisher never reached its catalog refresh"
            time.sleep(0.1)
        # the original is mid-publish: its commit record already lists files its catalog does not
        catalog = copy / "cables.duckdb"
        counts = {
            "cablelake, any cwd": _cablelake_count(copy, nowhere),
            "duckdb, cwd = lake": int(_py(_DUCKDB, "cables.duckdb", COUNT, cwd=copy)),
            "duckdb, file_search_path": int(
                _py(_DUCKDB, str(catalog), COUNT, f"file_search_path={copy}", cwd=nowhere)
            ),
            "sqlalchemy duckdb-engine": int(
                _py(
                    _SQLALCHEMY,
                    f"duckdb:///{catalog}?access_mode=read_only&file_search_path={copy}",
                    COUNT,
                    cwd=nowhere,
                )
            ),
            "sqlalchemy, cwd = lake": int(
                _py(_SQLALCHEMY, "duckdb:///cables.duckdb?access_mode=read_only", COUNT, cwd=copy)
            ),
        }
        assert publisher.poll() is None  # still inside its publish while every client read the copy
        assert counts == dict.fromkeys(counts, expected)
        # a derived view (over cables) and the catalog's own description read from the copy too
        tags = _py(_DUCKDB, "cables.duckdb", "SELECT count(*) FROM cable_tags", cwd=copy)
        assert int(tags) > 0
        root = _py(_DUCKDB, str(catalog), "SELECT lake_root FROM catalog_info", f"file_search_path={copy}", cwd=nowhere)
        assert root == str(copy)
    finally:
        go.touch()
        out, err = publisher.communicate(timeout=300)
    assert publisher.returncode == 0, err[-3000:]
    assert _cablelake_count(original, nowhere) == expected + 3
    assert _cablelake_count(copy, nowhere) == expected  # the copy is its own lake


def test_without_the_search_path_a_client_elsewhere_gets_a_clear_error(original: Path, tmp_path: Path) -> None:
    """The failure mode the README documents: relative paths, read from the working directory."""
    proc = subprocess.run(
        [sys.executable, "-c", _DUCKDB, str(original / "cables.duckdb"), COUNT],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert "No files found" in proc.stderr and "cables/year=" in proc.stderr
