"""The parse workers' gate: each worker holds it while it writes a chunk and while it finishes its files (its
memory peaks), so that two workers' peaks come one after the other instead of adding up; the suite runs on the
narrow columns outside it, so that a worker waits for the other's write only."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _cables import REPO, Maker, many

from etl import pipeline


class _RecordingGate:
    def __init__(self) -> None:
        self.held = False
        self.entered = 0

    def __enter__(self) -> None:
        assert not self.held, "the gate is not re-entrant: a worker never waits for itself"
        self.held = True
        self.entered += 1

    def __exit__(self, *_: object) -> None:
        self.held = False


def test_a_worker_writes_and_finishes_its_files_inside_the_gate_and_validates_outside_it(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etl.validate
    from etl.lake._txn import TableWriter
    from etl.pipeline import _parse, _validate

    gate = _RecordingGate()
    monkeypatch.setattr(_parse, "_GATE", gate)
    monkeypatch.setattr(_validate, "CHUNK_ROWS", 120)
    monkeypatch.setenv("CABLELAKE_WORKERS", "1")
    monkeypatch.setenv("CABLELAKE_SHARD_FILES", "2000")  # one shard: one worker's validator
    seen: list[tuple[str, bool]] = []
    validate, write, close = etl.validate.validate, TableWriter.write, TableWriter.close

    def validate_spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(("validate", gate.held))
        return validate(*args, **kwargs)

    def write_spy(self: TableWriter, table: Any) -> Any:
        if self.tag == "w" and (not seen or seen[-1] != ("write", gate.held)):
            seen.append(("write", gate.held))
        return write(self, table)

    def close_spy(self: TableWriter) -> Any:
        if self.tag == "w":  # the worker's writer of its validated cables rows
            seen.append(("close", gate.held))
        return close(self)

    monkeypatch.setattr(etl.validate, "validate", validate_spy)
    monkeypatch.setattr(TableWriter, "write", write_spy)
    monkeypatch.setattr(TableWriter, "close", close_spy)
    make_dump("d", many(1100))
    s = pipeline.run([str(tmp_path / "d")], tmp_path / "lake")
    assert (s.records_found, s.cables) == (1100, 1100)
    # batches of 500 records: a chunk after each full batch, the last 100 rows at close, then the files finished
    assert seen == [("validate", False), ("write", True)] * 3 + [("close", True)]
    assert gate.entered == 3


def test_the_gate_lets_a_worker_go_on_when_its_holder_never_lets_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed while holding the gate must not stall the others for good: after ``GATE_TIMEOUT`` they
    go on without it (and do not release a lock they do not hold)."""
    from etl.pipeline import _parse

    monkeypatch.setattr(_parse, "GATE_TIMEOUT", 0.2)
    lock = multiprocessing.get_context("forkserver").Lock()
    lock.acquire()  # the dead holder
    t0 = time.perf_counter()
    with _parse._Gate(lock):
        waited = time.perf_counter() - t0
    assert 0.15 <= waited < 5
    assert not lock.acquire(block=False)  # still the holder's: nobody released it
    lock.release()


def test_the_gate_makes_a_second_worker_wait_for_the_first() -> None:
    from etl.pipeline import _parse

    lock = multiprocessing.get_context("forkserver").Lock()
    first, second = _parse._Gate(lock), _parse._Gate(lock)
    order: list[str] = []
    with first:
        t = threading.Thread(target=lambda: (second.__enter__(), order.append("second in"), second.__exit__()))
        t.start()
        time.sleep(0.2)
        order.append("first out")
    t.join(5)
    assert order == ["first out", "second in"]


def test_a_parse_worker_does_not_load_deltalake(tmp_path: Path) -> None:
    """A parse worker writes data files only; the Delta commits are the run's. deltalake is ~17 MiB of a
    process's resident size, so a worker must not import it (it did, through etl.lake's imports)."""
    import subprocess
    import sys

    code = """
import sys
from datetime import UTC, datetime
from etl.pipeline import _parse  # what a worker imports to run its part
from etl.lake import FileSet
from etl.schema import schema, to_table
sch = schema("cables")
row = {f.name: "x" for f in sch if str(f.type) == "string"}
row.update(reference_id="07MOSCOW5349", year=2007, ingested_at=datetime.now(UTC))
writer = FileSet(sys.argv[1], "run").writer("cables", tag="w", open_rows=10)
writer.write(to_table([row], "cables").select(sch.names).cast(sch))
assert len(writer.close()) == 1
print(sorted(m for m in sys.modules if m.split(".")[0] == "deltalake"))
"""
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_time_a_worker_waits_at_the_gate_is_reported(
    tmp_path: Path, make_dump: Maker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting at the gate is a worker's idle core: the run's timings report it (``gate_wait``, summed over the
    workers), beside the seconds of the stages."""
    from etl.pipeline import _parse, _validate

    class _BusyGate(_RecordingGate):
        def __enter__(self) -> None:
            time.sleep(0.15)  # another worker writing
            super().__enter__()

    gate = _BusyGate()
    monkeypatch.setattr(_parse, "_GATE", gate)
    monkeypatch.setattr(_validate, "CHUNK_ROWS", 120)
    monkeypatch.setenv("CABLELAKE_WORKERS", "1")
    make_dump("d", many(600))
    s = pipeline.run([str(tmp_path / "d")], tmp_path / "lake")
    assert gate.entered >= 2  # a chunk, then the rest at close
    assert 0.15 * gate.entered <= s.timings["gate_wait"] < 30
    assert s.timings["validate"] < s.timings["parse"]


def test_a_run_whose_worker_never_waited_reports_no_gate_wait(tmp_path: Path, make_dump: Maker) -> None:
    make_dump("d", many(30))
    s = pipeline.run([str(tmp_path / "d")], tmp_path / "lake")
    assert "gate_wait" not in s.timings  # parsed in the run's process: no gate at all
    assert 0 < s.timings["parse_cpu"] <= s.timings["parse"] * 4  # the parse's CPU beside its wall: how busy it was
