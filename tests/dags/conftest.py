"""Fixtures for the DAG tests (helpers in ``airflow_harness.py``)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from airflow_harness import BIN, SAMPLE, airflow_env, make_dump


@pytest.fixture(scope="session")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``airflow db migrate`` per session; tests copy its database."""
    home = tmp_path_factory.mktemp("airflow-template")
    proc = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"],
        env=airflow_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return home


@pytest.fixture
def airflow_home(tmp_path: Path, migrated_home: Path) -> Path:
    """A fresh AIRFLOW_HOME with a migrated database."""
    home = tmp_path / "airflow"
    home.mkdir()
    shutil.copy2(migrated_home / "airflow.db", home / "airflow.db")
    return home


@pytest.fixture
def dump_factory() -> Callable[[Path, int], Path]:
    def make(folder: Path, n: int) -> Path:
        return make_dump(SAMPLE / "07MOSCOW5349.txt", folder / f"07MOSCOW{6000 + n}.txt", n)

    return make
