"""The catalog's summaries (what the dashboard reads): tables in the catalog file, equal to their SQL run
on the views of the same version; views of that SQL in a catalog built in memory; kept by a no-op run's
catalog refresh (which replaces only the runs view) and recomputed by a publish."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb

from etl import catalog, pipeline
from etl.lake import LakePaths

LIVE_ONLY = {"cables_per_tag": "SELECT tag, count(*) AS n FROM cable_tags WHERE tag IS NOT NULL GROUP BY tag"}
"""``mode(kind)`` of a tag whose kinds tie may pick either: compare the counts."""


def _bag(con: duckdb.DuckDBPyConnection, sql: str) -> Counter[tuple[object, ...]]:
    return Counter(tuple(tuple(v) if isinstance(v, list) else v for v in r) for r in con.execute(sql).fetchall())


def _summary_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT table_name, 'table' FROM duckdb_tables() WHERE schema_name = ? "
        "UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE schema_name = ?",
        [catalog.SUMMARY_SCHEMA, catalog.SUMMARY_SCHEMA],
    ).fetchall()
    return dict(rows)


def _check_against_views(con: duckdb.DuckDBPyConnection) -> None:
    for name, sql in catalog.SUMMARIES.items():
        stored = f"SELECT * FROM {catalog.SUMMARY_SCHEMA}.{name}"
        if name in LIVE_ONLY:
            stored, sql = f"SELECT tag, n FROM {catalog.SUMMARY_SCHEMA}.{name}", LIVE_ONLY[name]
        assert _bag(con, stored) == _bag(con, sql), name


def test_summaries_are_tables_equal_to_their_sql(tiny_lake: Path) -> None:
    catalog.refresh(tiny_lake)
    con = catalog.connect(tiny_lake)
    try:
        assert _summary_tables(con) == dict.fromkeys(catalog.SUMMARIES, "table")
        assert con.execute(f"SELECT cables FROM {catalog.SUMMARY_SCHEMA}.cable_totals").fetchone() == \
            con.execute("SELECT count(*) FROM cables").fetchone() != (0,)
        _check_against_views(con)
    finally:
        con.close()


def test_an_in_memory_catalog_has_them_as_views(tiny_lake: Path) -> None:
    con = catalog._in_memory(LakePaths(tiny_lake))  # what connect() gives for a stale file or --as-of
    try:
        assert _summary_tables(con) == dict.fromkeys(catalog.SUMMARIES, "view")
        _check_against_views(con)
    finally:
        con.close()


def test_noop_keeps_them_and_a_publish_recomputes_them(tmp_path: Path) -> None:
    dumps = tmp_path / "in"
    dumps.mkdir()
    sample = Path(__file__).resolve().parents[2] / "sample" / "dumps"
    files = sorted(p for p in sample.iterdir() if p.is_file())
    (dumps / files[0].name).write_bytes(files[0].read_bytes())
    lake = tmp_path / "lake"
    pipeline.run([str(dumps)], lake)

    def totals() -> tuple[object, ...] | None:
        con = catalog.connect(lake)
        try:
            _check_against_views(con)
            return con.execute(f"SELECT cables, warned FROM {catalog.SUMMARY_SCHEMA}.cable_totals").fetchone()
        finally:
            con.close()

    first = totals()
    assert pipeline.run([str(dumps)], lake).operation == "noop"
    assert totals() == first
    for f in files[1:]:
        (dumps / f.name).write_bytes(f.read_bytes())
    assert pipeline.run([str(dumps)], lake).operation == "publish"
    after = totals()
    assert after is not None and first is not None and after[0] > first[0]  # type: ignore[operator]
