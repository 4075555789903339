"""
### cablelake nightly ingest

Turns the cable dumps found in the **landing** folder into rows of the Parquet **lake** and refreshes its
DuckDB catalog. Every task calls one step function of `etl.pipeline` and hands **paths** (never data) to
the next one:

`start_run` -> `find_dumps` (new dumps only: the lake's manifest knows every ingested sha256) ->
`parse_dump` (mapped, one instance per shard of dumps) -> `validate_run`
-> `publish_run` (emits the `cablelake_lake` asset) -> `refresh_catalog`; beside them `check_inputs`
fails the run when a dump could not be parsed (the other dumps are still published).

**Which dumps.** The schedule is `@daily` with data intervals, so a run's logical date is the day it
covers (the run for day D starts when D ends). The run ingests `landing/<logical date: YYYY-MM-DD>/` when
that folder exists (so `airflow backfill create --from-date ... --to-date ...` processes those days'
folders), else the whole landing folder (also for manual runs without a logical date). The `day` param
overrides this (`all` = the whole folder). Dumps the lake already holds (same sha256) are skipped; a run
with nothing new records a `noop` row in `runs`, as `cablelake run` does.

**Where.** Params `landing` / `lake`, else Airflow Variables `cablelake_landing` / `cablelake_lake`,
else env `CABLELAKE_LANDING` / `CABLELAKE_LAKE`, else `<repo>/sample/dumps` and `<repo>/lake`.

**Failures.** A dump that cannot be read costs only itself: the other dumps of its shard are parsed
(its error is a quarantine row naming it), its `parse_dump` instance fails (after the retries) but not
the run's other shards, `validate_run` runs over the shards that finished (trigger rule
`all_done_min_one_success`), the failure is recorded in `<lake>/_failures/<run_id>/` and in the asset
event, and `check_inputs` turns the run red. The failed dump is not in the lake's manifest: the next run
reads it again. The bookkeeping lives in `etl.pipeline` (`RunStaging`, `parse_shard`, `finish_parsing`).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _defaults import DEFAULT_ARGS, LAKE, REPO  # shared by both DAGs (dags/ is on sys.path)
from _lineage import task as lineage_task  # @task + OpenLineage datasets
from airflow.sdk import (
    CronDataIntervalTimetable,
    Metadata,
    Param,
    TriggerRule,
    Variable,
    conf,
    dag,
    get_current_context,
    task,
)
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

log = logging.getLogger(__name__)

#: How many shards one DAG run parses at the same time (a property of the DAG, so read when it is parsed).
#: The other settings (shard sizes, parse processes) are etl.pipeline.RunConfig, read when a task runs.
PARSE_CONCURRENCY = int(os.environ.get("CABLELAKE_PARSE_CONCURRENCY", "4"))


def _setting(params: dict[str, Any], name: str, default: Path) -> str:
    """Param, else Variable ``cablelake_<name>``, else env ``CABLELAKE_<NAME>``, else ``default``."""
    value = params.get(name) or Variable.get(f"cablelake_{name}", default=None)
    value = value or os.environ.get(f"CABLELAKE_{name.upper()}") or str(default)
    return value if "://" in value else str(Path(value).expanduser().resolve())


@dag(
    dag_id="cablelake_nightly",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=datetime(2024, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    max_consecutive_failed_dag_runs=5,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(hours=6),
    tags=["cablelake", "ingest", "lake"],
    doc_md=__doc__,
    params={
        "landing": Param(None, type=["null", "string"], description="folder (or URL) the dumps land in"),
        "lake": Param(None, type=["null", "string"], description="root folder of the Parquet lake"),
        "day": Param(
            None,
            type=["null", "string"],
            description="landing/<day>/ to ingest (YYYY-MM-DD); default: the run's logical date; 'all'",
        ),
        "keep_days": Param(
            None, type=["null", "number"], minimum=0,
            description="vacuum: keep every lake version of the last D days readable (default Variable "
            "cablelake_keep_days, env CABLELAKE_KEEP_DAYS, else 7)",
        ),
    },
)
def cablelake_nightly() -> None:
    @task
    def start_run() -> dict[str, str]:
        """Resolve landing and lake, create the run's staging folder; returns the run's paths."""
        from etl.pipeline import start_run as _start_run

        params = get_current_context()["params"]
        lake = _setting(params, "lake", REPO / "lake")
        landing = _setting(params, "landing", REPO / "sample" / "dumps")
        run_id = _start_run(lake)
        log.info("run %s: landing %s -> lake %s", run_id, landing, lake)
        return {"run_id": run_id, "lake": lake, "landing": landing}

    @task
    def find_dumps(run: dict[str, str]) -> list[list[str]]:
        """The new dumps (the lake's manifest knows every ingested sha256), in shards of URIs."""
        from etl.pipeline import landing_sources, plan_run

        ctx = get_current_context()
        logical = ctx.get("logical_date")  # == data_interval_start for scheduled and backfill runs
        day = logical.date().isoformat() if logical else None
        try:
            sources = landing_sources(run["landing"], ctx["params"].get("day"), day)
        except FileNotFoundError as exc:
            raise AirflowFailException(str(exc)) from exc
        max_map_length = conf.getint("core", "max_map_length", fallback=1024)
        return plan_run(run["lake"], run["run_id"], sources, max_shards=max_map_length)

    @lineage_task(map_index_template="{{ shard_label }}", max_active_tis_per_dagrun=PARSE_CONCURRENCY)
    def parse_dump(uris: list[str], run: dict[str, str]) -> list[str]:
        """Parse one shard of dumps into staging; a dump that fails costs only itself (the task fails,
        is retried, and the failure is recorded for ``check_inputs``). Returns the shard summaries."""
        from etl.pipeline import RunConfig, RunStaging, parse_shard, shard_label

        ctx = get_current_context()
        ctx["shard_label"] = shard_label(uris)  # type: ignore[typeddict-unknown-key]
        workers = RunConfig.from_env().parse_workers
        outcome = parse_shard(uris, run["lake"], run["run_id"], ctx["ti"].map_index or 0, workers=workers)
        if outcome.failed:
            raise RuntimeError(RunStaging.describe(outcome.failed))
        return outcome.done

    @lineage_task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS)
    def validate_run(run: dict[str, str]) -> str:
        """Validate the rows of the shards that were parsed (failed shards are left out)."""
        from etl.pipeline import finish_parsing
        from etl.pipeline import validate_run as _validate_run

        if not finish_parsing(run["lake"], run["run_id"]):
            raise AirflowSkipException("no dump was parsed: nothing to validate or publish")
        return _validate_run(run["lake"], run["run_id"])

    @lineage_task(outlets=[LAKE])
    def publish_run(run: dict[str, str], validation: str) -> Any:
        """Publish the validated tables into the lake; the asset event says what was added."""
        from etl.pipeline import event_extra
        from etl.pipeline import publish_run as _publish_run

        summary = json.loads(json.dumps(_publish_run(run["lake"], run["run_id"]), default=str))
        yield Metadata(LAKE, event_extra(summary))
        return summary

    @lineage_task
    def refresh_catalog(run: dict[str, str], summary: dict[str, Any]) -> str:
        """Rebuild the DuckDB catalog (views over the Parquet)."""
        from etl.pipeline import refresh_catalog as _refresh_catalog

        return _refresh_catalog(run["lake"])

    @task
    def vacuum(run: dict[str, str], catalog: str) -> dict[str, Any]:
        """Delete the files no lake version of the last ``keep_days`` days needs, and old _quality folders."""
        from etl.pipeline import vacuum_lake

        keep = get_current_context()["params"].get("keep_days")
        if keep is None:
            keep = Variable.get("cablelake_keep_days", default=None) or os.environ.get("CABLELAKE_KEEP_DAYS", "7")
        return vacuum_lake(run["lake"], keep_days=float(keep))

    @task(trigger_rule=TriggerRule.ALL_DONE)
    def check_inputs(run: dict[str, str]) -> None:
        """Fail the run (after the good shards were published) when a dump could not be parsed."""
        from etl.pipeline import RunStaging

        failed = RunStaging(run["lake"], run["run_id"]).failures()
        if failed:
            raise AirflowFailException(RunStaging.describe(failed))

    # (XComArgs typed as Any: mypy cannot see through TaskFlow's call-time substitution)
    run: Any = start_run()
    shards = find_dumps(run)
    parsed = parse_dump.partial(run=run).expand(uris=shards)
    validation: Any = validate_run(run)
    parsed >> validation
    summary: Any = publish_run(run, validation)
    catalog: Any = refresh_catalog(run, summary)
    vacuum(run, catalog)
    # a second leaf: the run fails when a dump failed, after the rest was published
    parsed >> check_inputs(run)


cablelake_nightly()

if __name__ == "__main__":
    cablelake_nightly().test()
