"""A dump that cannot be read costs only itself: it is recorded as failed, with an error quarantine row
naming it, the other dumps of its shard are published, and the next run reads it again."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _cables import Maker, many

import etl.pipeline._parse as parse_mod
from etl import lake as lakelib
from etl import pipeline
from etl.sources import Dump, RawRecord


def _reader_raising_on(name: str, after: int) -> Callable[[Dump], Iterator[RawRecord]]:
    """``iter_records`` whose reader raises in the dump called ``name`` after ``after`` records."""
    real = parse_mod.iter_records

    def iter_records(dump: Dump) -> Iterator[RawRecord]:
        if Path(dump.uri).name != name:
            yield from real(dump)
            return
        yield from itertools.islice(real(dump), after)
        raise KeyError("simulated reader bug")

    return iter_records


def test_reader_that_raises_fails_its_dump_only(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dump("in", many(4))
    broken = sorted((tmp_path / "in").iterdir())[1]
    lake = tmp_path / "lake"
    monkeypatch.setattr(parse_mod, "iter_records", _reader_raising_on(broken.name, after=0))

    s = pipeline.run([str(tmp_path / "in")], lake)  # one shard of four dumps: the bad one does not stop it

    assert [(f["uri"], f["records"]) for f in s.failed_dumps] == [(str(broken), 1)]
    assert "KeyError" in s.failed_dumps[0]["error"] and "simulated reader bug" in s.failed_dumps[0]["error"]
    assert sorted(i["uri"] for i in s.inputs) == sorted(str(p) for p in (tmp_path / "in").iterdir() if p != broken)
    assert s.cables == 3 and s.records_found == 4 == s.cables + s.quarantined
    q = lakelib.read_table(lake, "quarantine").to_pylist()
    assert [(r["reasons"], r["stage"], r["source_uri"]) for r in q] == [(["read:dump_failed"], "sources", str(broken))]
    assert str(broken) in q[0]["details"][0] and "simulated reader bug" in q[0]["details"][0]
    assert lakelib.read_current(lake).dumps.keys().isdisjoint({q[0]["source_sha256"]})  # not ingested ...

    monkeypatch.undo()
    again = pipeline.run([str(tmp_path / "in")], lake)  # ... so the next run reads it again
    assert [i["uri"] for i in again.inputs] == [str(broken)] and again.cables == 1 and not again.failed_dumps


def test_records_read_before_the_reader_raised_are_kept(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dump("in", many(2))
    broken = sorted((tmp_path / "in").iterdir())[0]
    monkeypatch.setattr(parse_mod, "iter_records", _reader_raising_on(broken.name, after=1))
    s = pipeline.run([str(tmp_path / "in")], tmp_path / "lake")
    assert s.cables == 2 and s.quarantined == 1 and s.records_found == 3
    assert [(f["uri"], f["records"]) for f in s.failed_dumps] == [(str(broken), 2)]
    (row,) = lakelib.read_table(tmp_path / "lake", "quarantine").to_pylist()
    assert row["source_location"] == "record 2" and "after 1 record(s)" in row["details"][0]


def test_a_shard_that_raises_is_parsed_dump_by_dump(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the whole step raises (not one reader), the shard's dumps are parsed one by one; a retry of the
    same attempt first undoes what the failed try recorded."""
    make_dump("in", many(3))
    uris = sorted(str(p) for p in (tmp_path / "in").iterdir())
    lake = tmp_path / "lake"
    real = parse_mod.discover

    def discover(paths: list[str]) -> list[Dump]:
        if uris[2] in paths:
            raise OSError("simulated vanished dump")
        return real(paths)

    monkeypatch.setattr(parse_mod, "discover", discover)
    run_id = pipeline.start_run(lake)
    staging = pipeline.RunStaging(lake, run_id)
    for _ in range(2):  # a retried task: same attempt number
        failed = pipeline.parse_shard(uris, lake, run_id, attempt=3).failed
        assert [f["uri"] for f in failed] == [uris[2]] and "simulated vanished dump" in failed[0]["error"]
        assert len(staging.finished()) == 2  # one shard per good dump, not twice
        assert staging.failures() == failed
    monkeypatch.undo()
    assert pipeline.parse_shard(uris, lake, run_id, attempt=3).failed == []
    assert staging.failures() == [] and len(staging.finished()) == 1  # the one-by-one shards were undone


def test_dag_and_cli_record_the_same_noop_row(tmp_path: Path, make_dump: Maker) -> None:
    """A run with nothing new: the DAG's steps (start_run, plan_run) leave the runs row the CLI leaves."""
    make_dump("in", many(2))
    lake = tmp_path / "lake"
    pipeline.run([str(tmp_path / "in")], lake)
    cli = pipeline.run([str(tmp_path / "in")], lake)
    run_id = pipeline.start_run(lake)
    assert pipeline.plan_run(lake, run_id, [str(tmp_path / "in")]) == []
    assert not pipeline.RunStaging(lake, run_id).root.exists()
    runs = {r["run_id"]: r for r in lakelib.read_table(lake, "runs").to_pylist()}
    dag_row, cli_row = runs[run_id], runs[cli.run_id]
    for row in (dag_row, cli_row):
        assert row["operation"] == row["status"] == "noop" and row["records_found"] == 0
        assert [s["reason"] for s in row["inputs_skipped"]] == ["already_ingested"] * 2
    differ = {k for k in dag_row if dag_row[k] != cli_row[k]}
    assert differ <= {"run_id", "started_at", "finished_at", "timings", "lake_version"}, differ


def test_cli_names_the_failed_dump_and_exits_0(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The other dumps were published and can be trusted: the run succeeds and says what it left out."""
    from etl import cli

    make_dump("in", many(2))
    broken = sorted((tmp_path / "in").iterdir())[0]
    monkeypatch.setattr(parse_mod, "iter_records", _reader_raising_on(broken.name, after=0))
    assert cli.main(["run", str(tmp_path / "in"), "--lake", str(tmp_path / "lake")]) == 0
    out = capsys.readouterr().out
    assert f"FAILED dump  {broken}: KeyError" in out and "quarantine reason read:dump_failed: 1" in out
