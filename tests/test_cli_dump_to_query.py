"""End to end from the CLI: a raw dump in, a DuckDB query out; bad records flagged or quarantined, never dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl import pipeline
from etl.catalog import connect

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample" / "dumps"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "etl.cli", *args], capture_output=True, text=True, cwd=cwd or REPO, timeout=600
    )


def test_sample_run_gives_design_example_row(tmp_path: Path) -> None:
    summary = pipeline.run([str(SAMPLE)], tmp_path / "lake")
    assert summary.records_found == summary.cables + summary.quarantined
    con = connect(tmp_path / "lake")
    row = con.execute(
        "select reference_id, sent_at, precedence, origin, classification, decl_date, tags, subject,"
        " source_uri, run_id, ingested_at from cables where reference_id = '07MOSCOW5349'"
    ).fetchone()
    assert row is not None
    rid, sent_at, prec, origin, classification, decl, tags, subject, src, run_id, ingested = row
    assert (sent_at.year, sent_at.month, sent_at.day, sent_at.hour, sent_at.minute) == (2007, 11, 9, 13, 41)
    assert sent_at.utcoffset().total_seconds() == 0
    assert prec == "O"
    assert origin == "AMEMBASSY MOSCOW"
    assert classification == "CONFIDENTIAL"
    assert str(decl) == "2017-11-09"
    assert tags == ["PGOV", "KPKO", "UN", "SU", "RS"]
    assert subject == "RUSSIAN DFM SALTANOV ON DARFUR AVIATION AND TRANSPORTATION SUPPORT"
    assert src.endswith("07MOSCOW5349.txt") and run_id == summary.run_id and ingested is not None


def test_sample_bad_records_are_flagged_or_quarantined_never_dropped(tmp_path: Path) -> None:
    summary = pipeline.run([str(SAMPLE)], tmp_path / "lake")
    assert summary.records_found == len(list(SAMPLE.iterdir()))
    con = connect(tmp_path / "lake")
    # an impossible DECL (February 30) is flagged, not invented and not fatal: kept with a warning
    decl, warnings = con.execute(
        "select decl_date, dq_warnings from cables where reference_id = '09PORTLOUIS77'"
    ).fetchone()
    assert decl is None and "decl_date_valid" in warnings
    # a corrupt DTG (30 FEB) makes the record untrustworthy: quarantined with the rule and its place
    rows = con.execute("select reasons, source_uri, source_location, raw_body from quarantine").fetchall()
    assert len(rows) == summary.quarantined == 1
    reasons, src, location, body = rows[0]
    assert "dtg_format" in reasons or "dtg_valid" in reasons, reasons
    assert src.endswith("10ULAANBAATAR0033.txt") and location and "GARBLED" in body.upper()


def test_lake_layout_and_parquet_metadata(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    pipeline.run([str(SAMPLE)], lake)
    files = sorted((lake / "cables").rglob("*.parquet"))
    assert files and all(f.parent.name.startswith("year=") for f in files)
    import pyarrow.parquet as pq

    md = pq.read_schema(files[0]).metadata
    assert md[b"cablelake.schema_version"]
    assert pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression == "ZSTD"
    assert (lake / "cables.duckdb").exists()
    con = duckdb.connect(str(lake / "cables.duckdb"), read_only=True)
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall()}
    assert {"cables", "quarantine"} <= views


@pytest.mark.corpus
def test_cli_accounts_for_every_cablegate_page(corpus: Path, tmp_path: Path) -> None:
    pages = sorted((corpus / "cablegate-html").rglob("*.html"))
    assert len(pages) == 2053
    lake = tmp_path / "lake"
    res = _cli("run", str(corpus / "cablegate-html"), "--lake", str(lake), "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["records_found"] == 2053
    assert summary["cables"] + summary["quarantined"] == 2053
    count = _cli("sql", "select count(*) as n from cables", "--lake", str(lake), "--format", "json")
    assert count.returncode == 0, count.stderr
    assert json.loads(count.stdout)[0]["n"] == summary["cables"]
    # every page is in exactly one place, by its source file
    con = connect(lake)
    seen = con.execute(
        "select source_uri from cables union all select source_uri from quarantine"
    ).fetchall()
    assert sorted(Path(s[0]).name for s in seen) == sorted(p.name for p in pages)
    # text summary prints the same counts
    human = _cli("sql", "select count(*) from quarantine", "--lake", str(lake))
    assert str(summary["quarantined"]) in human.stdout


def test_cli_names_a_source_that_does_not_exist(tmp_path: Path) -> None:
    res = _cli("run", str(tmp_path / "no-such-dump"), "--lake", str(tmp_path / "lake"))
    assert res.returncode == 2
    assert "no-such-dump: no such file or directory" in res.stderr
    both = _cli("run", str(tmp_path / "typo"), str(SAMPLE), "--lake", str(tmp_path / "lake"), "--json")
    assert both.returncode == 0 and "typo: no such file" in both.stderr
    assert json.loads(both.stdout)["records_found"] == len(list(SAMPLE.iterdir()))


def test_cli_run_with_a_relative_lake_path(tmp_path: Path) -> None:
    """``--lake lake`` (relative to the working directory) runs end to end: Great Expectations' Data Docs
    want an absolute folder, and a relative one once failed the run after parsing."""
    done = _cli("run", str(SAMPLE), "--lake", "lake", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["cables"] >= 3
    assert (tmp_path / "lake" / "_quality").is_dir()
