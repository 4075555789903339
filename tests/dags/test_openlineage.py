"""OpenLineage events of the nightly DAG: the OpenLineage provider (its listener, the file transport) sees
each task's inputs and outputs as datasets, from the dumps read to the lake tables written, with row counts
and the quality result as facets. The DAG runs with ``dag.test()`` (``scripts/run_sample.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from airflow_harness import REPO, SAMPLE, airflow_env, lake_count

pytestmark = [pytest.mark.airflow, pytest.mark.slow]


def _complete(events: list[dict[str, Any]], task_id: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("eventType") == "COMPLETE" and e["job"]["name"].endswith(f".{task_id}")]


@pytest.fixture(scope="module")
def lineage(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Path, Path]:
    base = tmp_path_factory.mktemp("openlineage")
    home, lake, landing, events = base / "airflow", base / "lake", base / "landing", base / "events.jsonl"
    landing.mkdir()
    for dump in sorted(SAMPLE.iterdir()):
        (landing / dump.name).write_bytes(dump.read_bytes())
    transport = {"type": "file", "log_file_path": str(events), "append": True}
    env = airflow_env(
        home,
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(transport),
        AIRFLOW__OPENLINEAGE__NAMESPACE="cablelake",
    )
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "run_sample.py"), "--airflow-home", str(home), "--lake", str(lake),
         "--landing", str(landing)],
        env=env, cwd=str(REPO), capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0 and "DAG run: success" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert events.exists(), "no OpenLineage event was written\n" + proc.stderr[-3000:]
    lines = events.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()], lake, landing


def test_parse_dump_reports_the_dumps_it_read_with_record_counts(
    lineage: tuple[list[dict[str, Any]], Path, Path],
) -> None:
    events, lake, landing = lineage
    done = _complete(events, "parse_dump")
    assert done, sorted({e["job"]["name"] for e in events})
    inputs = {i["name"]: i for e in done for i in e["inputs"]}
    assert set(inputs) == {str((landing / p.name).resolve()) for p in SAMPLE.iterdir()}
    assert all(i["namespace"] == "file" for i in inputs.values())
    counts = {n: i["inputFacets"]["inputStatistics"]["rowCount"] for n, i in inputs.items()}
    stored = lake_count(lake, "SELECT count(*) FROM cables") + lake_count(lake, "SELECT count(*) FROM quarantine")
    assert sum(counts.values()) == stored  # every record read is a cable or a quarantine row
    assert all(e["job"]["namespace"] == "cablelake" for e in done)


def test_publish_run_reports_dumps_to_lake_tables_with_rows_and_quality(
    lineage: tuple[list[dict[str, Any]], Path, Path],
) -> None:
    events, lake, landing = lineage
    (event,) = _complete(events, "publish_run")
    assert {i["name"] for i in event["inputs"]} == {str((landing / p.name).resolve()) for p in SAMPLE.iterdir()}
    outputs = {o["name"]: o for o in event["outputs"]}
    root = lake.resolve()
    assert set(outputs) == {str(root / t) for t in ("cables", "quarantine", "runs")}
    rows = {Path(n).name: o["outputFacets"]["outputStatistics"]["rowCount"] for n, o in outputs.items()}
    assert rows["cables"] == lake_count(lake, "SELECT count(*) FROM cables") > 0
    assert rows["quarantine"] == lake_count(lake, "SELECT count(*) FROM quarantine") > 0
    assertions = outputs[str(root / "cables")]["facets"]["dataQualityAssertions"]["assertions"]
    by_rule = {a["name"]: a for a in assertions}
    assert len(by_rule) >= 10
    # the sample's corrupt date-time group fails a rule: the facet says which, and that others passed
    failed = {name for name, a in by_rule.items() if not a["success"]}
    assert failed and failed != set(by_rule)
    assert all(int(by_rule[n]["actual"]) > 0 for n in failed)


def test_refresh_catalog_reads_the_tables_and_writes_the_catalog(
    lineage: tuple[list[dict[str, Any]], Path, Path],
) -> None:
    events, lake, _ = lineage
    (event,) = _complete(events, "refresh_catalog")
    assert {o["name"] for o in event["outputs"]} == {str(lake.resolve() / "cables.duckdb")}
    assert str(lake.resolve() / "cables") in {i["name"] for i in event["inputs"]}


def test_validate_run_reports_the_rules_on_what_it_read(lineage: tuple[list[dict[str, Any]], Path, Path]) -> None:
    events, lake, _ = lineage
    (event,) = _complete(events, "validate_run")
    (cables,) = event["inputs"]
    assert cables["name"] == str(lake.resolve() / "cables")
    assertions = cables["inputFacets"]["dataQualityAssertions"]["assertions"]
    (publish,) = _complete(events, "publish_run")
    published = next(o for o in publish["outputs"] if o["name"] == cables["name"])
    assert assertions == published["facets"]["dataQualityAssertions"]["assertions"]
