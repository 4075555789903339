"""The static dashboard: what it writes, that it is offline, and (in headless Chromium) that the charts
show the lake's real numbers."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from _browser import Dom, dump_dom, screenshot

from etl import catalog, dashboard
from etl.dashboard import _data

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _data_of(site: Path) -> dict:
    text = (site / "data.js").read_text(encoding="utf-8")
    prefix = "window.CABLELAKE_DATA = "
    assert text.startswith(prefix)
    return json.loads(text[len(prefix) :].rstrip().rstrip(";"))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


@pytest.fixture(scope="module")
def tiny_site(tiny_lake: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dashboard.build(tiny_lake, tmp_path_factory.mktemp("site")).parent


def test_build_writes_a_self_contained_site(tiny_site: Path) -> None:
    names = {p.relative_to(tiny_site).as_posix() for p in tiny_site.rglob("*") if p.is_file()}
    assert names == {"index.html", "data.js", "assets/app.js", "assets/charts.js", "assets/style.css"}


def test_site_makes_no_network_requests(tiny_site: Path) -> None:
    for f in tiny_site.rglob("*"):
        if f.suffix not in (".html", ".js", ".css"):
            continue
        text = f.read_text(encoding="utf-8")
        if f.name == "data.js":
            continue  # data only (cable subjects may quote URLs)
        refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", text) + re.findall(r"url\(([^)]+)\)", text)
        assert all(not re.match(r"(?i)(https?:)?//", r) for r in refs), (f, refs)
        assert not re.search(r"\bfetch\(|XMLHttpRequest|import\(|@import", text), f
    index = (tiny_site / "index.html").read_text(encoding="utf-8")
    assert '<script src="data.js">' in index  # data in a script: works from file://


def test_data_matches_the_lake(tiny_lake: Path, tiny_site: Path) -> None:
    data = _data_of(tiny_site)
    con = catalog.connect(tiny_lake)
    try:
        assert data["totals"]["cables"] == con.execute("SELECT count(*) FROM cables").fetchone()[0]  # type: ignore[index]
        assert [(d["origin"], d["n"]) for d in data["top_origins"]] == _rows(con, _data.Q_TOP_ORIGINS)
        assert [(d["tag"], d["kind"], d["n"]) for d in data["top_tags"]] == _rows(con, _data.Q_TOP_TAGS)
        assert [(d["reason"], d["n"]) for d in data["quality"]["quarantine"]] == _rows(con, _data.Q_QUARANTINE)
        per_month = Counter()
        for s in data["per_month"]["series"]:
            for month, v in zip(data["per_month"]["months"], s["values"], strict=True):
                per_month[(month, s["name"])] += v
        assert {k: v for k, v in per_month.items() if v} == {(m, c): n for m, c, n in _rows(con, _data.Q_PER_MONTH)}
    finally:
        con.close()


def test_table_is_capped_at_the_newest_cables(tiny_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_data, "Q_TABLE", _data.Q_TABLE.replace(f"LIMIT {_data.TABLE_CAP}", "LIMIT 10"))
    data = _data_of(dashboard.build(tiny_lake, tmp_path).parent)
    rows = data["table"]["rows"]
    assert len(rows) == 10 and data["table"]["total"] > 10
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)


def test_subjects_are_data_not_markup(tiny_site: Path) -> None:
    text = (tiny_site / "data.js").read_text(encoding="utf-8")
    assert "<script>" not in text and "\\u003cscript>" in text  # "</script>" can never close a tag


def test_empty_lake_builds(tmp_path: Path) -> None:
    catalog.refresh(tmp_path / "lake")
    site = dashboard.build(tmp_path / "lake", tmp_path / "site").parent
    data = _data_of(site)
    assert data["totals"]["cables"] == 0 and data["per_month"]["months"] == []


def test_default_output_is_inside_the_lake(tiny_lake: Path) -> None:
    assert dashboard.build(tiny_lake) == tiny_lake / "_dashboard" / "index.html"


# ------------------------------------------------------------------------------------- in the browser


def test_empty_lake_renders_in_chromium(tmp_path: Path) -> None:
    catalog.refresh(tmp_path / "lake")
    dom = Dom(dump_dom(dashboard.build(tmp_path / "lake", tmp_path / "site")))
    assert dom.body.get("data-rendered") == "true"
    assert dom.kpis["kpi-cables"] == 0


@pytest.mark.corpus
def test_charts_show_the_corpus_lake_numbers(lake_from_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Opens the dashboard of the corpus lake in headless Chromium and checks every chart against DuckDB."""
    site = tmp_path_factory.mktemp("corpus-site")
    index = dashboard.build(lake_from_corpus, site)
    dom = Dom(dump_dom(index))
    screenshot(index, ARTIFACTS / "dashboard.png")
    assert dom.body.get("data-rendered") == "true", "app.js did not finish"

    con = catalog.connect(lake_from_corpus)
    try:
        n_cables = con.execute("SELECT count(*) FROM cables").fetchone()[0]  # type: ignore[index]
        assert n_cables > 1000
        assert dom.kpis["kpi-cables"] == n_cables
        assert dom.kpis["kpi-quarantined"] == con.execute("SELECT count(*) FROM quarantine").fetchone()[0]  # type: ignore[index]

        # cables per month by classification: every bar segment is a (month, classification) count
        shown = Counter()
        for b in dom.bars["per-month"]:
            shown[(b["label"], b["series"])] += int(b["value"])
        expected = {(m, c): n for m, c, n in _rows(con, _data.Q_PER_MONTH)}
        first = min(m for m, _ in shown)
        assert dict(shown) == {k: v for k, v in expected.items() if k[0] >= first}
        data = _data_of(site)
        assert sum(shown.values()) + data["per_month"]["before_window"] == sum(expected.values())

        assert dom.hbars["origins"] == [(o, n) for o, n in _rows(con, _data.Q_TOP_ORIGINS)]
        assert dom.hbars["tags"] == [(t, n) for t, _, n in _rows(con, _data.Q_TOP_TAGS)]
        assert dom.hbars["quarantine"] == _rows(con, _data.Q_QUARANTINE)
        assert dom.hbars["warnings"] == _rows(con, _data.Q_WARNINGS)

        decl = Counter()
        for b in dom.bars["decl"]:
            decl[int(b["label"])] += int(b["value"])
        assert dict(decl) == dict(_rows(con, _data.Q_DECL_PER_YEAR))

        newest = con.execute("SELECT reference_id FROM cables ORDER BY sent_at DESC NULLS LAST, reference_id LIMIT 1").fetchone()
        assert newest is not None and dom.table_rows[0] == newest[0]
        assert len(dom.table_rows) == min(200, n_cables)  # first page of the table
    finally:
        con.close()


@pytest.mark.corpus
def test_search_filters_the_table_in_chromium(lake_from_corpus: Path, tmp_path: Path) -> None:
    index = dashboard.build(lake_from_corpus, tmp_path)
    con = catalog.connect(lake_from_corpus)
    try:
        row = con.execute(
            "SELECT reference_id FROM cables WHERE reference_id IS NOT NULL ORDER BY sent_at DESC NULLS LAST LIMIT 1 OFFSET 7"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    dom = Dom(dump_dom(index, fragment="#search=" + row[0]))
    assert row[0] in dom.table_rows and len(dom.table_rows) < 20
