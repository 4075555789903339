"""Idempotent, incremental runs (manifest by sha256), dedup, full refresh, replay, schema check."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from _cables import SAMPLE, Maker, cable_text, many

import etl.pipeline._parse as parse_mod
import etl.pipeline._validate as validate_mod
from etl import lake as lakelib
from etl import pipeline
from etl.catalog import connect


def _ids(lake: Path) -> list[str]:
    con = connect(lake)
    try:
        return sorted(r[0] for r in con.execute("select reference_id from cables").fetchall())
    finally:
        con.close()


def _rows(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    con = connect(lake)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _content(lake: Path) -> list[dict[str, Any]]:
    """cables rows without the per-run columns, in id order (to compare lakes built by different runs)."""
    t = lakelib.read_table(lake, "cables").drop_columns(["run_id", "ingested_at", "also_seen_in"])
    return sorted(t.to_pylist(), key=lambda r: r["reference_id"])


def test_rerun_with_nothing_new_parses_nothing(tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = make_dump("in", many(30))
    lake = tmp_path / "lake"
    t0 = time.perf_counter()
    first = pipeline.run([str(tmp_path / "in"), str(SAMPLE)], lake)
    full = time.perf_counter() - t0
    assert first.operation == "publish" and first.cables == 33

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("a rerun with nothing new must not parse or validate")

    monkeypatch.setattr(parse_mod, "parse_shard", boom)
    monkeypatch.setattr(validate_mod, "validate_run", boom)
    monkeypatch.setattr(parse_mod, "parse", boom)
    t0 = time.perf_counter()
    again = pipeline.run([str(tmp_path / "in"), str(SAMPLE)], lake)
    noop = time.perf_counter() - t0
    assert again.operation == "noop" and again.records_found == 0
    assert {s["reason"] for s in again.skipped} == {"already_ingested"} and len(again.skipped) == 34
    assert _ids(lake) == sorted([*ids, "07MOSCOW5349", "08VALLETTA412", "09PORTLOUIS77"])
    runs = _rows(lake, "select operation, records_found, lake_cables from runs order by lake_version")
    assert runs == [("publish", 34, 33), ("noop", 0, 33)]
    assert noop < full and noop < 10
    print(f"\nfull run {full:.2f}s, no-op rerun {noop:.2f}s")  # figures for the report


def test_same_dump_twice(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(3))
    shutil.copytree(tmp_path / "a", tmp_path / "copy")  # same bytes under another name, in the same run
    lake = tmp_path / "lake"
    s = pipeline.run([str(tmp_path / "a"), str(tmp_path / "copy")], lake)
    assert s.records_found == 3 and s.cables == 3
    assert [x["reason"] for x in s.skipped] == ["same_content"] * 3
    s2 = pipeline.run([str(tmp_path / "copy")], lake)  # and again in a later run
    assert s2.operation == "noop"
    assert len(_ids(lake)) == 3 == len(set(_ids(lake)))
    assert _rows(lake, "select count(*) from quarantine") == [(0,)]


def test_changed_dump_is_reprocessed(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", [("PARIS", 7, 2006)])
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "a")], lake)
    make_dump("a", [("PARIS", 7, 2006)], paragraphs=5)  # the same file, corrected: longer text
    s = pipeline.run([str(tmp_path / "a")], lake)
    assert s.operation == "publish" and s.records_found == 1 and s.displaced == 1
    (body, n_seen), = _rows(lake, "select body, len(also_seen_in) from cables")
    assert "paragraph 5" in body and n_seen == 1
    assert _rows(lake, "select reasons, stage from quarantine") == [(["duplicate"], "lake")]


@pytest.mark.parametrize("order", ["short_first", "long_first", "one_run"])
def test_same_cable_in_two_dumps(tmp_path: Path, make_dump: Maker, order: str) -> None:
    make_dump("short", [("OSLO", 41, 2008), ("OSLO", 42, 2008)], paragraphs=2)
    make_dump("long", [("OSLO", 41, 2008)], paragraphs=6)
    lake = tmp_path / "lake"
    short, long_ = str(tmp_path / "short"), str(tmp_path / "long")
    if order == "one_run":
        summaries = [pipeline.run([short, long_], lake)]
    elif order == "short_first":
        summaries = [pipeline.run([short], lake), pipeline.run([long_], lake)]
    else:
        summaries = [pipeline.run([long_], lake), pipeline.run([short], lake)]
    assert _ids(lake) == ["08OSLO41", "08OSLO42"]
    # the most complete copy (longest body) wins, the other one is listed as lineage ...
    (uri, seen), = _rows(lake, "select source_uri, also_seen_in from cables where reference_id = '08OSLO41'")
    assert "/long/" in uri
    assert len(seen) == 1 and "/short/" in seen[0]["source_uri"] and seen[0]["run_id"]
    # ... and accounted for: a quarantine row with reason duplicate naming the winner
    (reasons, stage, detail, q_uri), = _rows(lake, "select reasons, stage, details[1], source_uri from quarantine")
    assert reasons == ["duplicate"] and stage == "lake" and "/short/" in q_uri
    assert "08OSLO41" in detail and "/long/" in detail
    # every input record in exactly one place, per run and for the lake
    assert sum(s.records_found for s in summaries) == 3
    assert all(s.records_found == s.cables + s.quarantined for s in summaries)
    assert sum(s.duplicates + s.displaced for s in summaries) == 1
    assert _rows(lake, "select count(*) from cables")[0][0] + _rows(lake, "select count(*) from quarantine")[0][0] == 3


def test_full_refresh_gives_the_same_rows(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(12))
    make_dump("b", many(6, start=100) + [("ROME", 3, 2007)])
    make_dump("c", [("ROME", 3, 2007)], paragraphs=4)
    lake = tmp_path / "lake"
    dirs = [str(tmp_path / d) for d in ("a", "b", "c")]
    for d in dirs:  # incremental, three nights
        pipeline.run([d, str(SAMPLE)], lake)
    incremental = _content(lake)
    q_before = _rows(lake, "select count(*) from quarantine")
    s1 = pipeline.run([*dirs, str(SAMPLE)], lake, full_refresh=True)
    assert s1.operation == "full_refresh" and s1.records_found == 24
    refreshed = _content(lake)
    s2 = pipeline.run([*dirs, str(SAMPLE)], lake, full_refresh=True)
    assert _content(lake) == refreshed  # deterministic: same inputs, same rows
    for a, b in zip(refreshed, incremental, strict=True):
        assert {k: v for k, v in a.items() if a[k] != b[k]} == {k: v for k, v in b.items() if a[k] != b[k]}, a["reference_id"]
    assert refreshed == incremental  # and the same as the incremental history
    assert _rows(lake, "select count(*) from quarantine") == q_before
    assert s2.lake_cables == len(refreshed) == 22
    runs = _rows(lake, "select operation from runs order by lake_version")
    assert [r[0] for r in runs][-2:] == ["full_refresh", "full_refresh"]


def test_full_refresh_without_inputs_is_refused(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(2))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "a")], lake)
    with pytest.raises(pipeline.NothingToRefreshError):
        pipeline.run([str(tmp_path / "empty-*")], lake, full_refresh=True)
    assert len(_ids(lake)) == 2


def test_replay_quarantine_moves_rows_that_now_pass(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = make_dump("a", many(4))
    lake = tmp_path / "lake"
    real_parse = parse_mod.parse

    def broken(rec: Any) -> dict[str, Any]:  # yesterday's parser could not read the MOSCOW banner
        fields = real_parse(rec)
        if "MOSCOW" in (rec.body or ""):
            fields["reference_id"] = fields["canonical_id"] = None
        return fields

    monkeypatch.setattr(parse_mod, "parse", broken)
    first = pipeline.run([str(tmp_path / "a"), str(SAMPLE)], lake)
    assert first.quarantined == 3  # two MOSCOW cables (ours + the sample's) + the corrupt sample DTG
    monkeypatch.setattr(parse_mod, "parse", real_parse)
    replay = pipeline.run([], lake, replay_quarantine=True)
    assert replay.operation == "replay" and replay.replayed == 2
    assert replay.records_found == 2 == replay.cables
    assert sorted(_ids(lake)) == sorted([*ids, "07MOSCOW5349", "08VALLETTA412", "09PORTLOUIS77"])
    # the record that still fails keeps its original row (first run's id), nothing is doubled
    left = _rows(lake, "select run_id, source_uri from quarantine")
    assert len(left) == 1 and left[0][0] == first.run_id and left[0][1].endswith("10ULAANBAATAR0033.txt")
    again = pipeline.run([], lake, replay_quarantine=True)
    assert again.replayed == 0 and again.records_found == 0
    assert len(_rows(lake, "select 1 from quarantine")) == 1


def test_incompatible_schema_is_refused_with_migration_hint(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(2))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "a")], lake)
    # a lake version recording an incompatible cables schema, as if written by an older cablelake
    lakelib.Transaction(lake, "old", "publish").commit({"cables": "0.9.0"})
    make_dump("b", many(1, start=50))
    with pytest.raises(lakelib.SchemaMismatchError, match="--full-refresh"):
        pipeline.run([str(tmp_path / "b")], lake)
    s = pipeline.run([str(tmp_path / "a"), str(tmp_path / "b")], lake, full_refresh=True)
    assert s.lake_cables == 3 and lakelib.read_current(lake).schema_versions["cables"] != "0.9.0"


def test_catalog_reads_only_committed_files(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(3))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "a")], lake)
    # a crashed run's file lying in a partition folder is not part of the table ...
    stray = next((lake / "cables").rglob("*.parquet"))
    shutil.copy(stray, stray.with_name("crashed-run-0000.parquet"))
    con = duckdb.connect(str(lake / "cables.duckdb"), read_only=True, config={"file_search_path": str(lake)})
    assert con.execute("select count(*) from cables").fetchone() == (3,)
    con.close()
    # ... nor of the next run's, and vacuum removes it
    make_dump("b", many(1, start=9))
    pipeline.run([str(tmp_path / "b")], lake)
    assert len(_ids(lake)) == 4
    assert lakelib.vacuum(lake, keep_days=1, dry_run=True)["files"] == []  # too young to be a dead run's
    gone = lakelib.vacuum(lake, keep_days=0)["files"]
    crashed = stray.with_name("crashed-run-0000.parquet")
    assert gone == [crashed.relative_to(lake).as_posix()] and not crashed.exists()
    assert len(_ids(lake)) == 4


def test_lock_refuses_a_second_writer(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(1))
    lake = tmp_path / "lake"
    with lakelib.lake_lock(lake, what="test holder"):
        import subprocess
        import sys

        res = subprocess.run(
            [sys.executable, "-m", "etl.cli", "run", str(tmp_path / "a"), "--lake", str(lake), "--lock-timeout", "0"],
            capture_output=True, text=True, timeout=120,
        )
    assert res.returncode == 4, res.stderr
    assert "locked by test holder" in res.stderr and "--lock-timeout" in res.stderr
    assert not lakelib.is_lake(lake)


def test_cable_text_is_a_valid_cable() -> None:
    from etl.parse import parse_text

    f = parse_text(cable_text("MOSCOW", 123, 2007))
    assert f["reference_id"] == "07MOSCOW123" and f["dtg"] == "121341Z APR 07"


def test_lake_from_before_commit_records_is_adopted(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("a", many(3))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "a")], lake)
    # as a lake written by a cablelake before commit records: the Parquet files alone
    (lake / "_catalog.json").unlink()
    shutil.rmtree(lake / "_lake")
    for log in lake.glob("*/_delta_log"):
        shutil.rmtree(log)
    make_dump("b", many(1, start=20))
    s = pipeline.run([str(tmp_path / "a"), str(tmp_path / "b")], lake)
    assert s.records_found == 1  # the old files were adopted, with their runs' inputs as the manifest
    assert len(_ids(lake)) == 4
    ops = [r[0] for r in _rows(lake, "select operation from runs order by started_at")]
    assert ops == ["publish", "publish"]
