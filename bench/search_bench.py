"""Search benchmark (issue 15): the index against the pipeline's own time, in the same run.

Builds a ``cables.csv`` of ``--rows`` cables like ``bench/scale.py`` (its builder: real corpus rows with new
serials), plus a second file of ``--nightly`` other cables, then measures:

* the pipeline on the first file with the index switched off (``CABLELAKE_SEARCH_INDEX=0``): the baseline;
* building the index from scratch (``etl.search.sync(rebuild=True)``) in its own process: % of the baseline,
  in wall time (the target) and in CPU (both process trees' CPU, sampled from /proc: the wall ratio moves with
  what else the machine runs, since the two phases need not meet the same load);
* the nightly update: the pipeline publishes the second file (index off), then ``sync`` catches up;
* 20 typical queries from Python (word, phrase, boolean, prefix, fielded, date-ranged; facets and snippets
  on, 20 hits), repeated: median and p95. Every search is measured as a first one: the searchers' result
  cache (``CABLELAKE_SEARCH_CACHE``, which serves a repeated query of the same lake version from memory) is
  off here and in the server below unless the variable is set;
* the search and cable pages through ``cablelake serve`` (real HTTP on 127.0.0.1): p95 render time;
* the index's size on disk against the cables' Parquet files, on those rows and on a lake of the distinct real
  seed cables once each (the built rows repeat ~2,400 seed texts, which sorted by id sit side by side, so zstd
  packs their Parquet far better than real text: the real-text ratio is the one the target is about).

``--compare DIR`` runs the same measurements twice, back to back, each in its own processes: with the code
of DIR (a checkout of the baseline, e.g. ``git worktree add /tmp/base main``) and with this checkout, and
prints both side by side (``--code DIR`` is one such run).

    .venv/bin/python bench/search_bench.py --rows 50000                      # moderate scale
    .venv/bin/python bench/search_bench.py --rows 251287                     # the issue's scale
    .venv/bin/python bench/search_bench.py --rows 50000 --compare /tmp/base  # baseline vs this checkout
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
# the code measured: this checkout, or the one named by --code (its etl, server and pipeline)
REPO = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv[:-1] else HERE
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE / "bench"))
from scale import _seed_rows, build_csv  # noqa: E402

import etl  # noqa: E402,F401  (first: later imports of etl.* take the measured code's, whatever sys.path becomes)

TARGETS = {"build_pct": 25.0, "nightly_s": 3.0, "query_p95_ms": 50.0, "page_p95_ms": 150.0, "size_pct": 60.0}


def _env(index: bool) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "CABLELAKE_SEARCH_INDEX": "1" if index else "0"}
    return env


def _cpu() -> float:
    """CPU seconds of the finished child processes so far (user + system): steadier than wall time on a
    machine shared with other work."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


LAST_CPU = [0.0]  # CPU seconds of the last _run: its whole process tree


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record in ``seen`` the CPU so far (user + system) of ``root`` and its live descendants (psutil, as
    bench/scale.py samples memory): the pipeline's parse workers are children of its forkserver, which nobody
    waits for, so the children's rusage misses them."""
    import psutil

    try:
        top = psutil.Process(root)
        procs = [top, *top.children(recursive=True)]
    except psutil.Error:  # finished meanwhile
        return
    for p in procs:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        seen[p.pid] = t.user + t.system


def _run(args: list[str], index: bool = False) -> tuple[float, str]:
    """Run ``python ARGS`` of the measured code; its wall seconds and stdout. ``LAST_CPU``: the CPU of its
    process tree (sampled every 0.2 s, or the children's rusage when that is more)."""
    import tempfile

    t0, c0 = time.perf_counter(), _cpu()
    seen: dict[int, float] = {}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, *args], cwd=REPO, env=_env(index), stdout=out, stderr=err,
                                text=True)  # cwd=REPO: ``-m etl.cli`` of the measured code
        while proc.poll() is None:
            _tree_cpu(proc.pid, seen)
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{args}: {stderr[-3000:]}")
    LAST_CPU[0] = max(_cpu() - c0, sum(seen.values()))
    return wall, stdout


def _sync_in_process(lake: Path, rebuild: bool) -> dict[str, object]:
    code = (f"import json, resource, etl.search as s; r = s.sync({str(lake)!r}, rebuild={rebuild}).to_dict(); "
            "r['peak_rss_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024); print(json.dumps(r))")
    wall, out = _run(["-c", code])
    res: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    res["cpu_split"] = res.pop("cpu", None)  # (older code has none) the sync's own CPU figures
    res["wall"] = wall
    res["cpu"] = LAST_CPU[0]
    return res


def _split(build: dict[str, Any], cables: int) -> str:
    """Where the build's CPU went: the Python thread (Parquet read, documents, add calls) and tantivy's
    indexing threads (tokens, stemming, postings, segment writes), per cable; its steps' wall seconds."""
    cpu = build["cpu_split"]
    per = {k: 1e6 * float(v) / max(cables, 1) for k, v in cpu.items()}
    return (f"{per['all']:.0f} us/cable: Python thread {per['python']:.0f}, tantivy threads "
            f"{per['all'] - per['python']:.0f}; steps (wall s) {build.get('phases')}")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def typical_queries(lake: Path) -> list[str]:
    """20 queries of the kinds people type; the fielded ones take their values from the lake itself."""
    from etl.search import search

    top = search(lake, "NOT id:none", limit=1, snippets=False).facets
    origin = top["origin"][0][0]
    origin2 = top["origin"][min(3, len(top["origin"]) - 1)][0]
    tag = top["tag"][0][0]
    tag2 = top["tag"][min(5, len(top["tag"]) - 1)][0]
    years = [y for y, _ in top["year"]]
    year = years[len(years) // 2]
    return [
        "nuclear",
        "election",
        "minister",
        '"prime minister"',
        '"human rights"',
        "iran AND nuclear",
        "(oil OR gas) AND russia",
        "terror*",
        "negotiat* AND agreement",
        f"tag:{tag}",
        f"tag:{tag} AND tag:{tag2}",
        f'origin:"{origin}"',
        f'origin:"{origin2}" AND election',
        "classification:SECRET",
        f"sent:{year}",
        f"sent:{year}-01..{year}-06 AND minister",
        f"embassy NOT tag:{tag}",
        f'"foreign minister" AND sent:{years[0]}..{years[-1]}',
        "military AND classification:CONFIDENTIAL",
        "visit OR meeting OR talks",
    ]


def query_latency(lake: Path, queries: list[str], rounds: int) -> dict[str, object]:
    from etl.search import Searcher

    s = Searcher(lake)
    for q in queries:  # warm: open the index, first catalog connection
        s.search(q)
    times: list[float] = []
    cpu: list[float] = []
    per_query: dict[str, float] = {}
    totals: dict[str, int] = {}
    for _ in range(rounds):
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            res = s.search(q, limit=20)
            dt = time.perf_counter() - t0
            cpu.append(time.process_time() - c0)
            times.append(dt)
            per_query[q] = max(per_query.get(q, 0.0), dt)
            totals[q] = res.total
    return {"p50_ms": statistics.median(times) * 1000, "p95_ms": _p95(times) * 1000, "n": len(times),
            "cpu_p95_ms": _p95(cpu) * 1000,
            "slowest": sorted(((round(v * 1000, 1), k) for k, v in per_query.items()), reverse=True)[:3],
            "hits": totals}


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def page_latency(lake: Path, queries: list[str], rounds: int) -> dict[str, object]:
    sys.path.insert(0, str(REPO / "tests" / "web"))
    sys.path.insert(0, str(REPO / "tests" / "dashboard"))
    from _server import Server

    from etl.search import search

    srv = Server(lake)
    base = srv.base
    try:
        ids = [h.reference_id for q in queries[:10] for h in search(lake, q, limit=2, snippets=False).hits]
        rnd = random.Random(1)
        rnd.shuffle(ids)
        ids = ids[:20]

        def timed(path: str) -> float:
            t0 = time.perf_counter()
            with urllib.request.urlopen(base + path, timeout=60) as r:
                r.read()
                assert r.status == 200, path
            return time.perf_counter() - t0

        for q in queries:
            timed("/?" + urllib.parse.urlencode({"q": q}))
        for i in ids:
            timed(f"/cable/{i}")
        search_t = [timed("/?" + urllib.parse.urlencode({"q": q})) for _ in range(rounds) for q in queries]
        cable_t = [timed(f"/cable/{i}") for _ in range(rounds) for i in ids]
    finally:
        srv.stop()
    return {"search_p50_ms": statistics.median(search_t) * 1000, "search_p95_ms": _p95(search_t) * 1000,
            "cable_p50_ms": statistics.median(cable_t) * 1000, "cable_p95_ms": _p95(cable_t) * 1000,
            "pages": len(search_t) + len(cable_t)}


def _parquet_bytes(lake: Path) -> int:
    from etl import catalog
    from etl.lake import LakePaths

    return sum(Path(f).stat().st_size for f in catalog.live_files(LakePaths(lake), "cables"))


def real_text_size(csvs: Path, work: Path, seeds: list[list[str]]) -> dict[str, float]:
    """Index size against the cables' Parquet on a lake of the distinct seed cables, each once."""
    from etl.search import index_dir

    csv = csvs / f"distinct-{len(seeds)}.csv"
    if not csv.exists():
        build_csv(csv, len(seeds), seeds)  # each seed once: distinct real texts
    lake = work / "lake-real"
    if lake.exists():
        import shutil

        shutil.rmtree(lake)
    _run(["-m", "etl.cli", "run", str(csv), "--lake", str(lake), "--json"])
    _sync_in_process(lake, rebuild=True)
    parquet, index_bytes = _parquet_bytes(lake), _size(index_dir(lake))
    return {"cables": len(seeds), "parquet_bytes": parquet, "index_bytes": index_bytes,
            "pct": 100 * index_bytes / parquet}


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def measure(args: argparse.Namespace) -> dict[str, object]:
    work = args.work
    lake = work / "lake"
    if args.keep_lake and lake.exists():
        print(f"search benchmark: the lake left in {work} (--keep-lake), load {_load()}", flush=True)
        return measure_reads(lake, args, {"rows": args.rows, "code": str(REPO)})
    if lake.exists():
        import shutil

        shutil.rmtree(lake)
    csvs = args.csv_dir or work
    base_csv = csvs / f"cables-{args.rows}.csv"
    new_csv = csvs / f"nightly-{args.rows}-{args.nightly}.csv"
    seeds, per_format = _seed_rows(args.corpus)
    where = args.corpus if args.corpus.is_dir() else "the bundled sample (no corpus: 4 cables repeated)"
    print(f"  seeds: {len(seeds):,} distinct cables from {where} {per_format}", flush=True)
    if not base_csv.exists():
        build_csv(base_csv, args.rows, seeds)
    if not new_csv.exists():
        build_csv(new_csv, args.nightly, seeds, start=args.rows)
    real = real_text_size(csvs, work, seeds)

    print(f"search benchmark: {args.rows:,} cables (+{args.nightly:,} nightly), {os.cpu_count()} cores, code {REPO}, "
          f"load {_load()}", flush=True)
    pipe_s, out = _run(["-m", "etl.cli", "run", str(base_csv), "--lake", str(lake), "--json"])
    summary = json.loads(out)
    pipe_cpu = LAST_CPU[0]
    print(f"  pipeline (index off)      {pipe_s:8.1f} s   {summary['lake_cables']:,} cables; CPU {pipe_cpu:.1f} s (its "
          f"process tree); load {_load()}", flush=True)
    build = _sync_in_process(lake, rebuild=True)
    build_s = float(build["seconds"])  # type: ignore[arg-type]
    print(f"  index from scratch        {build_s:8.1f} s   {100 * build_s / pipe_s:5.1f} % of the pipeline "
          f"(target <= {TARGETS['build_pct']:.0f} %; process wall {float(build['wall']):.1f} s; "  # type: ignore[arg-type]
          f"CPU {float(build['cpu']):.1f} s, peak RSS {build['peak_rss_mib']} MiB; load {_load()})", flush=True)  # type: ignore[arg-type]
    if build.get("cpu_split"):
        print(f"    index build CPU          {_split(build, summary['lake_cables'])}", flush=True)
    print(f"    in CPU                   index build {float(build['cpu']):.1f} s = "  # type: ignore[arg-type]
          f"{100 * float(build['cpu']) / pipe_cpu:.1f} % of the pipeline's {pipe_cpu:.1f} s "  # type: ignore[arg-type]
          "(less sensitive to the machine's load than the wall ratio)", flush=True)

    night_s, _ = _run(["-m", "etl.cli", "run", str(new_csv), "--lake", str(lake), "--json"])
    upd = _sync_in_process(lake, rebuild=False)
    upd_s = float(upd["seconds"])  # type: ignore[arg-type]
    print(f"  nightly +{args.nightly:,} cables: pipeline {night_s:.1f} s; index update {upd_s:.2f} s "
          f"(added {upd['added']}, deleted {upd['deleted']}; target <= {TARGETS['nightly_s']:.0f} s)", flush=True)
    return measure_reads(lake, args, {
        "rows": args.rows, "code": str(REPO), "pipeline_s": pipe_s, "pipeline_cpu": pipe_cpu, "build": build,
        "nightly_pipeline_s": night_s,
        "update": upd, "real_size": real})


def measure_reads(lake: Path, args: argparse.Namespace, figures: dict[str, object]) -> dict[str, object]:
    """Index size, query and page latency of the lake as it stands (what --keep-lake measures alone)."""
    os.environ.setdefault("CABLELAKE_SEARCH_CACHE", "0")  # (the rounds repeat each query: see the module doc)
    from etl.search import index_dir

    parquet = _parquet_bytes(lake)
    index_bytes = _size(index_dir(lake))
    print(f"  index size                {index_bytes / 2**20:8.1f} MiB  {100 * index_bytes / parquet:5.1f} % of the "
          f"cables' Parquet ({parquet / 2**20:.1f} MiB; target <= {TARGETS['size_pct']:.0f} %)", flush=True)
    real = figures.get("real_size")
    if isinstance(real, dict):
        print(f"  index size, real text     {real['index_bytes'] / 2**20:8.1f} MiB  {real['pct']:5.1f} % of the cables' "
              f"Parquet ({real['parquet_bytes'] / 2**20:.1f} MiB, {real['cables']:,.0f} distinct corpus cables)",
              flush=True)

    queries = typical_queries(lake)
    ql = query_latency(lake, queries, args.rounds)
    print(f"  20 typical queries        p50 {ql['p50_ms']:.1f} ms, p95 {ql['p95_ms']:.1f} ms over {ql['n']} searches "
          f"(target p95 <= {TARGETS['query_p95_ms']:.0f} ms; CPU p95 {ql['cpu_p95_ms']:.1f} ms); slowest {ql['slowest']}; "
          f"load {_load()}", flush=True)
    pl = page_latency(lake, queries, max(1, args.rounds // 2))
    print(f"  pages over HTTP           search p50 {pl['search_p50_ms']:.0f} / p95 {pl['search_p95_ms']:.0f} ms, "
          f"cable p50 {pl['cable_p50_ms']:.0f} / p95 {pl['cable_p95_ms']:.0f} ms "
          f"(target p95 <= {TARGETS['page_p95_ms']:.0f} ms; load {_load()})", flush=True)
    return {**figures, "parquet_bytes": parquet, "index_bytes": index_bytes, "queries": ql, "pages": pl}


FIGURES: tuple[tuple[str, Callable[[Any], float], str], ...] = (  # (label, how to get it from a measure() result, unit)
    ("index build / pipeline", lambda r: 100 * float(r["build"]["seconds"]) / float(r["pipeline_s"]), "%"),
    ("index build", lambda r: float(r["build"]["seconds"]), "s"),
    ("pipeline (index off)", lambda r: float(r["pipeline_s"]), "s"),
    ("index build, CPU", lambda r: float(r["build"]["cpu"]), "s"),
    ("pipeline (index off), CPU", lambda r: float(r.get("pipeline_cpu") or "nan"), "s"),
    ("index build / pipeline, CPU", lambda r: 100 * float(r["build"]["cpu"]) / float(r.get("pipeline_cpu") or "nan"),
     "%"),
    ("nightly index update", lambda r: float(r["update"]["seconds"]), "s"),
    ("query p95", lambda r: float(r["queries"]["p95_ms"]), "ms"),
    ("query p95, CPU", lambda r: float(r["queries"]["cpu_p95_ms"]), "ms"),
    ("search page p95", lambda r: float(r["pages"]["search_p95_ms"]), "ms"),
    ("cable page p95", lambda r: float(r["pages"]["cable_p95_ms"]), "ms"),
    ("index / Parquet (built rows)", lambda r: 100 * r["index_bytes"] / r["parquet_bytes"], "%"),
    ("index / Parquet (real text)", lambda r: float(r["real_size"]["pct"]), "%"),
)


def compare(args: argparse.Namespace) -> int:
    """The measurements with the baseline's code, then with this checkout's, each in a child process."""
    results = []
    args.work.mkdir(parents=True, exist_ok=True)
    for name, code in (("baseline", args.compare.resolve()), ("this", HERE)):
        child = [sys.executable, str(HERE / "bench" / "search_bench.py"), "--rows", str(args.rows),
                 "--nightly", str(args.nightly), "--rounds", str(args.rounds), "--work", str(args.work / name),
                 "--corpus", str(args.corpus), "--code", str(code), "--json-out", str(args.work / f"{name}.json"),
                 "--csv-dir", str(args.csv_dir or args.work)]
        print(f"== {name}: {code}", flush=True)
        subprocess.run(child, check=True)
        results.append(json.loads((args.work / f"{name}.json").read_text()))
    print(f"\n{'figure':32} {'baseline':>12} {'this':>12}")
    for label, get, unit in FIGURES:
        print(f"{label:32} {get(results[0]):10.1f} {unit:2} {get(results[1]):9.1f} {unit}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--nightly", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=5, help="repetitions of the query and page sets")
    ap.add_argument("--work", type=Path, default=HERE / ".bench" / "search")
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("CABLELAKE_CORPUS", HERE.parent / "shared" / "corpus")))
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep-lake", action="store_true",
                    help="reuse the lake a previous run left in --work: skip the pipeline, build and nightly "
                    "figures, measure size, queries and pages only")
    ap.add_argument("--csv-dir", type=Path, help="where the built csv files are kept (default: --work)")
    ap.add_argument("--json-out", type=Path, help="write the figures as JSON to this file")
    ap.add_argument("--code", type=Path, help="measure the code of this checkout (default: this one)")
    ap.add_argument("--compare", type=Path, metavar="DIR", help="baseline checkout: measure it, then this one")
    args = ap.parse_args(argv)
    args.work = args.work.resolve()  # the pipeline runs in the measured checkout's folder
    args.csv_dir = args.csv_dir.resolve() if args.csv_dir else None
    if args.compare is not None:
        return compare(args)
    res = measure(args)
    if args.json:
        print(json.dumps(res, indent=2, default=str))
    if args.json_out:
        args.json_out.write_text(json.dumps(res, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
