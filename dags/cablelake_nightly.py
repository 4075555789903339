"""
### cablelake nightly ingest

Turns the cable dumps found in the **landing** folder into rows of the Parquet **lake** and refreshes its
DuckDB catalog. Every task calls one step function of `etl.pipeline` and hands **paths** (never data) to
the next one:

`start_run` -> `find_dumps` (new dumps only: the lake's manifest knows every ingested sha256) ->
`parse_dump` (mapped, one instance per shard of dumps) -> `validate_run` (with `order_for_dedup`)
-> `publish_run` (emits the `cablelake_lake` asset) -> `refresh_catalog`; beside them `check_inputs`
fails the run when a dump could not be parsed (the other dumps are still published).

**Which dumps.** The schedule is `@daily` with data intervals, so a run's logical date is the day it
covers (the run for day D starts when D ends). The run ingests `landing/<logical date: YYYY-MM-DD>/` when
that folder exists (so `airflow backfill create --from-date ... --to-date ...` processes those days'
folders), else the whole landing folder (also for manual runs without a logical date). The `day` param
overrides this (`all` = the whole folder). Dumps the lake already holds (same sha256) are skipped.

**Where.** Params `landing` / `lake`, else Airflow Variables `cablelake_landing` / `cablelake_lake`,
else env `CABLELAKE_LANDING` / `CABLELAKE_LAKE`, else `<repo>/sample/dumps` and `<repo>/lake`.

**Failures.** A dump that cannot be parsed fails its `parse_dump` instance (after the retries) but not
the run's other shards: `validate_run` runs over the shards that succeeded (trigger rule
`all_done_min_one_success`), the failure is recorded in `<lake>/_failures/<run_id>/` and in the asset
event, and `check_inputs` turns the run red.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import (
    Asset,
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

REPO = Path(__file__).resolve().parents[1]
#: The lake as an Airflow asset; the lake's actual path travels in each event's extra (``lake``).
LAKE = Asset(name="cablelake_lake", uri="cablelake://lake")

#: Upper bound on mapped ``parse_dump`` instances; more dumps than this are batched into shards.
MAX_SHARDS = int(os.environ.get("CABLELAKE_MAX_SHARDS", "256"))
#: At most this many dumps in one shard (one mapped ``parse_dump`` instance).
SHARD_FILES = int(os.environ.get("CABLELAKE_SHARD_FILES", "500"))
#: How many shards one DAG run parses at the same time, and parse processes per shard.
PARSE_CONCURRENCY = int(os.environ.get("CABLELAKE_PARSE_CONCURRENCY", "4"))
PARSE_WORKERS = int(os.environ.get("CABLELAKE_PARSE_WORKERS", "1"))
SHARD_NAME = re.compile(r"[0-9a-f]{16}")

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "cablelake",
    "retries": int(os.environ.get("CABLELAKE_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}


# ------------------------------------------------------------------------------------ wiring helpers
# Stdlib only: small decisions about *which* paths to hand to ``etl.pipeline``, no data handling.


def _setting(params: dict[str, Any], name: str, default: Path) -> str:
    """Param, else Variable ``cablelake_<name>``, else env ``CABLELAKE_<NAME>``, else ``default``."""
    value = params.get(name) or Variable.get(f"cablelake_{name}", default=None)
    value = value or os.environ.get(f"CABLELAKE_{name.upper()}") or str(default)
    return value if "://" in value else str(Path(value).expanduser().resolve())


def _sources(landing: str, day: str | None) -> list[str]:
    """The landing folder of ``day`` (``YYYY-MM-DD``) when it exists, else the whole landing folder."""
    if day and day != "all" and "://" not in landing and (Path(landing) / day).is_dir():
        return [str(Path(landing) / day)]
    return [landing]


def _cap(shards: list[list[str]], limit: int) -> list[list[str]]:
    """Merge shards round-robin so that there are at most ``limit`` of them (mapped tasks have a cap)."""
    if len(shards) <= limit:
        return shards
    merged: list[list[str]] = [[] for _ in range(limit)]
    for i, shard in enumerate(shards):
        merged[i % limit].extend(shard)
    return merged


def _failures_dir(run: dict[str, str]) -> Path:
    return Path(run["lake"]) / "_failures" / run["run_id"]


def _record_path(run: dict[str, str], map_index: int) -> Path:
    return _failures_dir(run) / f"shard-{map_index:05d}.json"


def _forget_attempt(run: dict[str, str], map_index: int) -> None:
    """Undo what an earlier attempt of this shard recorded: its failure record and per-dump outputs."""
    record = _record_path(run, map_index)
    if not record.exists():
        return
    for summary in json.loads(record.read_text("utf-8"))["done"]:
        stage = Path(summary).parents[1]
        for p in (
            Path(summary),
            stage / "parsed" / f"{Path(summary).stem}.parquet",
            stage / "rejected" / f"{Path(summary).stem}.parquet",
        ):
            p.unlink(missing_ok=True)
    record.unlink()


def _record_failures(
    run: dict[str, str], map_index: int, done: list[str], failed: list[dict[str, str]]
) -> None:
    path = _record_path(run, map_index)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"failed": failed, "done": done}, indent=1), encoding="utf-8")


def _failures(run: dict[str, str]) -> list[dict[str, str]]:
    folder = _failures_dir(run)
    return [
        f for p in sorted(folder.glob("shard-*.json")) for f in json.loads(p.read_text("utf-8"))["failed"]
    ]


def _drop_orphans(run: dict[str, str]) -> tuple[int, list[str]]:
    """Remove ``parsed/`` and ``rejected/`` shard files that have no ``shards/<shard>.json``.

    ``parse_dump`` writes its Parquet files in place and the shard summary last, so a dump that failed
    half-way leaves Parquet files without a summary: they must not reach ``validate_run``. Only files
    named like shards (16 hex digits) are candidates: other steps add their own files (``!dups``,
    ``replay``). Returns (finished shards, removed files).
    """
    stage = Path(run["lake"]) / "_staging" / run["run_id"]
    done = {p.stem for p in (stage / "shards").glob("*.json")}
    removed = []
    for sub in ("parsed", "rejected"):
        for p in (stage / sub).glob("*.parquet"):
            if SHARD_NAME.fullmatch(p.stem) and p.stem not in done:
                p.unlink()
                removed.append(str(p))
    return len(done), removed


# ------------------------------------------------------------------------------------------------ DAG


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
        """The dumps to ingest, batched into at most MAX_SHARDS shards (each a list of URIs)."""
        from etl.pipeline import find_dumps as _find_dumps
        from etl.pipeline import plan_shards

        ctx = get_current_context()
        logical = ctx.get("logical_date")  # == data_interval_start for scheduled and backfill runs
        day = ctx["params"].get("day")
        if day and day != "all" and "://" not in run["landing"] and not (Path(run["landing"]) / day).is_dir():
            raise AirflowFailException(f"day param {day!r}: no folder {run['landing']}/{day}")
        sources = _sources(run["landing"], day or (logical.date().isoformat() if logical else None))
        uris = _find_dumps(sources, run["lake"])  # only dumps whose sha256 the lake has not ingested
        limit = min(MAX_SHARDS, conf.getint("core", "max_map_length", fallback=1024))
        shards = _cap(plan_shards(uris, max_files=SHARD_FILES), limit)
        log.info("%d dump(s) in %s -> %d shard(s)", len(uris), sources, len(shards))
        return shards

    @task(map_index_template="{{ shard_label }}", max_active_tis_per_dagrun=PARSE_CONCURRENCY)
    def parse_dump(uris: list[str], run: dict[str, str]) -> list[str]:
        """Parse one shard of dumps into staging; if that fails, parse its dumps one by one.

        So one bad dump costs only itself: the shard's other dumps are parsed, the bad one is recorded
        under ``<lake>/_failures/<run_id>/`` and the task fails (and is retried).
        """
        from etl.pipeline import parse_dump as _parse_dump

        ctx = get_current_context()
        first = uris[0].rstrip("/").rsplit("/", 1)[-1]
        ctx["shard_label"] = first if len(uris) == 1 else f"{first} +{len(uris) - 1}"  # type: ignore[typeddict-unknown-key]
        lake, run_id, index = run["lake"], run["run_id"], ctx["ti"].map_index or 0
        _forget_attempt(run, index)
        try:
            return [_parse_dump(uris, lake, run_id, workers=PARSE_WORKERS)]
        except Exception as exc:
            if len(uris) == 1:
                _record_failures(run, index, [], [{"uri": uris[0], "error": f"{type(exc).__name__}: {exc}"}])
                raise
            log.exception("shard of %d dumps failed: parsing them one by one", len(uris))
        done, failed = [], []
        for uri in uris:
            try:
                done.append(_parse_dump(uri, lake, run_id, workers=PARSE_WORKERS))
            except Exception as exc:
                log.exception("cannot parse dump %s", uri)
                failed.append({"uri": uri, "error": f"{type(exc).__name__}: {exc}"})
        if failed:
            _record_failures(run, index, done, failed)
            raise RuntimeError(f"{len(failed)} of {len(uris)} dump(s) failed: {[f['uri'] for f in failed]}")
        return done

    @task(trigger_rule=TriggerRule.ALL_DONE_MIN_ONE_SUCCESS)
    def validate_run(run: dict[str, str]) -> str:
        """Validate the rows of the shards that were parsed (failed shards are left out)."""
        from etl.pipeline import order_for_dedup
        from etl.pipeline import validate_run as _validate_run

        finished, removed = _drop_orphans(run)
        if removed:
            log.warning("left out partial output of failed dumps: %s", removed)
        if not finished:
            if not _failures(run):  # nothing new: drop this run's empty staging folder
                shutil.rmtree(Path(run["lake"]) / "_staging" / run["run_id"], ignore_errors=True)
            raise AirflowSkipException("no dump was parsed: nothing to validate or publish")
        moved = order_for_dedup(run["lake"], run["run_id"])
        log.info("%d row(s) of repeated cables ordered for dedup", moved)
        return _validate_run(run["lake"], run["run_id"])

    @task(outlets=[LAKE])
    def publish_run(run: dict[str, str], validation: str) -> Any:
        """Publish the validated tables into the lake; the asset event says what was added."""
        from etl.pipeline import publish_run as _publish_run

        summary = json.loads(json.dumps(_publish_run(run["lake"], run["run_id"]), default=str))
        failed = _failures(run)
        yield Metadata(
            LAKE,
            {
                "lake": run["lake"],
                "run_id": run["run_id"],
                "lake_version": summary.get("lake_version"),
                "records_found": summary["records_found"],
                "cables_added": summary["cables"],
                "quarantined": summary["quarantined"],
                "duplicates": summary.get("duplicates", 0),
                "lake_cables": summary.get("lake_cables"),
                "dumps": len(summary["inputs"]),
                "failed_dumps": [f["uri"] for f in failed],
            },
        )
        return {**summary, "failed_dumps": failed}

    @task
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
        failed = _failures(run)
        if failed:
            lines = "\n".join(f"  {f['uri']}: {f['error']}" for f in failed)
            raise AirflowFailException(f"{len(failed)} dump(s) not ingested:\n{lines}")

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
