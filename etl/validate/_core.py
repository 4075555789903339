"""The validate step: derive helper columns, run the suite with GX, split rows by severity."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl.validate import _derive
from etl.validate._config import QualityConfig
from etl.validate._suite import Rule, SuiteError, load_suite, rules

SUITE = "cables"
WARNINGS_COLUMN = "dq_warnings"


@dataclass
class Validation:
    """Outcome of :func:`validate`."""

    cables: pa.Table
    """Rows passing every error-severity rule; ``dq_warnings`` lists the warning rules each row fails."""
    rejected: pa.Table
    """Rows (cables schema) failing at least one error-severity rule, in input order."""
    reasons: list[list[str]]
    """Per rejected row: names of the failed error rules (suite order)."""
    details: list[list[str]]
    """Per rejected row: one human-readable detail per reason (``rule: column='value'``)."""
    rule_stats: dict[str, dict[str, Any]]
    """Per rule: severity, column, expectation_type, failed, failed_share, status, description."""
    result_path: Path | None = None
    """GX validation result JSON (under the quality dir)."""
    docs_index: Path | None = None
    """GX Data Docs ``index.html`` (under the quality dir)."""
    rows: int = field(default=0)
    """Number of input rows."""


class ThresholdExceeded(Exception):
    """A run quarantined too much, or a rule failed on too large a share of rows."""

    def __init__(self, breaches: list[str]) -> None:
        super().__init__("; ".join(breaches))
        self.breaches = breaches


def columns_read(available: Iterable[str], suite: str = SUITE) -> list[str]:
    """The columns of a table with columns ``available`` that :func:`validate` reads, in ``available`` order.

    That is every column a rule reads directly, the sources of the helper columns it reads (also what the
    quarantine details show), and ``dq_warnings``. A caller may hand :func:`validate` just these columns
    (plus any of its own, e.g. a row number, which are passed through) to keep memory low.
    """
    names = list(available)
    present = set(names)
    wanted = {WARNINGS_COLUMN}
    for rule in rules(load_suite(suite)):
        for col in rule.columns:
            wanted.update(_derive.detail_columns(col, present))
    return [c for c in names if c in wanted]


def _runnable(all_rules: list[Rule], columns: set[str]) -> tuple[list[Rule], dict[str, str]]:
    run, skipped = [], {}
    for rule in all_rules:
        missing = [c for c in rule.columns if not _derive.available(c, columns)]
        if missing:
            skipped[rule.name] = f"skipped: column(s) {missing} not in the table"
        else:
            run.append(rule)
    return run, skipped


def _columns(table: pa.Table, names: list[str], params: dict[str, Any]) -> dict[str, pa.ChunkedArray]:
    """The columns the suite reads: table columns + derived helpers (a helper that cannot be had is absent)."""
    derived = _derive.derive(table, [n for n in names if n not in table.column_names], params)
    return {n: table[n] if n in table.column_names else derived[n]
            for n in names if n in table.column_names or n in derived}


# Expectations whose pandas implementation works on a Categorical as on strings (isin / isnull).
_CATEGORICAL_SAFE = frozenset({
    "expect_column_values_to_be_in_set", "expect_column_values_to_be_null", "expect_column_values_to_not_be_null",
})


def _frame(cols: dict[str, pa.ChunkedArray], runnable: list[Rule]) -> Any:
    """pandas frame for GX. String columns read only by in-set/null expectations are dictionary-encoded
    (pandas Categorical): GX filters the whole frame once per metric, and taking int codes is much cheaper
    than taking Arrow strings (about a quarter of GX's time on 250k rows)."""
    unsafe = {c for r in runnable if r.expectation_type not in _CATEGORICAL_SAFE for c in r.columns}
    return pa.table({
        name: pc.dictionary_encode(col) if pa.types.is_string(col.type) and name not in unsafe else col
        for name, col in cols.items()
    }).to_pandas()


def _fmt(value: Any) -> str:
    """A value for a detail line: dates/times in ISO form, everything else as its repr, capped."""
    text = value.isoformat() if hasattr(value, "isoformat") else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _warnings_column(table: pa.Table, per_row: dict[int, list[str]]) -> pa.ChunkedArray:
    """``dq_warnings`` = what the input had (if anything) + the failed warning rules, without duplicates."""
    n = table.num_rows
    typ = pa.list_(pa.string())
    existing = table[WARNINGS_COLUMN] if WARNINGS_COLUMN in table.column_names else None
    if existing is not None and pc.sum(pc.fill_null(pc.list_value_length(existing), 0)).as_py():
        old = existing.to_pylist()
        per_row = {i: list(dict.fromkeys([*(old[i] or []), *per_row.get(i, [])]))
                   for i in range(n) if old[i] or i in per_row}
    counts = np.zeros(n, dtype=np.int64)
    rows = sorted(per_row)
    counts[rows] = [len(per_row[i]) for i in rows]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    values = pa.array([name for i in rows for name in per_row[i]], pa.string())
    return pa.chunked_array([pa.ListArray.from_arrays(pa.array(offsets), values, type=typ)])


def validate(
    table: pa.Table,
    *,
    run_id: str,
    quality_dir: Path | None = None,
    config: QualityConfig | None = None,
) -> Validation:
    """Run the ``cables`` suite over ``table`` and split its rows by severity.

    Args:
        table: rows of the cables schema (extra columns are kept, missing ones make their rules skip).
        run_id: the run; names the GX validation and its Data Docs page.
        quality_dir: where to write the GX result JSON and Data Docs (``lake/_quality/<run_id>``); None
            writes nothing.
        config: thresholds and suite parameters; default :meth:`QualityConfig.load` (file/env).
    """
    from etl.validate._gx import run_suite  # GX is heavy: only when validating

    config = config or QualityConfig.load()
    suite = load_suite(SUITE)
    all_rules = rules(suite)
    runnable, skipped = _runnable(all_rules, set(table.column_names))
    n = table.num_rows

    failed: dict[str, list[int]] = {}
    result_path = docs_index = None
    if runnable and n:
        names = list(dict.fromkeys(c for r in runnable for c in r.columns))
        cols = _columns(table, names, suite.get("meta", {}).get("parameters", {}))
        for rule in [r for r in runnable if not all(c in cols for c in r.columns)]:
            skipped[rule.name] = "skipped: helper column could not be computed (vocabulary file missing?)"
            runnable.remove(rule)
        run_suite_dict = copy.deepcopy(suite)
        run_suite_dict["expectations"] = [r.config for r in runnable]
        outcome = run_suite(
            _frame(cols, runnable), run_suite_dict, parameters=config.suite_parameters(), run_id=run_id,
            quality_dir=quality_dir, data_docs=config.data_docs, list_cap=config.result_list_cap)
        if outcome.exceptions:
            raise SuiteError(f"GX could not evaluate rule(s): {outcome.exceptions}")
        failed, result_path, docs_index = outcome.failed, outcome.result_path, outcome.docs_index

    errors: dict[int, list[str]] = {}
    warnings: dict[int, list[str]] = {}
    for rule in runnable:
        target = errors if rule.severity == "error" else warnings
        for i in failed.get(rule.name, ()):
            target.setdefault(i, []).append(rule.name)

    column = _warnings_column(table, warnings)
    if WARNINGS_COLUMN in table.column_names:
        table = table.set_column(table.schema.get_field_index(WARNINGS_COLUMN), WARNINGS_COLUMN, column)
    else:
        table = table.append_column(WARNINGS_COLUMN, column)
    rejected_idx = sorted(errors)
    keep = np.ones(n, dtype=bool)
    keep[rejected_idx] = False
    cables = table.filter(pa.array(keep))
    rejected = table.take(pa.array(rejected_idx, pa.int64()))
    reasons = [errors[i] for i in rejected_idx]
    details = _details(table, rejected_idx, reasons, {r.name: r for r in runnable})

    stats = rule_stats(n, {name: len(rows) for name, rows in failed.items()}, skipped)
    if cables.num_rows + rejected.num_rows != n:  # pragma: no cover - invariant
        raise AssertionError("validate lost rows")
    return Validation(cables=cables, rejected=rejected, reasons=reasons, details=details, rule_stats=stats,
                      result_path=result_path, docs_index=docs_index, rows=n)


def rule_stats(rows: int, failed: Mapping[str, int], skipped: Mapping[str, str], suite: str = SUITE) -> dict[str, dict[str, Any]]:
    """Per rule of the suite: severity, column, expectation_type, failed (of ``rows``), failed_share, status
    (``evaluated`` or why it was skipped), description. Counts of several validations (the chunks of a run's
    parse workers) summed into ``failed`` give the run's figures."""
    stats: dict[str, dict[str, Any]] = {}
    for rule in rules(load_suite(suite)):
        count = int(failed.get(rule.name, 0))
        stats[rule.name] = {
            "severity": rule.severity,
            "column": rule.column,
            "expectation_type": rule.expectation_type,
            "failed": count,
            "failed_share": round(count / rows, 6) if rows else 0.0,
            "status": skipped.get(rule.name, "evaluated"),
            "description": rule.description,
        }
    return stats


def _details(table: pa.Table, idx: list[int], reasons: list[list[str]], by_name: dict[str, Rule]) -> list[list[str]]:
    """``rule: col='value'; ...`` per reason of every rejected row (values of the rule's source columns)."""
    if not idx:
        return []
    present = set(table.column_names)
    wanted = {c for rs in reasons for name in rs for col in by_name[name].columns
              for c in _derive.detail_columns(col, present) if c in present}
    taken = table.select(sorted(wanted)).take(pa.array(idx, pa.int64()))
    values = {c: taken[c].to_pylist() for c in taken.column_names}
    out: list[list[str]] = []
    for k, rs in enumerate(reasons):
        row: list[str] = []
        for name in rs:
            cols = [c for col in by_name[name].columns for c in _derive.detail_columns(col, present) if c in values]
            row.append(f"{name}: " + "; ".join(f"{c}={_fmt(values[c][k])}" for c in dict.fromkeys(cols)))
        out.append(row)
    return out


def check_thresholds(validation: Validation, config: QualityConfig | None = None) -> None:
    """Raise :class:`ThresholdExceeded` when the quarantined share or a rule's failure share is too high."""
    n = validation.rows or (validation.cables.num_rows + validation.rejected.num_rows)
    check_counts(n, validation.rejected.num_rows, validation.rule_stats, config)


def check_counts(n: int, rejected: int, stats: Mapping[str, dict[str, Any]], config: QualityConfig | None = None) -> None:
    """:func:`check_thresholds` on counts: ``rejected`` of ``n`` rows, ``stats`` from :func:`rule_stats` (the
    whole run's, summed over the validations of its parse workers)."""
    config = config or QualityConfig.load()
    breaches: list[str] = []
    if n:
        share = rejected / n
        if share > config.max_quarantine_share:
            breaches.append(f"quarantined share {share:.1%} of {n} rows exceeds {config.max_quarantine_share:.1%}")
    for name, st in stats.items():
        if st["severity"] != "error" and name not in config.rule_max_share:
            continue  # a warning keeps its rows: only a limit set for it by name can fail a run
        limit = config.limit_for(name)
        if st["failed_share"] > limit:
            breaches.append(f"rule {name} ({st['severity']}) failed {st['failed']} of {n} rows "
                            f"({st['failed_share']:.1%}) > max {limit:.1%}")
    if breaches:
        raise ThresholdExceeded(breaches)
