"""
### cablelake catalog

Runs whenever the lake changes (the `cablelake_lake` asset, emitted by `cablelake_nightly.publish_run` or
by any other producer): rebuilds the DuckDB catalog `<lake>/cables.duckdb` (views over the Parquet) and
the dashboard `<lake>/_dashboard/`.

The lake is taken from the triggering asset events (their `lake` extra), else from the Variable
`cablelake_lake`, env `CABLELAKE_LAKE`, or `<repo>/lake`. Both steps are idempotent and rebuild beside the
old file and swap it in, so readers never see a half-built catalog.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _defaults import DEFAULT_ARGS, LAKE, REPO  # shared by both DAGs (dags/ is on sys.path)
from _lineage import task as lineage_task  # @task + OpenLineage datasets
from airflow.sdk import Variable, dag, get_current_context, task

log = logging.getLogger(__name__)


@dag(
    dag_id="cablelake_catalog",
    schedule=[LAKE],
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["cablelake", "catalog"],
    doc_md=__doc__,
)
def cablelake_catalog() -> None:
    @task
    def lakes() -> list[str]:
        """The lakes named by the triggering asset events (usually one)."""
        events = get_current_context().get("triggering_asset_events") or {}
        found = {str(e.extra["lake"]) for evs in events.values() for e in evs if e.extra.get("lake")}
        if not found:
            default = Variable.get("cablelake_lake", default=None) or os.environ.get("CABLELAKE_LAKE")
            found = {default or str(REPO / "lake")}
        return sorted(found)

    @lineage_task
    def refresh_catalog(lakes: list[str]) -> list[str]:
        """Rebuild each lake's DuckDB catalog."""
        from etl.pipeline import refresh_catalog as _refresh_catalog

        return [_refresh_catalog(lake) for lake in lakes]

    @lineage_task
    def build_dashboard(lakes: list[str]) -> list[str]:
        """Rebuild each lake's dashboard (static HTML that works offline)."""
        from etl.dashboard import build

        return [str(build(Path(lake))) for lake in lakes]

    found: Any = lakes()
    refresh_catalog(found) >> build_dashboard(found)


cablelake_catalog()
