"""Validate stage: data-quality rules (GX 1.x suites in ``expectations/*.json``) over a run's cables.

Public face::

    validation = validate(table, run_id="...", quality_dir=Path("lake/_quality/<run_id>"))
    check_thresholds(validation, config)      # raises ThresholdExceeded naming the rule / share
    columns_read(table.column_names)          # the columns validate() needs (hand it only those)

Rows failing an ``error`` rule go to ``Validation.rejected`` (with every failed error rule in ``reasons``);
rows failing only ``warning`` rules stay in ``Validation.cables`` with the rule names in ``dq_warnings``.
Which rule has which severity is declared in the suite JSON only. Nothing is dropped:
``cables.num_rows + rejected.num_rows == table.num_rows``.

Great Expectations is imported lazily, inside :func:`validate`.
"""

from __future__ import annotations

from etl.validate._config import QualityConfig
from etl.validate._core import (
    ThresholdExceeded,
    Validation,
    check_counts,
    check_thresholds,
    columns_read,
    rule_stats,
    validate,
)
from etl.validate._suite import Rule, SuiteError, load_suite, rules

__all__ = [
    "QualityConfig",
    "Rule",
    "SuiteError",
    "ThresholdExceeded",
    "Validation",
    "check_counts",
    "check_thresholds",
    "columns_read",
    "load_suite",
    "rule_stats",
    "rules",
    "validate",
]
