"""Lineage facts of a step: which dumps it read and which lake tables it wrote, with row counts and the
data-quality result, taken from what the step returned (its summary). Plain data, no lineage library:
``dags/_lineage.py`` turns them into OpenLineage datasets and facets.

Facts (``dict``)::

    {"inputs":  [{"uri": dump URI, "records": records read, "size": bytes, "sha256": ...}],
     "outputs": [{"uri": lake table folder (or file), "table": name, "rows": rows written by the step
                  (None: not a table), "total_rows": rows in the table after it (publish_run)}],
     "quality": [{"rule", "column", "severity", "expectation", "failed", "success"}]}   (about ``cables``:
                  the rows of the run checked by validate_run, then published by publish_run)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from etl.lake import LakePaths

Facts = dict[str, list[dict[str, Any]]]


def _empty() -> Facts:
    return {"inputs": [], "outputs": [], "quality": []}


def _dump(inp: Mapping[str, Any]) -> dict[str, Any]:
    return {k: inp.get(k) for k in ("uri", "records", "size", "sha256")}


def _parse_facts(shard_summaries: Sequence[str]) -> Facts:
    """``parse_dump`` returns the paths of its shard summaries: the dumps it read, records per dump."""
    facts = _empty()
    for path in shard_summaries:
        summary = json.loads(Path(path).read_text(encoding="utf-8"))
        facts["inputs"] += [_dump(i) for i in summary.get("inputs", [])]
    return facts


def _quality(per_rule: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "rule": name,
            "column": st.get("column"),
            "severity": st.get("severity"),
            "expectation": st.get("expectation_type"),
            "failed": int(st.get("failed") or 0),
            "success": int(st.get("failed") or 0) == 0,
        }
        for name, st in sorted(per_rule.items())
    ]


def _publish_facts(summary: Mapping[str, Any]) -> Facts:
    """``publish_run`` returns the run summary: inputs, rows added per table, the quality per rule."""
    paths = LakePaths(Path(summary["lake"]))
    facts = _empty()
    facts["inputs"] = [_dump(i) for i in summary.get("inputs", [])]
    for table, rows, total in (
        ("cables", summary.get("cables", 0), summary.get("lake_cables")),
        ("quarantine", summary.get("quarantined", 0), summary.get("lake_quarantine")),
        ("runs", 1, None),
    ):
        facts["outputs"].append(
            {"uri": str(paths.table_dir(table).resolve()), "table": table, "rows": rows, "total_rows": total}
        )
    facts["quality"] = _quality(summary.get("per_rule") or {})
    return facts


def _validate_facts(summary_path: str) -> Facts:
    """``validate_run`` returns the path of ``<lake>/_staging/<run>/validated/summary.json``: the run's rows
    for ``cables`` were checked by the suite, rule by rule."""
    summary = json.loads(Path(summary_path).read_text(encoding="utf-8"))
    lake = LakePaths(Path(summary_path).resolve().parents[3])
    facts = _empty()
    facts["inputs"] = [{"uri": str(lake.table_dir("cables").resolve()), "table": "cables"}]
    facts["quality"] = _quality(summary.get("per_rule") or {})
    return facts


def _catalog_facts(catalogs: Sequence[str]) -> Facts:
    """``refresh_catalog`` returns the catalog's path (a list of them in the catalog DAG): it reads the
    lake's tables and writes the catalog."""
    facts = _empty()
    for catalog in catalogs:
        paths = LakePaths(Path(catalog).parent)
        facts["inputs"] += [
            {"uri": str(paths.table_dir(t).resolve()), "table": t} for t in ("cables", "quarantine", "runs")
        ]
        facts["outputs"].append({"uri": str(Path(catalog).resolve()), "table": "catalog", "rows": None})
    return facts


def _dashboard_facts(pages: Sequence[str]) -> Facts:
    """``build_dashboard`` returns the dashboard pages it wrote (``<lake>/_dashboard/index.html``); it
    reads the lake through its catalog."""
    facts = _empty()
    for page in pages:
        lake = LakePaths(Path(page).resolve().parents[1])
        facts["inputs"].append({"uri": str(lake.catalog.resolve()), "table": "catalog"})
        facts["outputs"].append({"uri": str(Path(page).resolve()), "table": "dashboard", "rows": None})
    return facts


def lineage_facts(step: str, result: Any) -> Facts:
    """The lineage facts of ``step`` (``parse_dump``, ``validate_run``, ``publish_run``, ``refresh_catalog``,
    ``build_dashboard``) from the value it returned; no facts for other steps or a missing result."""
    if result is None:
        return _empty()
    listed = [result] if isinstance(result, str) else list(result) if isinstance(result, Sequence) else None
    if step == "parse_dump" and listed is not None:
        return _parse_facts(listed)
    if step == "validate_run" and isinstance(result, str):
        return _validate_facts(result)
    if step == "publish_run" and isinstance(result, Mapping):
        return _publish_facts(result)
    if step == "refresh_catalog" and listed is not None:
        return _catalog_facts(listed)
    if step == "build_dashboard" and listed is not None:
        return _dashboard_facts(listed)
    return _empty()
