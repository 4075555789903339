"""What both cablelake DAGs share: the repository root, the lake asset and the task defaults (dags/ is on sys.path)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset

REPO = Path(__file__).resolve().parents[1]
#: The lake as an Airflow asset (identified by its name and URI); the lake's actual path travels in each
#: event's extra (``lake``). ``cablelake_nightly.publish_run`` emits it, ``cablelake_catalog`` runs on it.
LAKE = Asset(name="cablelake_lake", uri="cablelake://lake")

#: Task defaults of every cablelake DAG: retries with exponential backoff (``CABLELAKE_TASK_RETRIES``).
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "cablelake",
    "retries": int(os.environ.get("CABLELAKE_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}
