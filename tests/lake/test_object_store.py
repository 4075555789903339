"""The lake on S3 (moto's S3 server on 127.0.0.1, started here): the same commits, dedup, time travel and
vacuum as on a local disk, many writers without any lock, and SIGKILL at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _s3 import s3  # noqa: F401 - the fixture

from etl import lake
from etl.schema import to_table

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# one writer process: publishes run <name>-<i> for i in range(n); run i brings cables <prefix><i> and <prefix><i+1>
# (so every run but the first repeats the previous run's last cable, a duplicate to merge) and 1 quarantined row
WRITER = """
import sys
from datetime import UTC, datetime
from etl import lake
from etl.schema import to_table
root, name, prefix, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
print("ready", flush=True)
for i in range(n):
    run = f"{name}-{i:03d}"
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"reference_id": f"{prefix}{k:04d}", "header": "H", "body": "x" * (1 + i), "source_uri": f"/{run}",
             "source_sha256": run, "source_location": f"byte {k}", "run_id": run, "ingested_at": at,
             "year": 2000 + k % 3} for k in (i, i + 1)]
    bad = [{"reasons": ["no_reference_id"], "details": ["-"], "stage": "parse", "source_uri": f"/{run}",
            "source_sha256": run, "source_location": "byte 9", "run_id": run, "ingested_at": at, "year": None}]
    res = lake.publish(root, run, to_table(rows, "cables"), to_table(bad, "quarantine"), ingested_at=at,
                       dumps={run: {"uri": f"/{run}"}}, runs_row={"run_id": run, "started_at": at})
    print(run, res.version, res.attempts, flush=True)
"""


def _cable(rid: str, run: str, body: str = "body") -> dict[str, Any]:
    return {"reference_id": rid, "header": "HDR", "body": body, "source_uri": f"/{run}", "source_sha256": run,
            "source_location": "byte 0", "run_id": run, "ingested_at": T0, "year": 2007}


def _publish(root: str, run: str, rows: list[dict[str, Any]], at: datetime = T0) -> lake.PublishResult:
    return lake.publish(root, run, to_table(rows, "cables"), to_table([], "quarantine"), ingested_at=at,
                        dumps={run: {"uri": f"/{run}"}}, runs_row={"run_id": run, "started_at": at})


def _ids(root: str, commit: lake.Commit | None = None) -> list[str]:
    return sorted(lake.read_table(root, "cables", commit).column("reference_id").to_pylist())


def check(root: str) -> tuple[list[str], int]:
    """The lake's invariants at its current version: no cable twice, cables + quarantine = records found
    by every run, the last run row states the lake it left. Returns (cable ids, runs)."""
    current = lake.read_current(root)
    ids = _ids(root, current)
    assert len(ids) == len(set(ids)), "a cable is doubled"
    runs = lake.read_table(root, "runs", current).to_pylist()
    quarantined = lake.read_table(root, "quarantine", current).num_rows
    assert len(ids) + quarantined == sum(r["records_found"] for r in runs)
    if runs:
        last = max(runs, key=lambda r: r["lake_version"])
        assert (last["lake_cables"], last["lake_quarantine"]) == (len(ids), quarantined)
        assert set(current.dumps) == {r["run_id"] for r in runs}
    return ids, len(runs)


def test_publish_merge_time_travel_and_vacuum_on_s3(s3: str) -> None:
    _publish(s3, "r1", [_cable("A", "r1"), _cable("B", "r1")])
    res = _publish(s3, "r2", [_cable("A", "r2", body="a longer body")], at=T0 + timedelta(days=1))
    assert (res.displaced, lake.read_current(s3).version) == (1, 2)
    assert _ids(s3) == ["A", "B"] and check(s3)[1] == 2
    assert lake.read_table(s3, "quarantine").column("source_uri").to_pylist() == ["/r1"]
    v1 = lake.read_version(s3, 1)
    assert v1 is not None and _ids(s3, v1) == ["A", "B"]
    assert lake.read_table(s3, "cables", v1).column("source_uri").to_pylist() == ["/r1", "/r1"]
    # a writer beaten to the commit is refused; a dead writer's table commit is invisible, then undone
    base = lake.read_current(s3)
    first, second = (lake.Transaction(s3, w, "publish", base=base) for w in ("w1", "w2"))
    first.add("cables", to_table([_cable("C", "w1")], "cables"))
    second.add("cables", to_table([_cable("D", "w2")], "cables"))
    first.commit({})
    with pytest.raises(lake.ConflictError):
        second.commit({})
    # below the lake commit, each Delta commit is a put-if-absent on S3: a stale table version is refused
    from etl.lake import _delta
    from etl.schema import schema

    with pytest.raises(lake.ConflictError):
        _delta.commit_files(second.loc, "cables", base.table_versions["cables"], schema("cables"),
                            adds=second.added["cables"], removes=[], lake_version=base.version + 1, info={})
    assert _ids(s3) == ["A", "B", "C"]
    assert lake.compact(s3, "k", force=True)["merged"]
    assert lake.vacuum(s3, keep_days=0)["files"]
    assert _ids(s3) == ["A", "B", "C"]


def _writer(root: str, name: str, prefix: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, root, name, prefix, str(n)], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            env=dict(os.environ, PYTHONPATH=str(REPO)))


def test_two_writers_at_once_without_a_lock(s3: str) -> None:
    """Two processes publish into the same S3 lake at the same time (no flock there): conflicts are
    retried, every run lands once, and their shared cables are merged, not doubled."""
    procs = [_writer(s3, "a", "K", 6), _writer(s3, "b", "K", 6)]  # the same cables from both
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    attempts = [int(line.split()[2]) for out, _ in outs for line in out.splitlines()[1:]]
    ids, runs = check(s3)
    assert runs == 12 and ids == [f"K{k:04d}" for k in range(7)]
    assert lake.read_table(s3, "quarantine").num_rows == 12 + 24 - 7  # 12 bad records + 17 other copies
    print(f"\nattempts per publish: {attempts}")


@pytest.mark.slow
def test_sigkill_at_random_moments_on_s3(s3: str) -> None:
    seed = int(os.environ.get("CABLELAKE_KILL_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"\nkill seed {seed}")
    first = _writer(s3, "first", "S", 3)
    assert first.stdout is not None and first.stdout.readline().strip() == "ready"
    t0 = time.perf_counter()
    assert first.wait(timeout=300) == 0
    duration = time.perf_counter() - t0  # three publishes, after the imports
    states = []
    for i in range(int(os.environ.get("CABLELAKE_KILLS", "20"))):
        proc = _writer(s3, f"k{i:02d}", "S", 3)  # the same cables again: every publish merges
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        try:
            proc.wait(timeout=rng.uniform(0.01, duration * 1.1))
            states.append("finished")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            states.append("killed")
        out, _ = proc.communicate()
        states[-1] += f" after {len(out.splitlines())} publishes"  # (the "ready" line was read above)
        check(s3)
    print(", ".join(states))
    print(f"publishing took {duration:.1f}s")
    final = _writer(s3, "final", "F", 2)
    out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err
    ids, runs = check(s3)
    assert ids == ["F0000", "F0001", "F0002", "S0000", "S0001", "S0002", "S0003"]
    assert any(s.startswith("killed") for s in states) and runs >= 5
