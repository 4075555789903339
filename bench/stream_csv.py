"""Benchmark: stream a >= 1 GB cables.csv-format file through ``iter_records`` in bounded memory.

The file is generated in a temporary directory from the real rows of the corpus (``cables-csv/``), each copy
given a unique sequence number and reference id. Prints throughput and peak RSS against the file size;
peak RSS must not grow with the file (run with ``--gb 0.25`` and ``--gb 2`` to compare).

    .venv/bin/python bench/stream_csv.py [--gb 1.0] [--corpus ../shared/corpus] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from etl.sources import discover, iter_records  # noqa: E402

_ROW = re.compile(rb'"\d+","[^"]*","([^"]*)",.*?(?<!\\)"\r?\n(?="\d+","|\Z)', re.S)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_rows(corpus: Path) -> list[bytes]:
    """Complete rows of the corpus cables.csv files (the cut-off last row is left out)."""
    data = (corpus / "cables-csv" / "cables-head-rows-1-37.csv").read_bytes()
    rows = [m.group(0) for m in _ROW.finditer(data)]
    if not rows:
        raise SystemExit("no rows found in the corpus cables.csv chunk")
    return rows


def generate(path: Path, rows: list[bytes], target: int) -> tuple[int, int]:
    """Write copies of ``rows`` with unique seq/ids until ``target`` bytes. Returns (bytes, rows)."""
    written = count = 0
    with open(path, "wb", buffering=8 * 1024 * 1024) as out:
        while written < target:
            for row in rows:
                count += 1
                seq_end = row.index(b'","')
                rest = row[seq_end:]
                ref = re.search(rb'^","[^"]*","([^"]*)"', rest)
                assert ref is not None
                new = b'"' + str(count).encode() + rest[: ref.start(1)] + ref.group(1) + b"X" + str(count).encode() + rest[ref.end(1):]
                out.write(new)
                written += len(new)
    return written, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="size of the generated file in GiB (default 1)")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("CABLELAKE_CORPUS", REPO.parent / "shared" / "corpus")))
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cablelake-bench-"))
    try:
        path = tmp / "cables.csv"
        t0 = time.perf_counter()
        size, nrows = generate(path, real_rows(args.corpus), int(args.gb * 1024**3))
        print(f"generated {size / 1024**2:,.0f} MiB, {nrows:,} rows in {time.perf_counter() - t0:.1f}s -> {path}")
        rss_before = peak_rss_mb()
        [dump] = discover([str(path)])
        t0 = time.perf_counter()
        records = errors = 0
        for rec in iter_records(dump):
            records += 1
            errors += rec.error is not None
        elapsed = time.perf_counter() - t0
        print(f"streamed {records:,} records ({errors} errors) in {elapsed:.1f}s = {size / 1024**2 / elapsed:,.0f} MiB/s "
              "(sha256 of the dump by discover() not included)")
        print(f"peak RSS {peak_rss_mb():,.0f} MiB (before streaming {rss_before:,.0f} MiB) for a {size / 1024**2:,.0f} MiB file")
        if records != nrows or errors:
            raise SystemExit(f"expected {nrows} clean records")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
