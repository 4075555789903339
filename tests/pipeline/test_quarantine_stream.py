"""A huge dump of mostly bad records, with the data-quality thresholds raised so that the run may finish:
every record lands in quarantine with its reason and location, and the quarantine path streams (it never
holds the whole set of bad records in memory at once).

The memory check is structural, not a benchmark: each run happens in a fresh process with one parse
process (so every stage runs in it), small batches (``BATCH_ROWS``) and a small write buffer of the lake's
table writer, and records the peak of Python allocations (``tracemalloc``, numpy included) and of Arrow's
memory pool. Five times the bad records must raise neither peak by more than half the raw text they add: a
stage that held the whole quarantine set (as Python rows or Arrow tables) would grow by all of it. The settings are the pipeline's own
constants; a redesign that renames them makes this test fail loudly (``_SMALL`` below), not pass quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from _cables import cable_text

from etl import lake as lakelib

REPO = Path(__file__).resolve().parents[2]
GOOD = 5
JUNK = 4_000
"""Bytes of junk text per bad record."""

_RUN = """
import json, sys, tracemalloc
import pyarrow as pa
import etl.lake._ops, etl.lake._txn, etl.pipeline._common, etl.pipeline._parse, etl.pipeline._validate
SMALL_ROWS, SMALL_BUFFER = 200, 1 << 20
SETTINGS = [  # (module, setting, small value): the batch and buffer sizes of every step the rows go through
    (etl.pipeline._common, "BATCH_ROWS", SMALL_ROWS), (etl.pipeline._parse, "PARSE_BATCH", SMALL_ROWS),
    (etl.pipeline._validate, "CHUNK_ROWS", SMALL_ROWS), (etl.pipeline._validate, "WORKER_BUFFER_BYTES", SMALL_BUFFER),
    (etl.lake._txn, "BATCH_ROWS", SMALL_ROWS), (etl.lake._ops, "BATCH_ROWS", SMALL_ROWS),
    (etl.lake._txn, "BUFFER_BYTES", SMALL_BUFFER), (etl.pipeline._parse, "REJECTED_BUFFER_BYTES", SMALL_BUFFER),
]
for module, name, value in SETTINGS:
    assert hasattr(module, name), (module, name)  # a setting moved or was renamed: update this test
    setattr(module, name, value)
import great_expectations  # noqa: F401 - its import (~100 MB of Python objects) would hide the rows' peak
tracemalloc.start()
from etl.pipeline import run
summary = run([sys.argv[1]], sys.argv[2])
print(json.dumps({"summary": summary.to_dict(), "python_peak": tracemalloc.get_traced_memory()[1],
                  "arrow_peak": pa.default_memory_pool().max_memory()}, default=str))
"""


def _junk(i: int) -> str:
    words = ("lorem", "ipsum", "dolor", "sit", "amet", "minutes", "of", "a", "meeting", "nothing", "else")
    text = " ".join(words[(i * 7 + k) % len(words)] for k in range(JUNK // 5))
    return f"record {i}: {text}"[:JUNK]


def _write_dump(path: Path, bad: int) -> dict[str, str]:
    """A JSON-lines export: GOOD cables spread among ``bad`` records that hold no cable, a broken JSON line
    every 1,000; returns the expected reason per location (``line N``) of the bad ones."""
    expected: dict[str, str] = {}
    total = bad + GOOD
    good = {k * (total // GOOD) for k in range(GOOD)}
    with path.open("w", encoding="utf-8") as out:
        for i in range(total):
            if i in good:
                out.write(json.dumps({"_id": f"08ROME{1000 + i}", "body": cable_text("ROME", 1000 + i, 2008)}) + "\n")
            elif i % 1000 == 999:
                out.write('{"_id": "broken", "body": "unterminated\n')
                expected[f"line {i + 1}"] = "bad_json"
            else:
                out.write(json.dumps({"_id": f"X{i}", "body": _junk(i)}) + "\n")
                expected[f"line {i + 1}"] = "no_cable_found"
    return expected


def _run(tmp_path: Path, bad: int) -> tuple[Path, Path, dict[str, str], dict[str, Any]]:
    dump, lake = tmp_path / f"export-{bad}.jsonl", tmp_path / f"lake-{bad}"
    expected = _write_dump(dump, bad)
    env = {**os.environ, "PYTHONPATH": str(REPO), "CABLELAKE_WORKERS": "1", "CABLELAKE_SEARCH_INDEX": "0",
           "CABLELAKE_MAX_QUARANTINE_SHARE": "1.0", "CABLELAKE_MAX_RULE_SHARE": "1.0"}
    out = subprocess.run([sys.executable, "-c", _RUN, str(dump), str(lake)], capture_output=True, text=True,
                         env=env, cwd=REPO, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    return dump, lake, expected, json.loads(out.stdout.strip().splitlines()[-1])


def test_a_huge_bad_dump_is_quarantined_whole_and_streamed(tmp_path: Path) -> None:
    small, big = 600, 3_000
    *_, first = _run(tmp_path, small)
    dump, lake, expected, result = _run(tmp_path, big)
    summary = result["summary"]
    assert summary["records_found"] == big + GOOD == summary["cables"] + summary["quarantined"]
    assert summary["quarantined"] == len(expected) and summary["cables"] == GOOD

    quarantine = lakelib.read_table(lake, "quarantine").select(["source_location", "reasons", "source_uri"])
    got = dict(zip(quarantine.column("source_location").to_pylist(), quarantine.column("reasons").to_pylist(),
                   strict=True))
    assert len(got) == quarantine.num_rows == len(expected)  # one row per bad record, each at its own line
    assert set(quarantine.column("source_uri").to_pylist()) == {str(dump)}
    wrong = {loc: (reasons, expected.get(loc)) for loc, reasons in got.items()
             if not any(expected.get(loc, "?") in str(r) for r in reasons)}
    assert not wrong, list(wrong.items())[:5]

    # 2,400 more bad records are 9.6 MB more raw text (12 more batches): holding them all would raise a peak by
    # at least that much; streamed, the peaks stay within half of it (measured: Python +1.7 MB from 600 to 1,800
    # and to 3,000 records alike, a bounded step; Arrow within 40 KB)
    more = (big - small) * JUNK
    print(f"\npeaks at {small:,} / {big:,} bad records: Python {first['python_peak']:,} / {result['python_peak']:,} B, "
          f"Arrow {first['arrow_peak']:,} / {result['arrow_peak']:,} B")
    assert result["python_peak"] - first["python_peak"] < more / 2
    assert result["arrow_peak"] - first["arrow_peak"] < more / 2
