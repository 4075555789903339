"""Cablegate-scale benchmark (issues 8, 17): a 251,287-row cables.csv through the whole pipeline.

Builds a full-scale corpus in the ``cables.csv`` release format (unique ids, the release's escaping) from every
real cable of the corpus (``../shared/corpus``: the cables.csv rows, cablegate pages, PlusD pages, raw telegram
text, JSON-lines exports, Markdown and PDF prints, read through ``etl.sources`` and deduplicated by reference
id; falls back to the bundled sample dump), then measures in one run:

* the I/O floor: pyarrow's streaming CSV reader writing the same file unchanged as zstd Parquet;
* the csv reader: records/s of the C++ path and of the project's tokenizer alone, against pyarrow's raw read;
* the real pipeline (``cablelake run``: parse, validate, publish, catalog) with wall time per stage,
  cables/s, MB/s, peak RSS (the whole process tree) and the ratio pipeline/floor;
* the same at 50,000 rows with 2 and with 1 parse process: cables/s at each, CPU per cable of each stage
  (read, parse, validate, publish, catalog) and the wall time expected on more cores and Celery workers;
* the no-op rerun, and dashboard queries on the full lake.

Every figure is printed and written to ``.bench/last.json`` (with the time and the git commit; a copy is kept
under ``.bench/runs/``), so that runs can be compared:

    make bench                                    # full scale (about 1.9 GB of csv in .bench/, git-ignored)
    python bench/scale.py --rows 20000 --small 5000            # a quick look
    python bench/scale.py --compare .bench/runs/OLD.json       # print new/old ratios after the run
    python bench/scale.py --compare-only NEW.json OLD.json     # compare two saved runs, run nothing
    python bench/scale.py --memory --keep                      # only the peak RSS at both sizes, its ratio
    python bench/scale.py --memory --against ../main --keep    # the same, this code and another checkout's
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple, cast

REPO = Path(__file__).resolve().parents[1]
FULL_ROWS = 251_287

_ID = re.compile(r"^(\d{2}|\d{4})([A-Z]+?)(\d+)(_[a-z0-9]+)?$")
"""A reference id: year (2 digits, 4 in PlusD ids), post, serial, PlusD suffix (``_b``)."""


SEED_FOLDERS = ("cables-csv", "cablegate-html", "cablegate-html-variants", "plusd-html", "raw-text", "jsonl",
                "markdown", "pdf")
"""Corpus folders read for seed cables, in order of preference when two hold the same reference id."""


def _seed_rows(corpus: Path | None) -> tuple[list[list[str]], dict[str, int]]:
    """Distinct real cables as complete 8-field rows, and how many each format gave: every record of every
    format of the corpus that ``etl.sources`` reads and the parser gives a reference id and a time."""
    sys.path.insert(0, str(REPO))
    from etl.parse import parse
    from etl.sources import discover, iter_records

    folders = [corpus / f for f in SEED_FOLDERS if (corpus / f).is_dir()] if corpus else []
    if not folders:
        folders = [REPO / "sample" / "dumps"]
    seen: dict[str, list[str]] = {}
    per_format: dict[str, int] = {}
    for dump in discover([str(f) for f in folders]):
        for rec in iter_records(dump):
            row = _as_row(rec, parse) if not rec.error and rec.body.strip() else None
            if row is not None and row[2] not in seen:
                seen[row[2]] = row
                per_format[rec.lineage.format] = per_format.get(rec.lineage.format, 0) + 1
    return list(seen.values()), per_format


def _as_row(rec: Any, parse: Any) -> list[str] | None:
    """A record as a cables.csv row: the publisher's metadata where the dump has it, else the parsed fields."""
    meta = rec.meta
    fields = parse(rec)
    rid = meta.get("reference_id") or fields.get("reference_id") or ""
    if not _ID.match(rid):
        return None
    m = re.match(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})", meta.get("created", ""))
    sent = fields.get("sent_at")
    if m:
        y, mo, d, hh, mm = (int(g) for g in m.groups())
    elif sent is not None:
        y, mo, d, hh, mm = sent.year, sent.month, sent.day, sent.hour, sent.minute
    else:
        return None
    refs = meta.get("references") or ""
    return ["0", f"{mo}/{d}/{y} {hh}:{mm:02d}", rid, meta.get("origin") or fields.get("origin") or "",
            meta.get("classification") or fields.get("classification") or "", refs, rec.header, rec.body]


def _esc(value: str) -> str:
    """The release's escaping: backslash, quote and apostrophe get a backslash."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")


def build_csv(path: Path, rows: int, seeds: list[list[str]], start: int = 0) -> dict[str, float]:
    """Write ``rows`` cables.csv rows with unique ids (seed text with a new serial per row), numbered from
    ``start`` (so that two files can hold different cables)."""
    if not seeds:
        raise SystemExit("no seed rows")
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as out:
        for i in range(start, start + rows):
            seq, created, rid, origin, cls, refs, header, body = seeds[i % len(seeds)]
            m = _ID.match(rid)
            assert m is not None
            yy, post, serial, suffix = m.groups()
            new_serial = str(i + 1)
            new_id = f"{yy}{post}{new_serial}{suffix or ''}"
            # keep the text consistent with the new id: banner / DE serials carry it too
            pad_old, pad_new = serial.zfill(6), new_serial.zfill(6)
            body = body.replace(pad_old, pad_new, 2)
            header = header.replace(f"#{serial}", f"#{new_serial}", 1)
            fields = [str(i + 1), created, new_id, origin, cls, refs, header, body]
            out.write(",".join(f'"{_esc(v)}"' for v in fields) + "\n")
    return {"seconds": time.perf_counter() - t0, "bytes": path.stat().st_size, "seeds": len(seeds)}


def _status_kb(pid: int) -> dict[str, int]:
    """RSS and its kinds (anonymous, file-backed, shared memory) of one process, in bytes, from
    ``/proc/PID/status`` (empty where there is no /proc)."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                key, _, value = line.partition(b":")
                if key in (b"VmRSS", b"RssAnon", b"RssFile", b"RssShmem"):
                    out[key.decode()] = int(value.split()[0]) * 1024
    except (OSError, ValueError):
        pass
    return out


def _role(p: Any, root: Any, forkserver: set[int]) -> str:
    """What a process of the tree is: the run itself, multiprocessing's helpers, or a parse worker."""
    try:
        if p.pid == root.pid:
            return "parent"
        cmd = " ".join(p.cmdline())
        if "forkserver" in cmd and p.ppid() == root.pid:
            forkserver.add(p.pid)
            return "forkserver"
        if "resource_tracker" in cmd:
            return "resource_tracker"
        if p.ppid() in forkserver:
            return "worker"
    except Exception:  # psutil.Error: the process is gone
        pass
    return "other"


class _RssSampler:
    """Peak RSS of a process and all its descendants, sampled every 50 ms (psutil), with what each process
    held at that peak (RSS, anonymous and file-backed) and each process's own peak. With ``trace`` (a path),
    every sample is appended there as a JSON line (seconds, then pid, role, rss, anon, file per process)."""

    def __init__(self, pid: int, trace: Path | None = None) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self.procs = 1
        """The most processes seen in the tree at once (the children are counted, not only the parent)."""
        self.at_peak: list[dict[str, Any]] = []
        """Each process at the tree's peak: pid, role, rss, anon, file (bytes)."""
        self.own_peaks: dict[int, dict[str, Any]] = {}
        """Each process's own peak RSS (with its kinds at that moment), by pid."""
        self._roles: dict[int, str] = {}
        self._forkserver: set[int] = set()
        self._trace = trace.open("w") if trace else None
        self._t0 = time.perf_counter()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _sample(self) -> None:
        import psutil

        procs = [self.proc, *self.proc.children(recursive=True)]
        self.procs = max(self.procs, len(procs))
        rows = []
        for p in procs:
            st = _status_kb(p.pid)
            if "VmRSS" not in st:
                try:
                    st = {"VmRSS": p.memory_info().rss}
                except psutil.Error:
                    continue
            if self._roles.get(p.pid, "other") == "other":  # (a child just forked has its parent's cmdline)
                self._roles[p.pid] = _role(p, self.proc, self._forkserver)
            row = {"pid": p.pid, "role": self._roles[p.pid], "rss": st["VmRSS"], "anon": st.get("RssAnon", 0),
                   "file": st.get("RssFile", 0), "shmem": st.get("RssShmem", 0)}
            rows.append(row)
            own = self.own_peaks.get(p.pid)
            if own is None or row["rss"] > own["rss"]:
                self.own_peaks[p.pid] = row
        total = sum(r["rss"] for r in rows)
        if total > self.peak:
            self.peak, self.at_peak = total, rows
        if self._trace:
            self._trace.write(json.dumps([round(time.perf_counter() - self._t0, 2),
                                          *[[r["pid"], r["role"], r["rss"], r["anon"], r["file"]] for r in rows]])
                              + "\n")

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                self._sample()
            except psutil.Error:
                pass
            self._stop.wait(0.05)

    def stop(self) -> tuple[int, int]:
        """(peak RSS summed over the tree, most processes seen at once)."""
        self._stop.set()
        self._t.join()
        if self._trace:
            self._trace.close()
        return self.peak, self.procs

    def breakdown(self) -> dict[str, Any]:
        """The processes at the tree's peak and each process's own peak, largest first."""
        return {"at_peak": sorted(self.at_peak, key=lambda r: -r["rss"]),
                "own_peaks": sorted(self.own_peaks.values(), key=lambda r: -r["rss"])}


class _Measured(NamedTuple):
    wall: float
    """Seconds."""
    peak: int
    """Peak RSS of the process tree (bytes)."""
    out: str
    procs: int
    """The most processes of the tree seen at once."""
    rss: dict[str, Any]
    """Per process: at the tree's peak, and each one's own peak (:meth:`_RssSampler.breakdown`)."""


def _measure(cmd: list[str], env: dict[str, str] | None = None, trace: Path | None = None,
             cwd: Path = REPO) -> _Measured:
    """Run ``cmd`` (with ``env`` added to this environment) in ``cwd`` and sample the RSS of its process tree
    (every sample into ``trace`` if given)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, cwd=cwd)
    sampler = _RssSampler(proc.pid, trace)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    peak, procs = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-4000:]}")
    return _Measured(wall, peak, out, procs, sampler.breakdown())


_FLOOR = r"""
import sys, pyarrow as pa, pyarrow.csv as pc, pyarrow.parquet as pq
src, dst = sys.argv[1], sys.argv[2]
names = ["seq", "created", "reference_id", "origin", "classification", "references", "header", "body"]
reader = pc.open_csv(src, read_options=pc.ReadOptions(column_names=names, block_size=16 << 20),
    parse_options=pc.ParseOptions(escape_char="\\", double_quote=False, newlines_in_values=True),
    convert_options=pc.ConvertOptions(column_types={n: pa.string() for n in names}))
writer = None
n = 0
for batch in reader:
    if writer is None:
        writer = pq.ParquetWriter(dst, batch.schema, compression="zstd")
    writer.write_batch(batch)
    n += batch.num_rows
writer.close()
print(n)
"""


def io_floor(csv_path: Path, work: Path) -> dict[str, float]:
    out = work / "floor.parquet"
    m = _measure([sys.executable, "-c", _FLOOR, str(csv_path), str(out)])
    return {"seconds": m.wall, "peak_rss": m.peak, "rows": int(m.out.strip())}


_MINIMAL = (  # what a minimal peer extracts: DTG, FM, banner, TAGS, SUBJECT, one regex each
    re.compile(r"\b(\d{6}Z) ([A-Z]{3}) (\d{2})\b"),
    re.compile(r"^FM (.+)$", re.M),
    re.compile(r"^(UNCLAS\S*|CONFIDENTIAL|SECRET|LIMITED OFFICIAL USE)\s+(?:SECTION \d+ OF \d+ )?(\D+?) (\d+)", re.M),
    re.compile(r"^TAGS:?\s*(.+)$", re.M),
    re.compile(r"^SUBJ(?:ECT)?:?\s*(.+)$", re.M),
)


def cpu_budget(csv_path: Path, floor_seconds: float, rows: int, sample: int = 5_000) -> dict[str, float]:
    """CPU per cable, one core, on the first ``sample`` rows: the real parser, a minimal five-regex pass, and
    what the 2x-floor target leaves per cable when both cores parse (where the time must go, in one number)."""
    sys.path.insert(0, str(REPO))
    from etl.parse import parse
    from etl.sources import discover, iter_records

    recs = []
    for dump in discover([str(csv_path)]):
        for rec in iter_records(dump):
            recs.append(rec)
            if len(recs) >= sample:
                break
    t0 = time.process_time()
    for rec in recs:
        parse(rec)
    full = (time.process_time() - t0) / len(recs)
    t0 = time.process_time()
    for rec in recs:
        text = rec.header + "\n" + rec.body
        for rx in _MINIMAL:
            rx.search(text)
    minimal = (time.process_time() - t0) / len(recs)
    budget = (2 * floor_seconds) * (os.cpu_count() or 1) / rows
    return {"parse_us": full * 1e6, "minimal_us": minimal * 1e6, "budget_us": budget * 1e6}


def pipeline_run(csv_path: Path, lake: Path, workers: int, trace: Path | None = None,
                 code: Path = REPO) -> dict[str, Any]:
    """``cablelake run`` as a user runs it, with the ``etl`` package of the checkout ``code``."""
    cmd = [sys.executable, "-m", "etl.cli", "run", str(csv_path), "--lake", str(lake), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {"CABLELAKE_WORKERS": str(workers), "PYTHONPATH": str(code)}
    m = _measure(cmd, env, trace, cwd=code)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    summary = json.loads(m.out)
    return {"seconds": m.wall, "cpu_seconds": cpu, "peak_rss": m.peak, "processes": m.procs, "workers": workers,
            "rss": m.rss, "summary": summary, "cables_per_s": summary.get("records_found", 0) / m.wall}


def stage_cpu(csv_path: Path, lake: Path) -> dict[str, Any]:
    """One parse process, CPU seconds per stage (bench/_stages.py), in a subprocess of its own."""
    m = _measure([sys.executable, str(REPO / "bench" / "_stages.py"), str(csv_path), str(lake)])
    out: dict[str, Any] = json.loads(m.out)
    n = max(1, int(out["records"]))
    out.update(seconds=m.wall, peak_rss=m.peak, cables_per_s=n / m.wall,
               us_per_cable={k: v / n * 1e6 for k, v in out["cpu"].items()},
               search_threads_us=out.get("search_threads", 0.0) / n * 1e6)
    return out


_READERS = r"""
import io, json, sys, time
import pyarrow as pa, pyarrow.csv as pc
sys.path.insert(0, sys.argv[2])
from etl.sources import Limits
from etl.sources._context import Context
from etl.sources._model import Dump
from etl.sources._formats import csv as fmt
path = sys.argv[1]
out = {}
names = [f"f{i}" for i in range(8)]
t0 = time.process_time()
reader = pc.open_csv(path, read_options=pc.ReadOptions(column_names=names, block_size=16 << 20, use_threads=False),
    parse_options=pc.ParseOptions(escape_char="\\", double_quote=False, newlines_in_values=True),
    convert_options=pc.ConvertOptions(column_types={n: pa.string() for n in names}))
rows = sum(b.num_rows for b in reader)
out["pyarrow_raw"] = {"records": rows, "cpu": time.process_time() - t0}
for name in ("tokenizer", "cpp"):
    read = fmt.read_tokenizer_only if name == "tokenizer" else fmt.read
    ctx = Context(Dump(path, "0" * 64, 0), None, Limits())
    t0 = time.process_time()
    with open(path, "rb") as fh:
        n = sum(1 for _ in read(ctx, fh))
    out[name] = {"records": n, "cpu": time.process_time() - t0}
print(json.dumps(out))
"""


def csv_readers(csv_path: Path) -> dict[str, Any]:
    """Records/s (CPU, one thread) of the csv reader's C++ path, of the tokenizer alone, of pyarrow's raw read."""
    out: dict[str, Any] = json.loads(_measure([sys.executable, "-c", _READERS, str(csv_path), str(REPO)]).out)
    for v in out.values():
        v["records_per_s"] = v["records"] / max(v["cpu"], 1e-9)
    return out


def projections(stages: dict[str, Any], rows: int) -> dict[str, Any]:
    """Amdahl. Parse workers read the dumps themselves and parse, validate (Great Expectations, chunk by chunk)
    and write their own batches: parse and validate spread over the cores, but each worker reads the whole
    shard to find its batches, so the read does not; publish (a commit of the workers' files) and the catalog
    (its views, summaries and the search index sync) are one process for the whole run. On N Celery workers
    the DAG maps one parse task per shard, each reading its own shard, so the read spreads too (given at
    least N shards: one 2 GB csv is one shard today).

    Inside the catalog, the search index's postings are built by tantivy's own indexing threads (as many as
    the cores, at most ``INDEX_THREADS``) while one Python thread reads the lake and makes the documents: that
    part of the catalog spreads over the cores too, the rest of it does not."""
    us = stages["us_per_cable"]
    threads = min(stages.get("search_threads_us", 0.0), us["catalog"])
    serial = us["read"] + us["publish"] + us["catalog"] - threads
    parallel = us["parse"] + us["validate"]

    def wall(p: int, serial_us: float, parallel_us: float) -> float:
        return rows * (serial_us + parallel_us / p + threads / min(p, INDEX_THREADS)) / 1e6

    machine = {p: wall(p, serial, parallel) for p in (1, 2, 8, 32)}
    celery_serial = us["publish"] + us["catalog"] - threads
    celery = {n: wall(n, celery_serial, us["read"] + parallel) for n in (1, 4, 16, 64)}
    return {"serial_us": serial, "parallel_us": parallel, "index_threads_us": threads, "one_machine_s": machine,
            "celery_serial_us": celery_serial, "celery_s": celery,
            "max_speedup_one_machine": (serial + parallel + threads) / (serial + threads / INDEX_THREADS)}


INDEX_THREADS = 8
"""The indexing threads tantivy starts at most (its ``MAX_NUM_THREAD``) when the pipeline lets it choose."""


ADHOC_QUERIES = {  # an analyst's queries on the views (no summary behind them)
    "cables per month by classification": (
        "select date_trunc('month', sent_at) as month, classification, count(*) from cables group by all"
    ),
    "top origins": "select origin, count(*) as n from cables group by all order by n desc limit 20",
    "top tags": "select t, count(*) as n from (select unnest(tags) as t from cables) group by all "
    "order by n desc limit 20",
    "tag filter over a year": (
        "select reference_id, subject from cables where year = 2009 and list_contains(tags, 'PREL') limit 500"
    ),
}


class _TimedConnection:
    """A catalog connection that times every query it runs (to the end of its rows), keyed by its SQL."""

    def __init__(self, con: Any) -> None:
        self.con = con
        self.times: dict[str, list[float]] = {}

    def execute(self, sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        cur = self.con.execute(sql, *args)
        rows = cur.fetchall()
        self.times.setdefault(" ".join(sql.split()), []).append(time.perf_counter() - t0)
        return _Result(cur.description, rows)


class _Result:
    def __init__(self, description: Any, rows: list[Any]) -> None:
        self.description, self.rows = description, rows

    def fetchall(self) -> list[Any]:
        return self.rows

    def fetchone(self) -> Any:
        return self.rows[0] if self.rows else None


def dashboard_queries(lake: Path, rounds: int = 5) -> dict[str, Any]:
    """Median time of every query the dashboard runs (``etl.dashboard``'s own ``collect``, on the catalog
    as a reader opens it), the slowest of them, and the same for a few ad-hoc queries on the views."""
    sys.path.insert(0, str(REPO))
    from etl.catalog import connect
    from etl.dashboard._data import collect

    con = connect(lake, read_only=True)
    timed = _TimedConnection(con)
    for _ in range(rounds + 1):  # the first round warms the caches
        collect(cast(Any, timed), str(lake))  # a timing proxy of the connection
    dashboard = {q[:100]: statistics.median(ts[1:]) for q, ts in timed.times.items()}
    adhoc: dict[str, float] = {}
    for name, q in ADHOC_QUERIES.items():
        con.execute(q).fetchall()
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            con.execute(q).fetchall()
            times.append(time.perf_counter() - t0)
        adhoc[name] = statistics.median(times)
    con.close()
    return {"dashboard": dashboard, "dashboard_max": max(dashboard.values()), "adhoc": adhoc}


def memory_runs(big: Path, small: Path, work: Path, against: Path | None = None) -> dict[str, Any]:
    """Peak RSS of the process tree (2 parse processes) at both sizes and their ratio; with ``against`` (another
    checkout), the same runs of its code, each size run by both one after the other (a same-run A/B)."""
    import shutil

    code = {"this": REPO, **({"against": against.resolve()} if against else {})}
    out: dict[str, Any] = {name: {"code": str(path)} for name, path in code.items()}
    for size, csv_path in (("small", small), ("full", big)):
        for name, path in code.items():
            lake = work / f"lake-memory-{name}"
            shutil.rmtree(lake, ignore_errors=True)
            out[name][size] = run = pipeline_run(csv_path, lake, 2, code=path)
            shutil.rmtree(lake, ignore_errors=True)
            print(f"{name} {size}: {run['seconds']:.1f}s wall, peak RSS {_mb(run['peak_rss'])}", flush=True)
    for runs in out.values():
        runs["rss_ratio"] = runs["full"]["peak_rss"] / runs["small"]["peak_rss"]
    return out


def memory_report(m: dict[str, Any], rows: int, small: int) -> list[str]:
    lines = ["=" * 96]
    for name, runs in m.items():
        full, part = runs["full"], runs["small"]
        lines += [f"{name} ({runs['code']}):",
                  f"peak RSS {rows:,}    {_mb(full['peak_rss']):>12}   wall {full['seconds']:6.1f} s   "
                  "(whole process tree, 2 parse processes; target <= 1.5 GB)",
                  f"peak RSS {small:,}     {_mb(part['peak_rss']):>12}   wall {part['seconds']:6.1f} s   "
                  f"ratio = {runs['rss_ratio']:.3f}x  (target <= 1.1x)",
                  *_rss_lines(full, rows), *_rss_lines(part, small)]
    if "against" in m:
        new, old = m["this"], m["against"]
        lines.append("this / against: " + "   ".join(
            f"{k} {new[k]['peak_rss'] / old[k]['peak_rss']:.3f}" for k in ("full", "small"))
            + f"   ratio {new['rss_ratio']:.3f} vs {old['rss_ratio']:.3f}")
    return [*lines, "=" * 96]


def _mb(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def _git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _flat(obj: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a results tree, keyed by their dotted path."""
    out: dict[str, float] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(_flat(v, f"{prefix}{k}."))
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        out[prefix.rstrip(".")] = float(obj)
    return out


def compare(new: dict[str, Any], old: dict[str, Any]) -> list[str]:
    """One line per figure found in both runs: old, new and new/old."""
    a, b = _flat(old.get("figures", old)), _flat(new.get("figures", new))
    lines = [f"compare {new.get('commit', '?')[:12]} ({new.get('timestamp', '?')}) "
             f"with {old.get('commit', '?')[:12]} ({old.get('timestamp', '?')}): new/old"]
    for key in sorted(set(a) & set(b)):
        if a[key]:
            lines.append(f"  {key:<58} {a[key]:>14,.3f} -> {b[key]:>14,.3f}   x{b[key] / a[key]:.2f}")
    return lines


def _procs(rows: list[dict[str, Any]]) -> str:
    return ", ".join(f"{r['role']} {_mb(r['rss'])} (anon {r['anon'] / 2**20:,.0f}, file {r['file'] / 2**20:,.0f})"
                     for r in rows)


def _rss_lines(run: dict[str, Any], rows: int) -> list[str]:
    """Which processes made the peak of a run, and each one's own peak (RSS, anonymous and file-backed)."""
    rss = run.get("rss")
    if not rss:
        return []
    return [f"   at the {rows:,} peak: {_procs(rss['at_peak'])}",
            f"   own peaks: {_procs(rss['own_peaks'][:4])}"]


def report(f: dict[str, Any]) -> list[str]:
    """The figures as printed lines."""
    rows, small = f["rows"], f["small_rows"]
    full, part, floor, st = f["pipeline"], f["small_2_workers"], f["floor"], f["small_1_worker"]
    rd, pj = f["csv_reader"], f["projection"]
    s = full["summary"]
    size = f["csv_bytes"]
    lines = [
        "=" * 96,
        f"cables.csv: {rows:,} rows, {_mb(size)}, from {f['seeds']['cables']:,} distinct real cables "
        f"({', '.join(f'{k} {v}' for k, v in sorted(f['seeds']['per_format'].items()))})",
        f"machine: {f['cpus']} cores, load average {f['load_before']:.1f} before and {f['load_after']:.1f} after "
        "(other work on the machine slows every figure; compare ratios within one run)",
        f"I/O floor            {floor['seconds']:8.1f} s   (pyarrow read csv + write zstd parquet, no parsing)",
        f"pipeline             {full['seconds']:8.1f} s   ratio pipeline/floor = {f['ratio']:.2f}x  (target <= 6x)",
    ]
    lines += [f"   {stage:<17} {secs:8.1f} s" for stage, secs in s["timings"].items()]
    t = s["timings"]
    if t.get("parse") and t.get("parse_cpu"):
        lines.append(f"   parse workers busy {t['parse_cpu'] / (t['parse'] * full['workers']):6.0%} of "
                     f"{full['workers']} cores in the parse stage (idle at the gate: {t.get('gate_wait', 0):.1f} s)")
    lines += [
        f"   cables/s          {full['cables_per_s']:8.0f}   MB/s {size / full['seconds'] / 2**20:.0f}   "
        f"({full['workers']} parse processes)",
        f"   cables {s.get('cables', 0):,}  quarantined {s.get('quarantined', 0):,}  "
        f"(records {s.get('records_found', 0):,})",
        f"csv reader (CPU, {small:,} rows)  C++ path {rd['cpp']['records_per_s']:8,.0f} rec/s   tokenizer alone "
        f"{rd['tokenizer']['records_per_s']:8,.0f} rec/s   pyarrow raw {rd['pyarrow_raw']['records_per_s']:8,.0f} rec/s",
        f"   C++ path / tokenizer = {rd['cpp']['records_per_s'] / rd['tokenizer']['records_per_s']:.2f}x   "
        f"C++ path / pyarrow raw = {rd['cpp']['records_per_s'] / rd['pyarrow_raw']['records_per_s']:.2f}   "
        f"tokenizer / pyarrow raw = {rd['tokenizer']['records_per_s'] / rd['pyarrow_raw']['records_per_s']:.2f}",
        f"scaling ({small:,} rows)  2 processes {part['cables_per_s']:6.0f} cables/s   "
        f"1 process {st['cables_per_s']:6.0f} cables/s   ratio {part['cables_per_s'] / st['cables_per_s']:.2f}x",
        "   CPU per cable: " + "   ".join(f"{k} {v:,.0f} us" for k, v in st["us_per_cable"].items()),
        f"   model (Amdahl): serial = read (each worker reads the shard) + publish + catalog (views, summaries, "
        f"the search documents) = {pj['serial_us']:,.0f} us/cable, parallel = parse + validate (in the workers) = "
        f"{pj['parallel_us']:,.0f} us/cable, the search postings (tantivy's threads, at most {INDEX_THREADS}) = "
        f"{pj.get('index_threads_us', 0):,.0f} us/cable; at most {pj['max_speedup_one_machine']:.1f}x on one machine",
        f"   the model's 2 cores for {rows:,} rows: {pj['one_machine_s'][2]:,.0f} s, measured above: "
        f"{full['seconds']:,.0f} s",
        f"   expected wall for {rows:,} rows, one machine: "
        + "   ".join(f"{p} cores {sec:,.0f} s" for p, sec in pj["one_machine_s"].items()),
        f"   expected wall, N Celery workers on >= N mapped shards (serial publish+catalog "
        f"{pj['celery_serial_us']:,.0f} us/cable): "
        + "   ".join(f"N={n} {sec:,.0f} s" for n, sec in pj["celery_s"].items()),
        f"peak RSS {rows:,}    {_mb(full['peak_rss']):>12}   (whole process tree, up to {full['processes']} "
        "processes summed; target <= 1.5 GiB)",
        f"peak RSS {small:,}     {_mb(part['peak_rss']):>12}   ratio = {f['rss_ratio']:.2f}x  (target <= 1.1x)"
        f"   (1 process: {_mb(st['peak_rss'])})",
        *_rss_lines(full, rows),
        *_rss_lines(part, small),
        f"CPU per cable        parse() {f['cpu']['parse_us']:6.0f} us   minimal 5-regex pass "
        f"{f['cpu']['minimal_us']:4.0f} us   (target parse() <= 150 us)",
        f"no-op rerun          {f['noop']['seconds']:8.2f} s   (CPU {f['noop']['cpu_seconds']:.2f} s; "
        f"operation {f['noop']['summary'].get('operation')}; target <= 1 s)",
    ]
    q = f["queries"]
    slow = sorted(q["dashboard"].items(), key=lambda kv: -kv[1])
    lines.append(f"dashboard queries    {len(slow)} queries, slowest {q['dashboard_max'] * 1000:6.1f} ms  "
                 f"(target <= 100 ms each; medians as etl.dashboard runs them)")
    lines += [f"   {secs * 1000:7.1f} ms  {sql[:84]}" for sql, secs in slow[:5]]
    lines += [f"ad-hoc query on the views: {name:<36} {secs * 1000:7.1f} ms" for name, secs in q["adhoc"].items()]
    lines.append("=" * 96)
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=FULL_ROWS)
    ap.add_argument("--small", type=int, default=50_000, help="rows of the memory and scaling runs")
    ap.add_argument("--work", type=Path, default=REPO / ".bench")
    ap.add_argument("--corpus", type=Path,
                    default=Path(os.environ.get("CABLELAKE_CORPUS", REPO.parent / "shared" / "corpus")))
    ap.add_argument("--keep", action="store_true", help="keep the generated csv files for the next run")
    ap.add_argument("--compare", type=Path, help="a saved run (JSON) to print ratios against")
    ap.add_argument("--compare-only", nargs=2, type=Path, metavar=("NEW", "OLD"), help="compare two saved runs")
    ap.add_argument("--memory", action="store_true",
                    help="only the peak RSS of the pipeline at --rows and --small rows and their ratio")
    ap.add_argument("--against", type=Path, metavar="CHECKOUT",
                    help="with --memory: also run another checkout's code, size by size (a same-run A/B)")
    args = ap.parse_args(argv)
    if args.compare_only:
        new, old = (json.loads(p.read_text()) for p in args.compare_only)
        print("\n".join(compare(new, old)))
        return 0
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus if args.corpus.is_dir() else None
    import shutil

    f: dict[str, Any] = {"rows": args.rows, "small_rows": args.small, "cpus": os.cpu_count(),
                         "load_before": os.getloadavg()[0]}
    big, small = work / f"cables-{args.rows}.csv", work / f"cables-{args.small}.csv"
    seeds, per_format = _seed_rows(corpus)
    f["seeds"] = {"cables": len(seeds), "per_format": per_format}
    print(f"seed cables: {len(seeds):,} distinct ({per_format})", flush=True)
    for path, n in ((big, args.rows), (small, args.small)):
        if not path.exists():
            info = build_csv(path, n, seeds)
            print(f"built {path.name}: {n:,} rows, {_mb(info['bytes'])} in {info['seconds']:.1f}s", flush=True)
    f["csv_bytes"] = size = big.stat().st_size
    if args.memory:
        f["memory"] = memory_runs(big, small, work, args.against)
        print("\n".join(memory_report(f["memory"], args.rows, args.small)))
        return _save(f, work, args, [big, small])

    f["floor"] = floor = io_floor(big, work)
    print(f"I/O floor (pyarrow stream csv -> zstd parquet): {floor['seconds']:.1f}s, "
          f"{size / floor['seconds'] / 2**20:,.0f} MB/s, peak RSS {_mb(floor['peak_rss'])}", flush=True)
    f["csv_reader"] = csv_readers(small)
    print(f"csv reader: {f['csv_reader']}", flush=True)

    lake = work / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    f["pipeline"] = full = pipeline_run(big, lake, 2)
    print(f"pipeline ({args.rows:,} rows): {full['seconds']:.1f}s wall, peak RSS {_mb(full['peak_rss'])}", flush=True)
    os.sync()  # the run just wrote ~2 GB: its writeback is not the no-op's (it once made a 0.5 s no-op take 2.1 s)
    f["noop"] = pipeline_run(big, lake, 2)
    for name, runner in (("small_2_workers", lambda d: pipeline_run(small, d, 2)),
                         ("small_1_worker", lambda d: stage_cpu(small, d))):
        shutil.rmtree(work / name, ignore_errors=True)
        f[name] = runner(work / name)
        print(f"{name}: {f[name]['seconds']:.1f}s wall, {f[name]['cables_per_s']:.0f} cables/s", flush=True)
    f["queries"] = dashboard_queries(lake)
    f["cpu"] = cpu_budget(big, floor["seconds"], args.rows)
    f["projection"] = projections(f["small_1_worker"], args.rows)
    f["ratio"] = full["seconds"] / floor["seconds"]
    f["rss_ratio"] = full["peak_rss"] / f["small_2_workers"]["peak_rss"]
    f["load_after"] = os.getloadavg()[0]
    print()
    print("\n".join(report(f)))
    return _save(f, work, args, [big, small, work / "floor.parquet"])


def _save(f: dict[str, Any], work: Path, args: argparse.Namespace, scratch: list[Path]) -> int:
    """Write the figures to ``work/last.json`` and ``work/runs/``, compare, remove the scratch files."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    saved: dict[str, Any] = {"timestamp": stamp, "commit": _git_commit(), "figures": f}
    text = json.dumps(saved, default=str, indent=2)
    (work / "last.json").write_text(text)
    (work / "runs").mkdir(exist_ok=True)
    (work / "runs" / f"{stamp}-{saved['commit'][:12]}.json").write_text(text)
    print(f"figures written to {work / 'last.json'}")
    if args.compare:
        print("\n".join(compare(saved, json.loads(args.compare.read_text()))))
    if not args.keep:
        for path in scratch:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
