"""Lineage facts of the steps (what dags/_lineage.py turns into OpenLineage datasets), without Airflow."""

from __future__ import annotations

from pathlib import Path

from etl.catalog import connect
from etl.pipeline import lineage_facts, run

SAMPLE = Path(__file__).resolve().parents[2] / "sample" / "dumps"


def _count(lake: Path, sql: str) -> int:
    with connect(lake) as con:
        return int(con.execute(sql).fetchone()[0])  # type: ignore[index]


def test_publish_and_catalog_facts_name_the_dumps_the_tables_and_the_rules(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    summary = run([str(SAMPLE)], lake).to_dict()
    facts = lineage_facts("publish_run", summary)
    assert {Path(i["uri"]).name for i in facts["inputs"]} == {p.name for p in SAMPLE.iterdir()}
    assert sum(i["records"] for i in facts["inputs"]) == summary["records_found"]
    rows = {o["table"]: o["rows"] for o in facts["outputs"]}
    assert rows == {"cables": _count(lake, "SELECT count(*) FROM cables"),
                    "quarantine": _count(lake, "SELECT count(*) FROM quarantine"), "runs": 1}
    assert {o["uri"] for o in facts["outputs"]} == {str(lake.resolve() / t) for t in rows}
    failed = {q["rule"] for q in facts["quality"] if not q["success"]}
    assert failed and all(q["failed"] > 0 for q in facts["quality"] if q["rule"] in failed)
    assert len(facts["quality"]) > len(failed)

    catalog = lineage_facts("refresh_catalog", [str(lake / "cables.duckdb")])
    assert [o["uri"] for o in catalog["outputs"]] == [str((lake / "cables.duckdb").resolve())]
    assert {i["table"] for i in catalog["inputs"]} == {"cables", "quarantine", "runs"}


def test_no_facts_for_other_steps_or_no_result() -> None:
    empty = {"inputs": [], "outputs": [], "quality": []}
    assert lineage_facts("start_run", "/x/run.json") == empty  # a step that reads or writes no dataset
    assert lineage_facts("publish_run", None) == empty
