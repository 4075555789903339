"""The expectation suites in ``expectations/*.json``: loading them and reading their rule metadata.

A suite is plain GX 1.x ``ExpectationSuite`` JSON. Every expectation carries
``meta: {"rule": <stable name>, "severity": "error" | "warning", "description": ...}``; the rule name is what
ends up in ``quarantine.reasons`` / ``cables.dq_warnings`` and the severity decides between the two. Nothing
about a rule's severity lives in code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from etl._resources import resource_dir

Severity = Literal["error", "warning"]
SEVERITIES: tuple[str, ...] = ("error", "warning")

# Expectation kwargs that name the columns an expectation reads.
_COLUMN_KWARGS = ("column", "column_A", "column_B")
_COLUMN_LIST_KWARGS = ("column_list",)


class SuiteError(ValueError):
    """The suite file is malformed (missing rule/severity meta, duplicate rule names...)."""


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, seen as a data-quality rule."""

    name: str
    severity: Severity
    expectation_type: str
    columns: tuple[str, ...]
    description: str
    config: dict[str, Any]

    @property
    def column(self) -> str:
        """The columns the rule reads, comma-joined (for reports)."""
        return ",".join(self.columns)


def columns_of(expectation: dict[str, Any]) -> tuple[str, ...]:
    """Columns an expectation config reads (``column``, ``column_A``/``column_B``, ``column_list``)."""
    kwargs = expectation.get("kwargs", {})
    cols = [kwargs[k] for k in _COLUMN_KWARGS if isinstance(kwargs.get(k), str)]
    for k in _COLUMN_LIST_KWARGS:
        cols.extend(c for c in kwargs.get(k) or () if isinstance(c, str))
    return tuple(cols)


def load_suite(name: str = "cables") -> dict[str, Any]:
    """The suite ``expectations/<name>.json`` as a dict, checked for rule metadata.

    Read once per file version (``$CABLELAKE_EXPECTATIONS_DIR`` may point elsewhere, e.g. in tests).
    """
    path = resource_dir("expectations") / f"{name}.json"
    return _load(path, path.stat().st_mtime_ns)


@cache
def _load(path: Path, mtime_ns: int) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        suite: dict[str, Any] = json.load(fh)
    rules(suite)  # raises SuiteError when the metadata is incomplete
    return suite


def rules(suite: dict[str, Any]) -> list[Rule]:
    """The rules of ``suite`` in file order; raises :class:`SuiteError` on bad metadata."""
    out: list[Rule] = []
    seen: set[str] = set()
    for i, exp in enumerate(suite.get("expectations", [])):
        meta = exp.get("meta") or {}
        name, severity = meta.get("rule"), meta.get("severity")
        where = f"suite {suite.get('name')!r} expectation #{i} ({exp.get('type')})"
        if not isinstance(name, str) or not name:
            raise SuiteError(f"{where}: meta.rule missing")
        if severity not in SEVERITIES:
            raise SuiteError(f"{where}: meta.severity must be one of {SEVERITIES}, got {severity!r}")
        if name in seen:
            raise SuiteError(f"{where}: duplicate rule name {name!r}")
        seen.add(name)
        out.append(Rule(name=name, severity=severity, expectation_type=exp["type"], columns=columns_of(exp),
                        description=str(meta.get("description", "")), config=exp))
    return out
