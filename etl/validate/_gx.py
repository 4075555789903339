"""Running a suite with Great Expectations (GX 1.x) in an ephemeral context.

GX is imported lazily (it costs seconds), analytics are switched off before the import, and nothing is
written to a ``gx/`` project folder: the context lives in memory, except for the result JSON and the Data
Docs site, which go under the run's quality dir.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from etl.validate._docs import make_offline

if TYPE_CHECKING:
    import pandas as pd

RESULT_FILE = "validation_result.json"
DOCS_DIR = "data_docs"
_SITE = "cablelake"
_TRIMMED_KEYS = ("unexpected_list", "unexpected_index_list", "partial_unexpected_list",
                 "partial_unexpected_index_list")


@dataclass
class SuiteRun:
    """What the validate stage needs from a GX run."""

    failed: dict[str, list[int]]
    """rule name -> positional indices of the failing rows."""
    exceptions: dict[str, str]
    """rule name -> exception message, for expectations GX could not evaluate."""
    result_path: Path | None
    docs_index: Path | None


def _context(docs_dir: Path | None) -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites: dict[str, Any] = {}
    if docs_dir is not None:
        sites[_SITE] = {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            # GE wants an absolute base directory (a relative --lake failed the run here)
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir.absolute())},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _trim(result: Any, cap: int) -> None:
    """Cap the per-row lists of every expectation result in place (the full lists were already used)."""
    for evr in result.results:
        res = evr.result or {}
        for key in _TRIMMED_KEYS:
            if isinstance(res.get(key), list) and len(res[key]) > cap:
                res[key] = res[key][:cap]
        if "unexpected_index_query" in res:
            res["unexpected_index_query"] = "(omitted: see the quarantine table)"


def _prune_static(docs_dir: Path) -> None:
    """Delete the site's static files no page refers to (GX copies ~4 MB of demo GIFs and fonts per site)."""
    pages = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                      for p in docs_dir.rglob("*") if p.suffix in (".html", ".css", ".js"))
    for f in sorted((docs_dir / "static").rglob("*")):
        if f.is_file() and f.name not in pages:
            f.unlink()


def run_suite(
    df: pd.DataFrame,
    suite: dict[str, Any],
    *,
    parameters: dict[str, Any],
    run_id: str,
    quality_dir: Path | None,
    data_docs: bool,
    list_cap: int,
) -> SuiteRun:
    """Validate ``df`` against ``suite`` (a suite dict); write result JSON and Data Docs when asked."""
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.validator.v1_validator import Validator

    docs_dir = quality_dir / DOCS_DIR if (quality_dir is not None and data_docs) else None
    ctx = _context(docs_dir)
    gx_suite = ctx.suites.add(gx.ExpectationSuite(
        name=suite["name"], expectations=suite["expectations"], meta=suite.get("meta") or {}))
    batch = ctx.data_sources.add_pandas("cablelake").add_dataframe_asset(suite["name"]) \
        .add_batch_definition_whole_dataframe("run")
    # The v1 Validator directly (what ValidationDefinition.run wraps): run() would also serialise the
    # COMPLETE result into the in-memory store, which costs more than validating; only the trimmed result
    # is stored below, for Data Docs.
    validator = Validator(batch_definition=batch, batch_parameters={"dataframe": df},
                          result_format={"result_format": "COMPLETE"})
    result = validator.validate_expectation_suite(gx_suite, parameters)
    # run_time given: without it GX reads the run's name as a date, and dateutil takes a run id such as
    # 20261206T170203Z-4484ad for a time at offset -44:84, which later fails to serialise (1 run in ~1,300)
    gx_run_id = gx.RunIdentifier(run_name=run_id, run_time=datetime.now(UTC))
    result.meta.update({"run_id": gx_run_id, "validation_time": gx_run_id.run_time,
                        "batch_parameters": {"dataframe": "<cables of the run>"}})

    failed: dict[str, list[int]] = {}
    exceptions: dict[str, str] = {}
    for evr in result.results:
        config = evr.expectation_config
        rule = str(config.meta["rule"]) if config is not None and config.meta else "?"
        info = evr.exception_info or {}
        if info.get("raised_exception"):
            exceptions[rule] = str(info.get("exception_message"))
            continue
        failed[rule] = [int(i) for i in (evr.result or {}).get("unexpected_index_list") or []]

    result_path = docs_index = None
    if quality_dir is not None:
        quality_dir.mkdir(parents=True, exist_ok=True)
        _trim(result, list_cap)
        result_path = quality_dir / RESULT_FILE
        result_path.write_text(json.dumps(result.to_json_dict(), indent=1, default=str), encoding="utf-8")
        if docs_dir is not None:
            suite_id = ExpectationSuiteIdentifier(name=suite["name"])
            key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=gx_run_id,
                                             batch_identifier=validator.active_batch_id)
            ctx.validation_results_store.set(key, result)
            ctx.build_data_docs(site_names=[_SITE])
            make_offline(docs_dir)  # CDN links -> the packaged copies (before pruning: keeps GE's logo)
            _prune_static(docs_dir)
            docs_index = docs_dir / "index.html"
    return SuiteRun(failed=failed, exceptions=exceptions, result_path=result_path, docs_index=docs_index)
