"""Crash safety: SIGKILL at random moments never leaves a lake that lies; concurrent runs serialize."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from _cables import REPO, SAMPLE, Maker, cable_id, cable_text, many

from etl.lake import committed_files, is_lake, read_current
from etl.search import Searcher, check, index_ids

SAMPLE_IDS = {"07MOSCOW5349", "08VALLETTA412", "09PORTLOUIS77"}
KILLS = int(os.environ.get("CABLELAKE_KILLS", "20"))


def _start(lake: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "run", *args, "--lake", str(lake), "--json"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def _hive(files: list[Path]) -> str:
    listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return f"read_parquet([{listing}], hive_partitioning = true, union_by_name = true)"


def check_lake(lake: Path, allowed: set[str]) -> set[str]:
    """The lake reads, over the committed Parquet and over the catalog, and is consistent."""
    if not is_lake(lake):  # killed before the first commit: nothing is visible yet
        assert not committed_files(lake, "cables")
        return set()
    commit = read_current(lake)
    con = duckdb.connect()
    counts = {}
    for table in ("cables", "quarantine", "runs"):
        files = committed_files(lake, table, commit)
        assert all(f.exists() for f in files), f"{table}: a committed file is missing"
        counts[table] = con.execute(f"select count(*) from {_hive(files)}").fetchone()[0] if files else 0  # type: ignore[index]
        assert counts[table] == commit.rows(table)
    files = committed_files(lake, "cables", commit)
    ids = [r[0] for r in con.execute(f"select reference_id from {_hive(files)}").fetchall()] if files else []
    assert len(ids) == len(set(ids)), "a cable is doubled"
    assert set(ids) <= allowed, set(ids) - allowed
    # every record ever read is in exactly one place: cables + quarantine = records found since the last
    # full refresh; and the last run row states the lake it left
    runs = con.execute(
        f"select operation, records_found, lake_cables, lake_quarantine from {_hive(committed_files(lake, 'runs', commit))} "
        "order by lake_version"
    ).fetchall()
    total = 0
    for op, found, *_ in runs:
        total = found if op == "full_refresh" else total + found
    assert counts["cables"] + counts["quarantine"] == total
    assert runs[-1][2:] == (counts["cables"], counts["quarantine"])
    con.close()
    # the catalog (maybe one version behind, if the kill came between commit and catalog swap) reads too
    if (lake / "cables.duckdb").exists():
        cat = duckdb.connect(str(lake / "cables.duckdb"), read_only=True, config={"file_search_path": str(lake)})
        try:
            cat_ids = [r[0] for r in cat.execute("select reference_id from cables").fetchall()]
            cat.execute("select count(*) from quarantine").fetchone()
            cat.execute("select count(*) from runs").fetchone()
        finally:
            cat.close()
        assert len(cat_ids) == len(set(cat_ids)) and set(cat_ids) <= allowed
    return set(ids)


def check_index(lake: Path, ids: set[str]) -> bool:
    """The search index matches the lake's cables exactly; a search first repairs an index a kill left behind.
    Returns whether the index was behind the lake (the kill fell between the lake's commit and the index's)."""
    if not (lake / "_current.json").exists():
        return False
    behind = not check(lake)["current"]
    res = Searcher(lake, wait=5).search("NOT id:no-such-cable", limit=0, facets=False)
    assert check(lake)["current"]
    assert res.total == len(ids)
    assert index_ids(lake) == ids
    return behind


@pytest.mark.slow
def test_sigkill_at_random_moments(tmp_path: Path, make_dump: Maker) -> None:
    seed = int(os.environ.get("CABLELAKE_KILL_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"\nkill seed {seed}")
    inputs = tmp_path / "in"
    expected = set(make_dump("in", many(40))) | SAMPLE_IDS
    for f in SAMPLE.iterdir():
        shutil.copy(f, inputs / f.name)
    lake = tmp_path / "lake"
    t0 = time.perf_counter()
    first = _start(lake, str(inputs))
    out, err = first.communicate(timeout=300)
    duration = time.perf_counter() - t0
    assert first.returncode == 0, err
    assert check_lake(lake, expected) == expected

    next_serial = 1000
    states = []
    for i in range(KILLS):
        # new work for every run: three new cables, now and then a better copy of a known one
        new = many(3, start=next_serial)
        next_serial += 3
        expected |= set(make_dump("in", new))
        if i % 3 == 0:
            post, serial, year = many(40)[rng.randrange(40)]
            (inputs / f"better-{i}.txt").write_text(cable_text(post, serial, year, paragraphs=3 + i), encoding="utf-8")
            assert cable_id(post, serial, year) in expected
        args = [str(inputs)] + (["--full-refresh"] if i % 4 == 3 else [])
        proc = _start(lake, *args)
        delay = rng.uniform(0.05, duration * 1.1)
        try:
            proc.wait(timeout=delay)
            states.append("finished")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            states.append(f"killed@{delay:.1f}s")
        proc.communicate()
        if check_index(lake, check_lake(lake, expected)):
            states[-1] += " (index behind: repaired by the search)"
    print(", ".join(states))

    final = _start(lake, str(inputs))
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    ids = check_lake(lake, expected)
    assert ids == expected  # every cable exactly once
    assert check(lake)["current"] and index_ids(lake) == ids  # the run left its index at its commit
    assert not any((lake / "_staging").iterdir()) if (lake / "_staging").exists() else True
    # better copies won: each cable's row is its longest copy
    con = duckdb.connect(str(lake / "cables.duckdb"), read_only=True, config={"file_search_path": str(lake)})
    doubled = con.execute(
        "select count(*) from quarantine where reasons = ['duplicate'] and stage = 'lake'"
    ).fetchone()
    seen = con.execute("select sum(len(also_seen_in)) from cables").fetchone()
    con.close()
    assert doubled is not None and seen is not None and doubled[0] == seen[0]
    # and a rerun with nothing new is a no-op
    again = _start(lake, str(inputs))
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert json.loads(out)["operation"] == "noop"


def test_two_concurrent_runs(tmp_path: Path, make_dump: Maker) -> None:
    expected = set(make_dump("in", many(20)))
    lake = tmp_path / "lake"
    procs = [_start(lake, str(tmp_path / "in")) for _ in range(2)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    # one run did the work, the other waited for the lock and found nothing new
    assert sorted(r["operation"] for r in results) == ["noop", "publish"]
    assert check_lake(lake, expected) == expected
