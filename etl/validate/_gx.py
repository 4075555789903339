"""Running a suite with Great Expectations (GX 1.x) in an ephemeral context.

GX is imported lazily (it costs seconds), analytics are switched off before the import, and nothing is
written to a ``gx/`` project folder: the context lives in memory, except for the result JSON and the Data
Docs site, which go under the run's quality dir.
"""

from __future__ import annotations

import json
import os
import threading
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
        if "unexpected_index_list" in res:  # (GX was asked for no query: see run_suite)
            res["unexpected_index_query"] = "(omitted: see the quarantine table)"


def _prune_static(docs_dir: Path) -> None:
    """Delete the site's static files no page refers to (GX copies ~4 MB of demo GIFs and fonts per site)."""
    pages = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                      for p in docs_dir.rglob("*") if p.suffix in (".html", ".css", ".js"))
    for f in sorted((docs_dir / "static").rglob("*")):
        if f.is_file() and f.name not in pages:
            f.unlink()


def _add_suite(context: Any, suite: dict[str, Any]) -> Any:
    """The suite dict added to ``context`` as a GX ExpectationSuite."""
    import great_expectations as gx

    return context.suites.add(gx.ExpectationSuite(
        name=suite["name"], expectations=suite["expectations"], meta=suite.get("meta") or {}))


class _Session:
    """A GX context with the suite, a pandas data source and its whole-dataframe batch definition, kept for
    the next validation of the same suite in this process (a parse worker validates chunk after chunk).

    Building them costs ~30 ms a call, and GX's metric dependency graph of the suite (~35 % of a call on a
    4,000-row chunk: thousands of pydantic dumps of the same expectation configurations) is the same for every
    chunk, since the batch id is the same. The graph is built on the first chunk and kept, keyed by the
    suite parameters and the result format; only the metrics are computed again for each chunk's data.
    """

    def __init__(self, suite: dict[str, Any]) -> None:
        self.context = _context(None)
        self.suite = _add_suite(self.context, suite)
        self.batch = self.context.data_sources.add_pandas("cablelake").add_dataframe_asset(suite["name"]) \
            .add_batch_definition_whole_dataframe("run")
        self._graphs: dict[str, tuple[list[Any], list[Any], list[Any]]] = {}

    def validate(self, df: pd.DataFrame, parameters: dict[str, Any], result_format: dict[str, Any]) -> tuple[Any, str | None]:
        """The suite's result on ``df`` and GX's batch id."""
        from great_expectations.validator.v1_validator import Validator

        # The v1 Validator directly (what ValidationDefinition.run wraps): run() would also serialise the
        # COMPLETE result into the in-memory store, which costs more than validating.
        validator = Validator(batch_definition=self.batch, batch_parameters={"dataframe": df},
                              result_format=result_format)
        wrapped = validator._wrapped_validator
        key = json.dumps([parameters, result_format], sort_keys=True, default=str)
        build = wrapped._generate_metric_dependency_subgraphs_for_each_expectation_configuration

        def graphs(*, processed_configurations: list[Any], **kwargs: Any) -> tuple[list[Any], list[Any], list[Any]]:
            # the same configurations, batch id and engine as the first chunk: its graph, in fresh lists
            # (GX appends to and removes from them while validating)
            if key not in self._graphs:
                self._graphs[key] = build(processed_configurations=[], **kwargs)
            expectation_graphs, evrs, processed = self._graphs[key]
            processed_configurations.extend(processed)
            return list(expectation_graphs), list(evrs), processed_configurations

        wrapped._generate_metric_dependency_subgraphs_for_each_expectation_configuration = graphs  # type: ignore[method-assign,assignment]
        try:
            result = validator.validate_expectation_suite(self.suite, parameters)
            batch_id = validator.active_batch_id
        finally:
            _forget(wrapped)
        return result, batch_id


def _forget(wrapped: Any) -> None:
    """Drop what the engine keeps of a chunk (its metric cache and batch): the next chunk computes its own."""
    engine = wrapped._execution_engine
    cache = getattr(engine, "_metric_cache", None)
    if isinstance(cache, dict):
        cache.clear()
    engine.batch_manager.reset_batch_cache()


_SESSIONS: dict[str, _Session] = {}
_MAX_SESSIONS = 4
_LOCK = threading.Lock()
"""A kept session serves one validation at a time (its engine holds one batch under one id)."""


def _session(suite: dict[str, Any]) -> _Session:
    """The kept session of ``suite`` (no Data Docs site), made on first use; a few suites are kept."""
    key = json.dumps(suite, sort_keys=True, default=str)
    session = _SESSIONS.pop(key, None) or _Session(suite)
    _SESSIONS[key] = session  # most recently used last
    while len(_SESSIONS) > _MAX_SESSIONS:
        del _SESSIONS[next(iter(_SESSIONS))]
    return session


def docs_run_name(run_id: str) -> str:
    """The run's name as GX's Data Docs are given it: the run id, unless dateutil reads it as a time that cannot
    be compared (``20261206T170203Z-4484ad``: 17:02:03 at offset -44:84, ``ad`` read as the era); GX's page
    compares the name read as a date with the run's time, which then raises and leaves the site without the
    validation page. Such a name gets a word in front, which no date reading accepts."""
    from dateutil.parser import parse

    try:
        when = parse(run_id)
    except (ValueError, OverflowError):  # not a date (most run ids): GX shows the name as it is
        return run_id
    try:
        when.utcoffset()
    except ValueError:
        return f"run {run_id}"
    return run_id


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
    """Validate ``df`` against ``suite`` (a suite dict); write result JSON and Data Docs when asked.

    The GX session of the suite is kept for the next call (:class:`_Session`); Data Docs are built by a
    context of their own, with the site in ``quality_dir``.
    """
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    docs_dir = quality_dir / DOCS_DIR if (quality_dir is not None and data_docs) else None
    # COMPLETE: every failing row's index (unexpected_index_list). GX need not also spell the indices out as
    # a query (two more takes of the frame a rule): the written result only says where they are (_trim).
    result_format = {"result_format": "COMPLETE", "return_unexpected_index_query": False}
    with _LOCK:
        session = _session(suite)
        result, batch_id = session.validate(df, parameters, result_format)
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
            docs = _context(docs_dir)  # a context of its own, with the site in quality_dir
            _add_suite(docs, suite)  # (its page is part of the site)
            suite_id = ExpectationSuiteIdentifier(name=suite["name"])
            docs_run = gx.RunIdentifier(run_name=docs_run_name(run_id), run_time=gx_run_id.run_time)
            result.meta["run_id"] = docs_run  # (the result JSON above keeps the run's own name)
            key = ValidationResultIdentifier(expectation_suite_identifier=suite_id, run_id=docs_run,
                                             batch_identifier=batch_id)
            docs.validation_results_store.set(key, result)
            docs.build_data_docs(site_names=[_SITE])
            make_offline(docs_dir)  # CDN links -> the packaged copies (before pruning: keeps GE's logo)
            _prune_static(docs_dir)
            docs_index = docs_dir / "index.html"
    return SuiteRun(failed=failed, exceptions=exceptions, result_path=result_path, docs_index=docs_index)
