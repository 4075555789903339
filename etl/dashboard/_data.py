"""What the dashboard shows, queried from the lake's catalog (one read-only DuckDB connection)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import duckdb

from etl.catalog import NEWEST_ROWS, SUMMARY_SCHEMA

TABLE_CAP = NEWEST_ROWS  # rows of the searchable table: the newest cables
TOP_ORIGINS = 20
TOP_TAGS = 25
WINDOW_MIN_MONTHS = 10 * 12  # the monthly chart shows at least this many months...
WINDOW_TAIL_SHARE = 0.05  # ...and leaves at most this share of cables (the oldest) to the per-year view

# Colours (colour-blind safe, after Okabe & Ito) for the classifications we know; others get FALLBACK.
PALETTE: dict[str, str] = {
    "UNCLASSIFIED": "#56B4E9",
    "UNCLASSIFIED//FOR OFFICIAL USE ONLY": "#0072B2",
    "CONFIDENTIAL": "#E69F00",
    "CONFIDENTIAL//NOFORN": "#D55E00",
    "SECRET": "#CC79A7",
    "SECRET//NOFORN": "#882255",
    "TOP SECRET": "#332288",
    "(none)": "#999999",
    "rule:error": "#B3261E",
    "rule:warning": "#E0A13A",
}
KIND_COLORS: dict[str, str] = {
    "kind:subject": "#0072B2",
    "kind:geographic": "#009E73",
    "kind:program": "#E69F00",
    "kind:organization": "#CC79A7",
    "kind:person": "#D55E00",
    "kind:other": "#8A8A8A",
    "kind:unknown": "#56B4E9",
}
FALLBACK = ["#009E73", "#F0E442", "#44AA99", "#117733", "#999933", "#AA4499", "#6699CC", "#888888"]

# The queries behind each figure (also used by the tests to check the page against the lake). They read the
# catalog's summaries (etl.catalog.SUMMARIES: tables computed when the catalog is built, views of the same SQL in
# a catalog built in memory), so a page costs a few hundred rows read, whatever the size of the lake.
Q_TOTALS = f"SELECT * FROM {SUMMARY_SCHEMA}.cable_totals"
Q_PER_MONTH = f"SELECT month, classification, n FROM {SUMMARY_SCHEMA}.cables_per_month ORDER BY month, classification"
Q_TOP_ORIGINS = f"SELECT origin, n FROM {SUMMARY_SCHEMA}.cables_per_origin ORDER BY n DESC, origin LIMIT {TOP_ORIGINS}"
Q_TOP_TAGS = f"SELECT tag, kind, n FROM {SUMMARY_SCHEMA}.cables_per_tag ORDER BY n DESC, tag LIMIT {TOP_TAGS}"
Q_TAG_COUNT = f"SELECT count(*) FROM {SUMMARY_SCHEMA}.cables_per_tag"
Q_DECL_PER_YEAR = f"SELECT year, n FROM {SUMMARY_SCHEMA}.decl_per_year ORDER BY year"
Q_WARNINGS = f"SELECT rule, n FROM {SUMMARY_SCHEMA}.warnings_per_rule ORDER BY n DESC, rule"
Q_QUARANTINE = f"SELECT reason, n FROM {SUMMARY_SCHEMA}.quarantine_per_reason ORDER BY n DESC, reason"
Q_TABLE = f"""
SELECT reference_id, strftime(sent_at, '%Y-%m-%d %H:%M') AS sent_at, origin, classification, subject,
       array_to_string(tags, ' ') AS tags
FROM {SUMMARY_SCHEMA}.newest_cables ORDER BY newest_cables.sent_at DESC NULLS LAST, reference_id LIMIT {TABLE_CAP}
"""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    return row[0] if row else None


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    ly, lm = int(last[:4]), int(last[5:7])
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _per_month(con: duckdb.DuckDBPyConnection, undated: int) -> dict[str, Any]:
    rows = _rows(con, Q_PER_MONTH)
    if not rows:
        return {"months": [], "years": [], "series": [], "undated": undated}
    all_months = _months(rows[0]["month"], rows[-1]["month"])
    years = sorted({m[:4] for m in all_months})
    months = all_months[_window_start(rows, all_months):]
    before = sum(r["n"] for r in rows if r["month"] < months[0])
    index = {m: i for i, m in enumerate(months)}
    yindex = {y: i for i, y in enumerate(years)}
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r["classification"]] += r["n"]
    order = sorted(totals, key=lambda c: (list(PALETTE).index(c) if c in PALETTE else len(PALETTE), c))
    series = []
    for cls in order:
        values = [0] * len(months)
        per_year = [0] * len(years)
        for r in rows:
            if r["classification"] == cls:
                if r["month"] in index:
                    values[index[r["month"]]] = r["n"]
                per_year[yindex[r["month"][:4]]] += r["n"]
        series.append({"name": cls, "values": values, "per_year": per_year, "total": totals[cls]})
    return {"months": months, "years": years, "series": series, "undated": undated, "before_window": before}


def _window_start(rows: list[dict[str, Any]], months: list[str]) -> int:
    """Index of the first month the monthly chart shows: over a long span (> 10 years) the sparse early
    tail (at most 5% of the cables) is left to the per-year view, so the busy years stay readable."""
    if len(months) <= WINDOW_MIN_MONTHS:
        return 0
    total = sum(r["n"] for r in rows)
    seen = 0
    per_month: Counter[str] = Counter()
    for r in rows:
        per_month[r["month"]] += r["n"]
    for i, m in enumerate(months):
        if seen + per_month[m] > WINDOW_TAIL_SHARE * total:
            return max(0, min(i, len(months) - WINDOW_MIN_MONTHS))
        seen += per_month[m]
    return 0


def _runs(con: duckdb.DuckDBPyConnection) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    runs = _rows(
        con,
        "SELECT run_id, strftime(started_at, '%Y-%m-%d %H:%M') AS started_at, status, records_found, cables, "
        "quarantined, per_rule, per_reason FROM runs ORDER BY runs.started_at DESC, run_id DESC LIMIT 30",
    )
    severity: dict[str, str] = {}
    for r in runs:
        per_rule = json.loads(r["per_rule"]) if r["per_rule"] else {}
        r["per_rule"] = {
            k: {"failed": int((v or {}).get("failed") or 0), "severity": str((v or {}).get("severity") or "")}
            for k, v in per_rule.items()
        }
        r["per_reason"] = json.loads(r["per_reason"]) if r["per_reason"] else {}
        for k, v in r["per_rule"].items():
            if v["failed"]:
                severity.setdefault(k, v["severity"] or "rule")
    runs.reverse()  # oldest of the last 30 first
    rules = [{"name": k, "severity": severity[k]} for k in sorted(severity, key=lambda k: (severity[k], k))]
    return runs, rules


def collect(con: duckdb.DuckDBPyConnection, lake: str) -> dict[str, Any]:
    """Every figure of the page, as plain JSON-able data."""
    totals = _rows(con, Q_TOTALS)[0]
    undated = int(totals.pop("undated") or 0)
    totals.update(
        quarantined=int(_scalar(con, "SELECT count(*) FROM quarantine") or 0),
        runs=int(_scalar(con, "SELECT count(*) FROM runs") or 0),
        tags=int(_scalar(con, Q_TAG_COUNT) or 0),
    )
    totals["decl_undated"] = totals["cables"] - totals["decl_dated"]
    top_tags = _rows(con, Q_TOP_TAGS)
    kinds = sorted({t["kind"] or "unknown" for t in top_tags})
    runs, run_rules = _runs(con)
    table = _rows(con, Q_TABLE)
    now = datetime.now(UTC)
    return {
        "generated_at": now.strftime("%Y-%m-%d %H:%M"),
        "this_year": now.year,
        "lake": lake,
        "totals": totals,
        "palette": PALETTE | KIND_COLORS,
        "fallback_colors": FALLBACK,
        "per_month": _per_month(con, undated),
        "top_origins": _rows(con, Q_TOP_ORIGINS),
        "top_tags": top_tags,
        "tag_kinds": kinds,
        "decl_per_year": _rows(con, Q_DECL_PER_YEAR),
        "quality": {
            "warnings": _rows(con, Q_WARNINGS),
            "quarantine": _rows(con, Q_QUARANTINE),
            "runs": runs,
            "run_rules": run_rules,
        },
        "table": {
            "columns": ["reference_id", "sent_at", "origin", "classification", "subject", "tags"],
            "rows": [list(r.values()) for r in table],
            "total": totals["cables"],
            "cap": TABLE_CAP,
        },
    }
