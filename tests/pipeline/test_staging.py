"""RunStaging, the one owner of a run's work area; RunConfig and the quality config, read at run time."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import pipeline
from etl.pipeline import RunConfig, RunStaging, plan_shards, shard_id
from etl.validate import QualityConfig


def _shard(staging: RunStaging, name: str, *, finished: bool) -> None:
    data = staging.parsed(name, 0) / "cables" / "year=2007" / "f.parquet"
    for path in (data, staging.rejected(name, 0)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PAR1")
    if finished:
        files = [{"part": 0, "path": "cables/year=2007/f.parquet", "rows": 3, "bytes": 4}]
        staging.write_summary({"shard": name, "records": 0, "files": files})


def test_unfinished_parse_shards_are_dropped_and_other_steps_files_kept(tmp_path: Path) -> None:
    run_id = pipeline.start_run(tmp_path / "lake")
    staging = RunStaging(tmp_path / "lake", run_id)
    done, dead = shard_id(["a"]), shard_id(["b"])
    _shard(staging, done, finished=True)
    _shard(staging, dead, finished=False)  # a parse that died before its summary
    _shard(staging, "replay", finished=False)  # another step's folder, not named like a parse shard
    assert staging.finished() == {done}
    assert sorted(staging.drop_unfinished()) == sorted(
        [str(staging.parsed(dead, 0).parent), str(staging.rejected(dead, 0).parent)])
    assert not staging.parsed(dead, 0).exists()
    assert [(Path(f.root), f.entry.path, f.entry.rows) for f in staging.data_files()] == [
        (staging.parsed(done, 0), "cables/year=2007/f.parquet", 3)]  # the data files the summary names
    assert staging.rejected_files() == [staging.rejected(done, 0)]
    assert staging.rejected("replay", 0).exists()


def test_failures_outlive_the_staging_folder(tmp_path: Path) -> None:
    staging = RunStaging(tmp_path / "lake", pipeline.start_run(tmp_path / "lake"))
    name = shard_id(["x"])
    _shard(staging, name, finished=True)
    staging.record_failures(0, [str(staging.summary_path(name))], [{"uri": "u", "error": "E: boom"}])
    staging.remove()
    assert staging.failures() == [{"uri": "u", "error": "E: boom"}]
    assert "u: E: boom" in RunStaging.describe(staging.failures())


def test_shard_names_do_not_depend_on_order() -> None:
    assert shard_id(["b", "a"]) == shard_id(["a", "b"]) != shard_id(["a"])
    assert pipeline.shard_label(["/x/one.txt"]) == "one.txt"
    assert pipeline.shard_label(["/x/one.txt", "/x/two.txt", "/x/3"]) == "one.txt +2"


def test_landing_day_folder(tmp_path: Path) -> None:
    (tmp_path / "2025-06-01").mkdir()
    land = str(tmp_path)
    assert pipeline.landing_sources(land, None, "2025-06-01") == [str(tmp_path / "2025-06-01")]
    assert pipeline.landing_sources(land, None, "2025-06-02") == [land]  # no folder for the logical day
    assert pipeline.landing_sources(land, "all", "2025-06-01") == [land]
    with pytest.raises(FileNotFoundError, match="2025-06-03"):
        pipeline.landing_sources(land, "2025-06-03")


def test_settings_are_read_when_a_run_needs_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing the environment after import takes effect: nothing is frozen at import time."""
    uris = []
    for n in range(5):
        (tmp_path / f"{n}.txt").write_text("x", encoding="utf-8")
        uris.append(str(tmp_path / f"{n}.txt"))
    assert len(plan_shards(uris)) == 1
    monkeypatch.setenv("CABLELAKE_SHARD_FILES", "2")
    monkeypatch.setenv("CABLELAKE_WORKERS", "3")
    monkeypatch.setenv("CABLELAKE_THRESHOLD_MIN_ROWS", "7")
    assert [len(s) for s in plan_shards(uris)] == [2, 2, 1]
    assert RunConfig.from_env().parse_processes() == 3 and RunConfig.from_env().parse_processes(1) == 1
    assert QualityConfig.load().threshold_min_rows == 7
    assert pipeline.cap_shards([[u] for u in uris], 2) == [[uris[0], uris[2], uris[4]], [uris[1], uris[3]]]
