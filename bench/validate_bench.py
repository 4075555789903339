"""Benchmark of the validate stage on synthetic, realistic cables rows.

    .venv/bin/python bench/validate_bench.py [--rows 250000] [--bad 0.02] [--docs] [--repeat 1]
    .venv/bin/python bench/validate_bench.py --baseline ../main [--rows 24000] [--rounds 5]

Builds ``--rows`` rows from a few real-ish values (posts, DTGs, DECLs, classifications, TAGS) with a share
``--bad`` of planted faults spread over the rules, then prints, measured in the same process:

* baseline: a plain Arrow -> pandas conversion of the columns the suite reads;
* validate(): the whole stage (helper columns, GX run, split, dq_warnings), without and with the result
  JSON + Data Docs (``--docs``).

With ``--baseline DIR`` (another checkout, e.g. main) it compares this tree's validate stage with that tree's,
as the parse workers call it: chunk after chunk of ``CHUNK_ROWS`` rows in one process. Each round runs one
fresh interpreter per tree, alternately, on the same rows; each measures the CPU of a GX call on chunks of two
sizes (giving the cost of a call and of a row), of the whole table in chunks, and where a call's CPU goes
(helper columns, pandas frame, GX). It prints medians, their ratios, and whether the two trees' verdicts
(rejected rows, reasons, details, dq_warnings, per-rule counts) are identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

REPO = Path(__file__).resolve().parents[1]
_TREE = sys.argv[sys.argv.index("--tree") + 1] if "--tree" in sys.argv else str(REPO)
sys.path.insert(0, _TREE)  # (a child of --baseline imports the etl of the tree it measures)

from etl.schema import schema  # noqa: E402
from etl.validate._core import Validation  # noqa: E402

POSTS = np.array(["MOSCOW", "STATE", "BERLIN", "MADRID", "BAGHDAD", "USUNNEWYORK", "TELAVIV", "KABUL",
                  "ANKARA", "PARIS", "TOKYO", "BRASILIA", "CAIRO", "NAIROBI", "SEOUL", "LONDON"])
MONTHS = np.array(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])
CLASSES = np.array(["CONFIDENTIAL", "UNCLASSIFIED//FOR OFFICIAL USE ONLY", "UNCLASSIFIED", "SECRET",
                    "SECRET//NOFORN", "CONFIDENTIAL//NOFORN"])
CLASS_P = np.array([3080, 1154, 870, 771, 504, 333], dtype=float)
TAGSETS = [["PGOV", "PREL", "RS"], ["PREL", "PTER", "IZ"], ["ECON", "EFIN", "GM"], ["PHUM", "KDEM", "SU"],
           ["PREL", "MARR", "NATO", "AF"], ["PINR", "KNNP", "IR", "IAEA"], ["OVIP", "PREL", "CH"]]
CAVEATS = [["SIPDIS"], ["SIPDIS", "NOFORN"], ["SENSITIVE", "SIPDIS"], [], ["SIPDIS", "EXDIS"]]
MARKS = np.array(["C", "C", "SBU", "U", "S", "S/NF", "C/NF"], dtype=object)
BODY = "C O N F I D E N T I A L SECTION 01 OF 02\n\nSIPDIS\n\nE.O. 12958: DECL: 11/09/2017\n" + "TEXT " * 40


def build(rows: int, bad: float, seed: int = 7) -> pa.Table:
    """A cables table of ``rows`` realistic rows, ``bad`` of them carrying a planted fault."""
    rng = np.random.default_rng(seed)
    year = rng.integers(1989, 2011, rows)
    month = rng.integers(1, 13, rows)
    day = rng.integers(1, 29, rows)
    hour = rng.integers(0, 24, rows)
    minute = rng.integers(0, 60, rows)
    post = POSTS[rng.integers(0, len(POSTS), rows)]
    serial = np.arange(rows) + 1
    yy = np.char.zfill((year % 100).astype(str), 2)
    ref = np.char.add(np.char.add(yy, post), serial.astype(str))
    dtg = np.char.add(np.char.add(np.char.add(np.char.zfill(day.astype(str), 2), np.char.zfill(hour.astype(str), 2)),
                                  np.char.zfill(minute.astype(str), 2)), "Z ")
    dtg = np.char.add(np.char.add(np.char.add(dtg, MONTHS[month - 1]), " "), yy)
    sent = (np.array([f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(year, month, day, strict=True)],
                     dtype="datetime64[D]").astype("datetime64[us]")
            + hour.astype("timedelta64[h]") + minute.astype("timedelta64[m]"))
    decl_years = rng.choice([10, 10, 10, 10, 25, 20, 5], rows)
    decl = (np.array([f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in zip(year + decl_years, month, day, strict=True)],
                     dtype="datetime64[D]"))
    decl_raw = np.array([f"{m:02d}/{d:02d}/{y:04d}" for y, m, d in zip(year + decl_years, month, day, strict=True)],
                        dtype=object)
    cls = CLASSES[rng.choice(len(CLASSES), rows, p=CLASS_P / CLASS_P.sum())]
    tags = [TAGSETS[k] for k in rng.integers(0, len(TAGSETS), rows)]

    ref, dtg, decl_raw, cls = ref.astype(object), dtg.astype(object), decl_raw, cls.astype(object)
    decl_valid = np.ones(rows, bool)
    decl_kind = np.full(rows, "date", dtype=object)
    eo = np.full(rows, "12958", dtype=object)
    caveats = [CAVEATS[k] for k in rng.integers(0, len(CAVEATS), rows)]
    marks = MARKS[rng.integers(0, len(MARKS), (rows, 3))]
    paragraphs = [[{"number": j + 1, "portion_mark": m[j], "text": "TEXT."} for j in range(3)] for m in marks]
    # plant faults, one kind per bad row
    nbad = int(rows * bad)
    victims = rng.choice(rows, nbad, replace=False)
    for k, i in enumerate(victims):
        kind = k % 12
        if kind == 0:
            dtg[i] = dtg[i].replace(" ", "", 1)                      # dtg_format
        elif kind == 1:
            decl_raw[i], decl_valid[i] = "02/30/2015", False          # decl_date_valid
        elif kind == 2:
            cls[i] = "SECRET//BOGUS"                                 # classification_known
        elif kind == 3:
            ref[i] = ref[max(i - 1, 0)]                              # reference_id_unique
        elif kind == 4:
            ref[i] = "7575" + ref[i]                                 # reference_id_format
        elif kind == 5:
            ref[i] = "99" + ref[i][2:]                               # id year vs DTG year
        elif kind == 6:
            dtg[i] = "30" + dtg[i][2:8] + "FEB" + dtg[i][11:]        # dtg_valid
        elif kind == 7:
            tags[i] = [*tags[i], "QQQQ"]                             # tags_known
        elif kind == 8:
            decl[i] = sent[i].astype("datetime64[D]") - np.timedelta64(30, "D")   # decl_not_before_sent
        elif kind == 9:
            eo[i] = "12598"                                          # eo_known
        elif kind == 10:
            paragraphs[i] = [{"number": 1, "portion_mark": "SNF", "text": "TEXT."}]  # portion_marks_known
        else:
            decl_raw[i], decl_kind[i], decl_valid[i] = "OADR", "oadr", False  # decl_code_in_force
    n = rows
    ingested = datetime(2026, 1, 1, tzinfo=UTC)
    cols = {
        "reference_id": pa.array(ref, pa.string()),
        "canonical_id": pa.array(ref, pa.string()),
        "reference_id_source": pa.array(np.full(n, "metadata", dtype=object), pa.string()),
        "dtg": pa.array(dtg, pa.string()),
        "sent_at": pa.array(sent, pa.timestamp("us", tz="UTC")),
        "sent_at_source": pa.array(np.full(n, "dtg", dtype=object), pa.string()),
        "precedence_raw": pa.array(np.full(n, "P", dtype=object), pa.string()),
        "precedence": pa.array(np.full(n, "P", dtype=object), pa.string()),
        "origin": pa.array(np.char.add("AMEMBASSY ", post).astype(object), pa.string()),
        "classification_raw": pa.array(np.full(n, "C O N F I D E N T I A L", dtype=object), pa.string()),
        "classification": pa.array(cls, pa.string()),
        "eo_raw": pc.binary_join_element_wise("E.O. 12958: DECL: ", pa.array(decl_raw, pa.string()), ""),
        "eo": pa.array(eo, pa.string()),
        "decl_kind": pa.array(decl_kind, pa.string()),
        "caveats": pa.array(caveats, pa.list_(pa.string())),
        "paragraphs": pa.array(paragraphs, pa.list_(pa.struct([("number", pa.int32()), ("portion_mark", pa.string()),
                                                               ("text", pa.string())]))),
        "flag_classification_mismatch": pa.array(rng.random(n) < 0.01),
        "flag_serial_mismatch": pa.array(rng.random(n) < 0.01),
        "decl_raw": pa.array(decl_raw, pa.string()),
        "decl_date": pa.array(decl, pa.date32(), mask=~decl_valid),
        "tags_raw": pa.array([" ".join(t) for t in tags], pa.string()),
        "tags": pa.array(tags, pa.list_(pa.string())),
        "body": pa.array(np.full(n, BODY, dtype=object), pa.string()),
        "header": pa.array(np.full(n, "VZCZCXRO2940", dtype=object), pa.string()),
        "dq_warnings": pa.array([[]] * n, pa.list_(pa.string())),
        "source_uri": pa.array(np.full(n, "file:///dumps/big.csv", dtype=object), pa.string()),
        "source_location": pa.array(np.char.add("row ", serial.astype(str)).astype(object), pa.string()),
        "run_id": pa.array(np.full(n, "bench", dtype=object), pa.string()),
        "ingested_at": pa.array([ingested] * n, pa.timestamp("us", tz="UTC")),
        "year": pa.array(year.astype(np.int32), pa.int32()),
    }
    sch = schema("cables")
    arrays = [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in sch]
    return pa.Table.from_arrays(arrays, schema=sch)


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result) of ``fn()``."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


SMALL_CHUNK = 500
"""The smaller of the two chunk sizes a child times (with CHUNK_ROWS, the larger): a call's cost and a row's."""


def _digest(parts: list[Validation]) -> str:
    """A hash of every verdict of the chunks' validations: rows kept and their dq_warnings, rejected rows with
    their reasons and details, per-rule failure counts."""
    h = hashlib.sha256()
    for v in parts:
        for key in ("reference_id", "dq_warnings"):
            h.update(json.dumps(v.cables.column(key).to_pylist()).encode())
        h.update(json.dumps([v.rejected.column("reference_id").to_pylist(), v.reasons, v.details]).encode())
        h.update(json.dumps({k: st["failed"] for k, st in sorted(v.rule_stats.items())}).encode())
    return h.hexdigest()[:16]


def child(args: argparse.Namespace) -> None:
    """One tree's figures on the bench rows, as JSON on stdout (run by :func:`compare_trees`)."""
    table = build(args.rows, args.bad)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations  # noqa: F401

    from etl.pipeline._validate import CHUNK_ROWS
    from etl.validate import QualityConfig, _core, validate

    config = QualityConfig(data_docs=False)
    spent: dict[str, float] = {}
    for name, label in (("_columns", "helper columns"), ("_frame", "pandas frame")):
        fn = getattr(_core, name, None)
        if fn is not None:
            def timed(*a: object, _fn: Callable[..., object] = fn, _label: str = label, **k: object) -> object:
                c0 = time.process_time()
                try:
                    return _fn(*a, **k)
                finally:
                    spent[_label] = spent.get(_label, 0.0) + time.process_time() - c0
            setattr(_core, name, timed)
    validate(table.slice(0, 100), run_id="warmup", config=config)  # GX's first call in a process
    spent.clear()
    c0 = time.process_time()
    parts = [validate(table.slice(i, CHUNK_ROWS), run_id="bench", config=config)
             for i in range(0, table.num_rows, CHUNK_ROWS)]
    whole = time.process_time() - c0
    calls = len(parts)
    out: dict[str, Any] = {"chunk_rows": CHUNK_ROWS, "calls": calls, "whole_cpu": whole,
                              "per_cable_us": whole / table.num_rows * 1e6, "digest": _digest(parts),
                              "rejected": sum(v.rejected.num_rows for v in parts)}
    out["split_us_per_cable"] = {k: v / table.num_rows * 1e6 for k, v in spent.items()}
    out["split_us_per_cable"]["GX and the rest"] = (whole - sum(spent.values())) / table.num_rows * 1e6
    del parts
    per_size = {}
    for n in (SMALL_CHUNK, CHUNK_ROWS):
        times = []
        for i in range(5):  # the best of 5 (other jobs share the cores)
            c0 = time.process_time()
            validate(table.slice(i * n % max(1, table.num_rows - n + 1), n), run_id="bench", config=config)
            times.append(time.process_time() - c0)
        per_size[n] = min(times)
    row = (per_size[CHUNK_ROWS] - per_size[SMALL_CHUNK]) / (CHUNK_ROWS - SMALL_CHUNK)
    out.update(call_small=per_size[SMALL_CHUNK], call_chunk=per_size[CHUNK_ROWS], per_row_us=row * 1e6,
               per_call_s=per_size[SMALL_CHUNK] - SMALL_CHUNK * row)
    print(json.dumps(out))


def compare_trees(args: argparse.Namespace) -> None:
    """Alternate fresh interpreters of this tree and of ``args.baseline`` on the same rows; print medians."""
    trees = {"this": str(REPO), "baseline": str(args.baseline.resolve())}
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in trees}
    print(f"{args.rows:,} rows, {args.bad:.0%} bad; this tree {trees['this']} vs baseline {trees['baseline']}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "False"}
    for r in range(args.rounds):
        for name in (("this", "baseline") if r % 2 == 0 else ("baseline", "this")):
            cmd = [sys.executable, __file__, "--child", "--tree", trees[name], "--rows", str(args.rows),
                   "--bad", str(args.bad)]
            res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, cwd=trees[name])
            runs[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]['per_cable_us']:.0f} us/cable" for k, v in runs.items())
              + f" (load {os.getloadavg()[0]:.1f})", flush=True)

    def med(name: str, key: str) -> float:
        return statistics.median(float(run[key]) for run in runs[name])

    first = runs["this"][0]
    print(f"\nmedians of {args.rounds} rounds (CPU; a call = one validate() of a chunk, {first['chunk_rows']:,} rows"
          f" in the workers):")
    for key, label, scale, unit in (("per_cable_us", "validate stage, chunk after chunk", 1, "us/cable"),
                                    ("call_chunk", f"one call on {first['chunk_rows']:,} rows", 1e3, "ms"),
                                    ("call_small", f"one call on {SMALL_CHUNK} rows", 1e3, "ms"),
                                    ("per_call_s", "a call's fixed cost", 1e3, "ms"),
                                    ("per_row_us", "a row's cost", 1, "us")):
        new, old = med("this", key) * scale, med("baseline", key) * scale
        print(f"  {label:36s} {new:8.1f} vs {old:8.1f} {unit:9s} ratio {new / old:.2f}")
    for name in trees:
        split = {k: statistics.median(float(r["split_us_per_cable"][k]) for r in runs[name])
                 for k in runs[name][0]["split_us_per_cable"]}
        print(f"  where a cable's CPU goes ({name}): " + ", ".join(f"{k} {v:.0f} us" for k, v in split.items()))
    digests = {run["digest"] for rs in runs.values() for run in rs}
    print(f"verdicts identical in both trees: {'yes' if len(digests) == 1 else 'NO'} "
          f"({runs['this'][0]['rejected']} of {args.rows:,} rows rejected; digests {sorted(digests)}); "
          f"load {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=250_000)
    ap.add_argument("--bad", type=float, default=0.02)
    ap.add_argument("--docs", action="store_true", help="also time a run writing the result JSON + Data Docs")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions; the best one is reported")
    ap.add_argument("--baseline", type=Path, help="another checkout to compare with, chunk by chunk (e.g. ../main)")
    ap.add_argument("--rounds", type=int, default=5, help="with --baseline: fresh interpreters per tree")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    if args.baseline is not None:
        compare_trees(args)
        return
    wall, _, table = _timed(lambda: build(args.rows, args.bad))
    assert isinstance(table, pa.Table)
    print(f"built {table.num_rows:,} rows in {wall:.2f}s")

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    t0 = time.perf_counter()
    import great_expectations  # noqa: F401  - import cost reported apart

    from etl.validate import QualityConfig, load_suite, rules, validate
    from etl.validate._derive import detail_columns

    print(f"import great_expectations + etl.validate: {time.perf_counter() - t0:.2f}s (once per process)")
    present = set(table.column_names)
    cols = sorted({c for r in rules(load_suite()) for col in r.columns for c in detail_columns(col, present)
                   if c in present})
    no_docs = QualityConfig(data_docs=False)
    wall, _, _ = _timed(lambda: validate(table.slice(0, 100), run_id="warmup", config=no_docs))
    print(f"first validate() in the process (100 rows, GX warm-up): {wall:.2f}s")

    base: list[tuple[float, float]] = []
    runs: list[tuple[float, float]] = []
    v = None
    for _ in range(args.repeat):
        w, c, _ = _timed(lambda: table.select(cols).to_pandas())
        base.append((w, c))
        w, c, v = _timed(lambda: validate(table, run_id="bench", config=no_docs))
        runs.append((w, c))
    assert isinstance(v, Validation)
    bw, bc = min(base)
    vw, vc = min(runs)
    print(f"baseline: Arrow->pandas of the {len(cols)} columns the suite reads: {bw:.3f}s wall, {bc:.3f}s CPU")
    print(f"validate() {table.num_rows:,} rows, {len(v.rule_stats)} rules: {vw:.3f}s wall, {vc:.3f}s CPU "
          f"(best of {args.repeat}; all walls {', '.join(f'{r[0]:.2f}' for r in runs)}); "
          f"cables {v.cables.num_rows:,}, rejected {v.rejected.num_rows:,}")
    if args.docs:
        with tempfile.TemporaryDirectory() as tmp:
            w, c, _ = _timed(lambda: validate(table, run_id="bench", quality_dir=Path(tmp), config=QualityConfig()))
            print(f"validate() with result JSON + Data Docs: {w:.3f}s wall, {c:.3f}s CPU")
    for name, st in v.rule_stats.items():
        print(f"  {name:30s} {st['severity']:8s} failed {st['failed']:7,d} ({st['failed_share']:.2%}) {st['status']}")


if __name__ == "__main__":
    main()
