"""Run the nightly DAG once, in this process (``dag.test()``), on the bundled sample dump.

This is what ``make run`` calls. It uses its own Airflow home (``<repo>/.airflow``, SQLite, no examples,
``dags_folder = <repo>/dags``), migrates its database quietly, runs ``cablelake_nightly`` and prints the
run summary and one cable (07MOSCOW5349) from the DuckDB catalog. Safe to run again and again.

    .venv/bin/python scripts/run_sample.py [--lake lake] [--landing sample/dumps] [--airflow-home DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DAG_ID = "cablelake_nightly"
CABLE_COLUMNS = [
    "reference_id",
    "sent_at",
    "precedence",
    "origin",
    "classification",
    "decl_date",
    "tags",
    "subject",
]


def configure_airflow(home: Path) -> None:
    """Point Airflow at ``home`` and the repo's dags; must run before anything imports Airflow."""
    if "airflow" in sys.modules:
        raise RuntimeError("Airflow was imported before AIRFLOW_HOME was set")
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
            "GX_ANALYTICS_ENABLED": "False",
        }
    )


def migrate_db(home: Path) -> None:
    """``airflow db migrate``, quietly (its output is shown only when it fails).

    Skipped when a stamp says this database was already migrated by this Airflow version.
    """
    version = importlib.metadata.version("apache-airflow-core")
    db, stamp = home / "airflow.db", home / ".cablelake-db-migrated"
    if (
        db.exists()
        and stamp.exists()
        and stamp.read_text(encoding="utf-8") == f"{version} {db.stat().st_ino}"
    ):
        return
    airflow = Path(sys.executable).with_name("airflow")
    cmd = [str(airflow) if airflow.exists() else "airflow", "db", "migrate"]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=os.environ.copy(), timeout=600, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"airflow db migrate failed (exit {proc.returncode}); AIRFLOW_HOME={home}")
    stamp.write_text(f"{version} {db.stat().st_ino}", encoding="utf-8")


def run_dag(
    lake: Path, landing: Path, day: str | None, logical_date: datetime | None = None
) -> tuple[Any, dict[str, Any] | None]:
    """Run the DAG once with ``dag.test()``; returns the DagRun and the ``publish_run`` summary."""
    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    sys.path.insert(0, str(REPO / "dags"))  # as Airflow's DAG bundle does: the DAG imports dags/_lineage.py
    bag = DagBag(dag_folder=str(REPO / "dags" / f"{DAG_ID}.py"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    dag = bag.get_dag(DAG_ID)
    if dag is None:
        raise SystemExit(f"{DAG_ID} not found in {REPO / 'dags'}")
    conf = {"lake": str(lake), "landing": str(landing), "day": day}
    dr = dag.test(run_conf=conf, logical_date=logical_date) if logical_date else dag.test(run_conf=conf)
    with create_session() as session:
        query = XComModel.get_many(
            run_id=dr.run_id, dag_ids=DAG_ID, task_ids="publish_run", key="return_value"
        )
        summary = session.scalars(query).first()
        value = XComModel.deserialize_value(summary) if summary is not None else None
        tis = sorted(
            dr.get_task_instances(session=session), key=lambda ti: (ti.start_date is None, ti.start_date)
        )
        states = {ti.task_id: ti.state for ti in tis}
    print_states(dr.state, states)
    return dr, value


def print_states(state: Any, states: dict[str, Any]) -> None:
    print(f"\nDAG run: {state}")
    for task_id, st in states.items():
        print(f"  {task_id:<16} {st}")


def print_summary(s: dict[str, Any]) -> None:
    print(f"\nrun {s['run_id']} -> {s['lake']}")
    print(f"  records in   {s['records_found']:>6}")
    print(f"  cables       {s['cables']:>6}")
    print(f"  quarantined  {s['quarantined']:>6}")
    if s.get("per_format"):
        print("  per format   " + ", ".join(f"{k} {v}" for k, v in sorted(s["per_format"].items())))
    for reason, n in (s.get("per_reason") or {}).items():
        print(f"    quarantine reason {reason}: {n}")
    for f in s.get("failed_dumps") or []:
        print(f"  FAILED dump  {f['uri']}: {f['error']}")
    timings = s.get("timings") or {}
    if timings:
        print("  time         " + ", ".join(f"{k} {float(v):.2f}s" for k, v in timings.items()))
    if s.get("quality_docs"):
        print(f"  data docs    {s['quality_docs']}")


def print_cable(lake: Path, reference_id: str) -> bool:
    """Print the newest ``cables`` row of ``reference_id`` as ``column: value`` lines."""
    from etl.catalog import connect

    con = connect(lake)
    try:
        n = con.execute("SELECT count(*) FROM cables WHERE reference_id = ?", [reference_id]).fetchone()
        row = con.execute(
            f"SELECT {', '.join(CABLE_COLUMNS)} FROM cables WHERE reference_id = ? "
            "ORDER BY ingested_at DESC LIMIT 1",
            [reference_id],
        ).fetchone()
    finally:
        con.close()
    if row is None:
        print(f"\n{reference_id}: not in the catalog")
        return False
    copies = n[0] if n else 1
    print(f"\ncables row of {reference_id}" + (f" (newest of {copies} ingests)" if copies > 1 else "") + ":")
    width = max(len(c) for c in CABLE_COLUMNS)
    for col, value in zip(CABLE_COLUMNS, row, strict=True):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        print(f"  {col:>{width}} : {'NULL' if shown is None else shown}")
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lake", default=os.environ.get("CABLELAKE_LAKE", str(REPO / "lake")))
    p.add_argument("--landing", default=str(REPO / "sample" / "dumps"))
    p.add_argument("--day", default=None, help="landing/<day>/ to ingest (default: the whole folder)")
    p.add_argument(
        "--logical-date",
        type=datetime.fromisoformat,
        default=None,
        help="logical date of the run (YYYY-MM-DD, UTC): ingests landing/<that day>/ when it exists",
    )
    p.add_argument("--airflow-home", default=str(REPO / ".airflow"))
    p.add_argument("--cable", default="07MOSCOW5349", help="reference id of the cable to print")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    home = Path(args.airflow_home).resolve()
    lake = Path(args.lake).resolve()
    landing = Path(args.landing).resolve()
    configure_airflow(home)
    migrate_db(home)
    t1 = time.perf_counter()
    print(f"airflow home {home} (db ready in {t1 - t0:.1f}s); running {DAG_ID} on {landing}")
    logical = args.logical_date.replace(tzinfo=args.logical_date.tzinfo or UTC) if args.logical_date else None
    dr, summary = run_dag(lake, landing, args.day or (None if logical else "all"), logical)
    t2 = time.perf_counter()
    if summary:
        print_summary(summary)
    else:
        print("\nno new dumps were published by this run (the lake already has them)")
    found = print_cable(lake, args.cable)
    print(f"\nwall time: {time.perf_counter() - t0:.1f}s (db migrate {t1 - t0:.1f}s, DAG run {t2 - t1:.1f}s)")
    ok = str(dr.state) == "success" and found
    return 0 if ok else 1


if __name__ == "__main__":
    code = main()
    # Listeners that keep worker processes (OpenLineage's pool for DAG-run events) get their stop hook,
    # as an Airflow component's does at shutdown: their events are flushed and no orphan is left behind.
    if "airflow.listeners.listener" in sys.modules:
        from airflow.listeners.listener import get_listener_manager

        get_listener_manager().hook.before_stopping(component=main)
    # Interpreter teardown after dag.test() takes seconds (Airflow's in-process API server and the
    # modules the tasks loaded); everything is written and closed by now, so leave at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
