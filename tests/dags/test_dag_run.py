"""The nightly DAG run in-process with ``dag.test()`` (as ``make run`` does), into a lake under tmp."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from airflow_harness import REPO, SAMPLE, airflow_env, lake_count, last_json, run_python

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def run_sample(home: Path, lake: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = airflow_env(home)
    return subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "run_sample.py"),
            "--airflow-home",
            str(home),
            "--lake",
            str(lake),
        ]
        + list(args),
        env=env,
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_run_sample_twice(airflow_home: Path, tmp_path: Path) -> None:
    """`make run`'s script: the DAG runs on the sample, prints the summary and 07MOSCOW5349; twice."""
    lake = tmp_path / "lake"
    for attempt in (1, 2):
        t0 = time.perf_counter()
        proc = run_sample(airflow_home, lake)
        print(f"run_sample attempt {attempt}: {time.perf_counter() - t0:.1f}s")
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
        out = proc.stdout
        assert "DAG run: success" in out
        assert "reference_id : 07MOSCOW5349" in out
        assert "origin : AMEMBASSY MOSCOW" in out
        assert "wall time:" in out
        if attempt == 2:  # nothing new: the lake's manifest has every sample dump
            assert "no new dumps were published" in out
    # the second run found nothing new: the same noop row as `cablelake run` (skipped dumps listed)
    assert lake_count(lake, "SELECT count(*) FROM runs WHERE operation = 'publish'") == 1
    assert lake_count(lake, "SELECT count(*) FROM runs WHERE operation = 'noop' AND status = 'noop'") == 1
    skipped = lake_count(lake, "SELECT len(inputs_skipped) FROM runs WHERE operation = 'noop'")
    assert skipped == len(list(SAMPLE.iterdir())) > 0
    found = lake_count(lake, "SELECT sum(records_found) FROM runs")
    stored = lake_count(lake, "SELECT count(*) FROM cables") + lake_count(
        lake, "SELECT count(*) FROM quarantine"
    )
    assert found == stored
    assert lake_count(lake, "SELECT count(*) FROM cables WHERE reference_id = '07MOSCOW5349'") == 1
    assert not any((lake / "_staging").glob("*/shards")), "staging left behind after publish"


# The reader of one dump of the landing folder raises (as a reader bug or a failing disk would).
FAILING_RUN = """
import json, sys
sys.path.insert(0, {scripts!r})
import run_sample
from pathlib import Path
run_sample.configure_airflow(Path({home!r}))
import etl.pipeline._parse
real = etl.pipeline._parse.iter_records
def iter_records(dump, *args, **kwargs):
    if "BROKEN" in dump.uri:
        raise OSError("simulated unreadable dump")
    return real(dump, *args, **kwargs)
etl.pipeline._parse.iter_records = iter_records
dr, summary = run_sample.run_dag(Path({lake!r}), Path({landing!r}), "all")
from airflow.utils.session import create_session
with create_session() as session:
    states = {{}}
    for ti in dr.get_task_instances(session=session):
        states.setdefault(ti.task_id, []).append(str(ti.state))
print(json.dumps({{"state": str(dr.state), "states": states, "summary": summary}}, default=str))
"""


def test_failing_dump_does_not_lose_the_others(
    airflow_home: Path, tmp_path: Path, dump_factory: Callable[[Path, int], Path]
) -> None:
    landing = tmp_path / "landing"
    good = [dump_factory(landing, n) for n in range(5)]
    broken = dump_factory(landing, 9).rename(landing / "BROKEN.txt")
    lake = tmp_path / "lake"
    code = FAILING_RUN.format(
        scripts=str(REPO / "scripts"), home=str(airflow_home), lake=str(lake), landing=str(landing)
    )
    # 2 dumps per shard: 3 shards, one of them holds the broken dump and a good one
    env = airflow_env(airflow_home, CABLELAKE_TASK_RETRIES="0", CABLELAKE_SHARD_FILES="2")
    out = last_json(run_python(code, env, timeout=600))

    assert out["state"] == "failed", out  # the run is red ...
    states = out["states"]
    assert sorted(states["parse_dump"]) == ["failed", "success", "success"]
    assert states["check_inputs"] == ["failed"]
    for task_id in ("validate_run", "publish_run", "refresh_catalog"):  # ... but the good dumps are in
        assert states[task_id] == ["success"], (task_id, states)
    summary = out["summary"]
    assert [f["uri"] for f in summary["failed_dumps"]] == [str(broken)]
    assert "simulated unreadable dump" in summary["failed_dumps"][0]["error"]
    assert sorted(i["uri"] for i in summary["inputs"]) == sorted(str(p) for p in good)
    assert lake_count(lake, "SELECT count(DISTINCT source_uri) FROM cables") == len(good)
    assert summary["records_found"] == summary["cables"] + summary["quarantined"]
    # the bad dump is an error quarantine row naming it; the good dump of its shard was published
    sql = "SELECT count(*) FROM quarantine WHERE reasons = ['read:dump_failed'] AND source_uri = '{}'"
    assert lake_count(lake, sql.format(broken)) == 1
    records = list((lake / "_failures").glob("*/shard-*.json"))
    assert len(records) == 1
    assert json.loads(records[0].read_text())["failed"][0]["uri"] == str(broken)


def test_day_folder_is_selected_by_the_logical_date(airflow_home: Path, tmp_path: Path) -> None:
    """A run ingests landing/<its logical date>/ when that folder exists."""
    landing = tmp_path / "landing"
    (landing / "2025-06-01").mkdir(parents=True)
    (landing / "2025-06-02").mkdir(parents=True)
    (landing / "2025-06-01" / "a.txt").write_bytes((SAMPLE / "07MOSCOW5349.txt").read_bytes())
    (landing / "2025-06-02" / "b.txt").write_bytes((SAMPLE / "08VALLETTA0412.txt").read_bytes())
    lake = tmp_path / "lake"
    proc = run_sample(airflow_home, lake, "--landing", str(landing), "--logical-date", "2025-06-02")
    assert "DAG run: success" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    uris = lake_count(
        lake, "SELECT count(DISTINCT source_uri) FROM cables WHERE source_uri LIKE '%2025-06-02%'"
    )
    assert uris == 1
    assert lake_count(lake, "SELECT count(*) FROM cables WHERE source_uri LIKE '%2025-06-01%'") == 0
