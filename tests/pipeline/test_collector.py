"""The parse step runs with the long-lived heap frozen and rarer young collections (etl._gc), the rule engine
added to the frozen heap once its first chunk loaded it, and the collector is as it was after the run."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from _cables import cable_text

from etl._gc import YOUNG_THRESHOLD, Frozen
from etl.pipeline import _parse, _validate, run


def test_parsing_runs_with_the_heap_frozen_and_the_collector_is_restored(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    for serial in range(1, 7):
        (dump / f"{serial}.txt").write_text(cable_text("OSLO", serial, 2008), "utf-8")
    monkeypatch.setattr(_parse, "PARSE_BATCH", 2)
    monkeypatch.setattr(_validate, "CHUNK_ROWS", 2)  # three chunks: the engine is loaded by the first
    seen: list[tuple[int, int]] = []
    parse_batch = _parse._parse_batch

    def watched(*args: Any) -> Any:
        seen.append((gc.get_threshold()[0], gc.get_freeze_count()))
        return parse_batch(*args)

    monkeypatch.setattr(_parse, "_parse_batch", watched)
    settled: list[int] = []  # batches parsed when the heap was settled (frozen again)
    settle = Frozen.settle

    def counted(self: Frozen) -> None:
        settled.append(len(seen))
        settle(self)

    monkeypatch.setattr(Frozen, "settle", counted)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    summary = run([str(dump)], tmp_path / "lake")
    assert summary.lake_cables == 6
    assert len(seen) == 3
    assert all(young >= YOUNG_THRESHOLD for young, _ in seen)
    assert all(frozen > 1_000 for _, frozen in seen)
    assert settled == [0, 1]  # when the block opens, and once the first chunk has loaded the rule engine
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
