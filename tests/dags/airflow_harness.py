"""Helpers for the DAG tests: Airflow runs in subprocesses, each with its own AIRFLOW_HOME under tmp.

The pytest process itself never imports Airflow, so no test can leak Airflow configuration (or the
repo's ``.airflow`` home) into another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
SAMPLE = REPO / "sample" / "dumps"
BIN = Path(sys.executable).parent


def airflow_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment of an isolated Airflow installation in ``home`` (SQLite, repo dags, no examples)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CABLELAKE_"))}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            "GX_ANALYTICS_ENABLED": "False",
            # airflow must find `etl` as installed, not by the cwd; dags/ is on sys.path as Airflow's DAG
            # bundle puts it for the DAG processor and the tasks (the DAG imports dags/_lineage.py)
            "PYTHONPATH": str(DAGS),
        }
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=str(REPO), capture_output=True, text=True, timeout=timeout
    )


def last_json(proc: subprocess.CompletedProcess[str]) -> Any:
    """The JSON object a helper script printed on its last stdout line."""
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, (
        f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    )
    return json.loads(lines[-1])


def make_dump(src: Path, dest: Path, n: int) -> Path:
    """A variant of a sample dump with its own reference number (so its own sha256)."""
    text = src.read_text(encoding="utf-8").replace("5349", f"{6000 + n}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


def lake_count(lake: Path, sql: str = "SELECT count(*) FROM cables") -> int:
    """Run a scalar query against the lake's DuckDB catalog (read-only)."""
    from etl.catalog import connect

    con = connect(lake)
    try:
        row = con.execute(sql).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0
