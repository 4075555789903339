"""The catalog's views: shapes, tolerance of old partitions and an empty lake, comments, read-only use."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from _analyst_lakes import cable_rows

from etl import catalog
from etl.lake import write_parquet
from etl.schema import declaration, schema


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_every_view_exists_and_answers(tiny_lake: Path) -> None:
    con = catalog.connect(tiny_lake)
    try:
        names = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        assert set(catalog.VIEWS) <= names
        for view in catalog.VIEWS:
            con.execute(f"SELECT * FROM {view} LIMIT 1").fetchall()
    finally:
        con.close()


def test_counts_match_what_was_written(tiny_lake: Path) -> None:
    rows = cable_rows()
    con = catalog.connect(tiny_lake)
    try:
        assert _one(con, "SELECT count(*) FROM cables") == len(rows) + 1  # + the old-partition row
        assert _one(con, "SELECT count(*) FROM quarantine") == 4
        assert _one(con, "SELECT count(*) FROM runs") == 1
        assert _one(con, "SELECT count(*) FROM cable_tags") == sum(len(r["tags"]) for r in rows)
        assert _one(con, "SELECT count(*) FROM cable_paragraphs") == sum(len(r.get("paragraphs") or []) for r in rows)
        n_to = sum(len(r.get("to_addressees") or []) for r in rows)
        n_info = sum(len(r.get("info_addressees") or []) for r in rows)
        assert con.execute("SELECT kind, count(*) FROM cable_recipients GROUP BY kind ORDER BY kind").fetchall() == [
            ("INFO", n_info),
            ("TO", n_to),
        ]
    finally:
        con.close()


def test_year_partition_is_typed_and_null_partition_is_null(tiny_lake: Path) -> None:
    con = catalog.connect(tiny_lake)
    try:
        types = dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'cables'").fetchall())
        assert types["year"] == "INTEGER"
        assert _one(con, "SELECT count(*) FROM quarantine WHERE year IS NULL") == 2
        assert _one(con, "SELECT count(*) FROM cables WHERE year = 1999") == 1
    finally:
        con.close()


def test_old_partition_without_new_columns_reads_as_nulls(tiny_lake: Path) -> None:
    con = catalog.connect(tiny_lake)
    try:
        row = con.execute(
            "SELECT origin, sent_at, tags, tag_details, paragraphs FROM cables WHERE reference_id = '99OLDPOST1'"
        ).fetchone()
        assert row == ("AMEMBASSY OLDPOST", None, None, None, None)
        # every declared column is there, whether or not any file has it
        cols = [r[0] for r in con.execute("DESCRIBE cables").fetchall()]
        assert cols[: len(schema("cables").names)] == schema("cables").names
    finally:
        con.close()


def test_cable_tags_falls_back_to_tags_for_rows_without_tag_details(tiny_lake: Path) -> None:
    rows = cable_rows()
    con = catalog.connect(tiny_lake)
    try:
        got = con.execute(
            "SELECT kind IS NULL AS unknown, count(*) FROM cable_tags GROUP BY ALL ORDER BY unknown"
        ).fetchall()
        with_details = sum(len(r["tags"]) for r in rows if r.get("tag_details"))
        without = sum(len(r["tags"]) for r in rows if not r.get("tag_details"))
        assert got == [(False, with_details), (True, without)]
        # positions follow the TAGS order
        first = rows[1]
        tags = con.execute(
            "SELECT tag FROM cable_tags WHERE reference_id = ? ORDER BY position", [first["reference_id"]]
        ).fetchall()
        assert [t[0] for t in tags] == first["tags"]
    finally:
        con.close()


def test_cable_references_joins_the_cited_cable_when_in_the_lake(tiny_lake: Path) -> None:
    rows = cable_rows()
    ids = {r["reference_id"] for r in rows}
    edges = [(r["reference_id"], ref["reference_id"]) for r in rows for ref in r.get("references") or []]
    con = catalog.connect(tiny_lake)
    try:
        got = con.execute(
            "SELECT reference_id, cited_id, cited_in_lake, cited_subject FROM cable_references"
        ).fetchall()
        assert sorted((a, b) for a, b, _, _ in got) == sorted(edges)
        subjects = {r["reference_id"]: r["subject"] for r in rows}
        for _, cited, in_lake, subject in got:
            assert in_lake == (cited in ids)
            assert subject == subjects.get(cited)
    finally:
        con.close()


def test_empty_lake_gives_empty_typed_views(tmp_path: Path) -> None:
    catalog.refresh(tmp_path)
    con = catalog.connect(tmp_path)
    try:
        for view in catalog.VIEWS:
            assert _one(con, f"SELECT count(*) FROM {view}") == 0
        cols = [r[0] for r in con.execute("DESCRIBE cables").fetchall()]
        assert cols == schema("cables").names
    finally:
        con.close()


def test_every_view_and_column_is_documented(tmp_path: Path) -> None:
    con = catalog.connect(tmp_path)
    try:
        for name, comment, cols in catalog.describe_views(con):
            assert comment, f"view {name} has no comment"
            missing = [c for c, _, d in cols if not d and name != "catalog_info"]
            assert not missing, f"{name}: columns without a description: {missing}"
        desc = _one(con, "SELECT comment FROM duckdb_columns() WHERE table_name = 'cables' AND column_name = 'dtg'")
        assert desc == next(c["description"] for c in declaration("cables")["columns"] if c["name"] == "dtg")
    finally:
        con.close()


def test_data_dictionary_is_in_sync(repo: Path) -> None:
    doc = repo / "docs" / "data-dictionary.md"
    assert doc.read_text(encoding="utf-8") == catalog.data_dictionary(), (
        "docs/data-dictionary.md is out of date: run `cablelake dictionary -o docs/data-dictionary.md`"
    )


def test_catalog_opens_read_only(tiny_lake: Path) -> None:
    con = catalog.connect(tiny_lake, read_only=True)
    try:
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE x (a int)")
    finally:
        con.close()


def test_a_new_file_makes_the_catalog_stale_and_connect_refreshes_it(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    catalog.refresh(lake)
    con = catalog.connect(lake)
    assert _one(con, "SELECT count(*) FROM cables") == 0
    con.close()
    write_parquet(pa.table({"reference_id": ["10NEW1"], "source_uri": ["x"]}), lake / "cables" / "year=2010" / "a.parquet")
    con = catalog.connect(lake)
    try:
        assert _one(con, "SELECT count(*) FROM cables WHERE year = 2010") == 1
    finally:
        con.close()


def test_moved_lake_is_rebuilt_for_its_new_place(tiny_lake: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    shutil.copytree(tiny_lake, moved)
    con = catalog.connect(moved)
    try:
        assert _one(con, "SELECT lake_root FROM catalog_info") == str(moved.resolve())
        assert _one(con, "SELECT count(*) FROM cables") == len(cable_rows()) + 1
    finally:
        con.close()


def test_refresh_swaps_under_an_open_reader(tiny_lake: Path) -> None:
    reader = catalog.connect(tiny_lake)
    try:
        before = _one(reader, "SELECT count(*) FROM cables")
        catalog.refresh(tiny_lake)
        assert _one(reader, "SELECT count(*) FROM cables") == before
    finally:
        reader.close()


def test_a_column_added_to_the_schema_appears_as_nulls_in_old_files(
    tiny_lake: Path, tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = tmp_path / "schemas"
    shutil.copytree(repo / "schemas", planted)
    decl = json.loads((planted / "cables.json").read_text(encoding="utf-8"))
    decl["columns"].insert(-1, {"name": "brand_new", "type": {"list": "string"}, "description": "Added later."})
    (planted / "cables.json").write_text(json.dumps(decl), encoding="utf-8")
    monkeypatch.setenv("CABLELAKE_SCHEMAS_DIR", str(planted))
    declaration.cache_clear()
    schema.cache_clear()
    try:
        lake = tmp_path / "lake"
        shutil.copytree(tiny_lake, lake)
        catalog.refresh(lake)
        con = catalog.connect(lake)
        try:
            assert _one(con, "SELECT count(*) FROM cables WHERE brand_new IS NULL") == len(cable_rows()) + 1
            assert _one(con, "SELECT comment FROM duckdb_columns() WHERE column_name = 'brand_new'") == "Added later."
        finally:
            con.close()
    finally:
        monkeypatch.delenv("CABLELAKE_SCHEMAS_DIR")
        declaration.cache_clear()
        schema.cache_clear()


@pytest.mark.corpus
def test_committed_lake_views_list_only_committed_files(lake_from_corpus: Path, tmp_path: Path) -> None:
    """A Parquet file the commit record does not list (a crashed run's) is not part of the views, and a
    reader of a moved lake gets in-memory views while the catalog file stays the writer's."""
    lake = tmp_path / "lake"
    shutil.copytree(lake_from_corpus, lake, ignore=shutil.ignore_patterns("_lock"))
    con = catalog.connect(lake_from_corpus)
    try:
        expected = _one(con, "SELECT count(*) FROM cables")
    finally:
        con.close()
    stray = lake / "cables" / "year=2009" / "crashed-run-0000.parquet"
    write_parquet(pa.table({"reference_id": ["09STRAY1"], "source_uri": ["x"]}), stray)
    before = (lake / "cables.duckdb").stat().st_mtime_ns
    con = catalog.connect(lake)  # moved: the catalog file points at the old place
    try:
        assert _one(con, "SELECT count(*) FROM cables") == expected
        assert _one(con, "SELECT lake_root FROM catalog_info") == str(lake.resolve())
    finally:
        con.close()
    assert (lake / "cables.duckdb").stat().st_mtime_ns == before
