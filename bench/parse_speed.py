"""CPU per cable of ``etl.parse.parse`` over every real record of the corpus, beside a minimal five-regex pass
measured in the same run (the floor a parser of this kind cannot beat by much).

    python bench/parse_speed.py [CORPUS] [--repeat N] [--dump OUT.jsonl] [--profile N]

* CORPUS: the real corpus folder (default ``../shared/corpus``); every record ``etl.sources`` reads from its
  folders (the seeds of ``bench/scale.py``), reader errors and empty bodies left out.
* ``--repeat N``: best of N timed passes (default 3); CPU time (``time.process_time``), one process.
* ``--dump OUT.jsonl``: also write each record's parsed fields (one JSON object a line, in corpus order), to
  diff the parser's output before and after a change.
* ``--profile N``: print the top N functions of a cProfile run of one pass (by own time).
* ``--repo DIR``: time the parser of another checkout (for a before/after figure: run both back to back).
* ``--against DIR``: a same-process A/B: the parser of checkout DIR (its ``etl/parse`` copied to a scratch
  folder as the package ``against_parse``) and this one, pass after pass in turn (``--repeat`` rounds, each
  pass with cold value caches), beside the minimal pass of the same round. On a shared, loaded machine this
  is the figure to trust: both parsers meet the same load, where two runs back to back can differ by 10 %.
  The other checkout's parser uses this checkout's ``etl._century`` and ``etl._resources``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import importlib
import json
import pstats
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if "--repo" in sys.argv:  # time the parser of another checkout (the ``etl`` package is imported from there)
    REPO = Path(sys.argv[sys.argv.index("--repo") + 1]).resolve()
sys.path.insert(0, str(REPO))

from etl.parse import parse  # noqa: E402
from etl.sources import discover, iter_records  # noqa: E402

MINIMAL = (  # the minimal five-regex pass: DTG, banner, E.O./DECL, TAGS, SUBJECT, one search each
    re.compile(r"\b(\d{6}Z) ([A-Z]{3}) (\d{2})\b"),
    re.compile(r"^(UNCLAS\S*|CONFIDENTIAL|SECRET|LIMITED OFFICIAL USE)\b(.*)$", re.M),
    re.compile(r"^(?:E\.O\.|EO)\s*(\d+)\s*:?\s*(.*)$", re.M),
    re.compile(r"^TAGS:?\s*(.+)$", re.M),
    re.compile(r"^SUBJ(?:ECT)?:?\s*(.+)$", re.M),
)


def corpus_records(corpus: Path) -> list[Any]:
    """Every record of every corpus folder that ``etl.sources`` reads (reader errors and empty bodies out)."""
    folders = sorted(str(p) for p in corpus.iterdir() if p.is_dir())
    return [rec for dump in discover(folders) for rec in iter_records(dump) if not rec.error and rec.body.strip()]


def minimal_pass(recs: list[Any]) -> None:
    for rec in recs:
        text = rec.header + "\n" + rec.body
        for rx in MINIMAL:
            rx.search(text)


def parse_pass(recs: list[Any]) -> None:
    for rec in recs:
        parse(rec)


def value_caches() -> list[Any]:
    """The parser's caches of values met in the text (addressee lines, marks, titles, TAGS values...): the
    bounded ``functools`` caches of the ``etl.parse`` modules (the unbounded ones hold compiled patterns and
    the vocabulary, built once per process)."""
    return _caches("etl.parse")


def cpu_per_record(fn: Any, recs: list[Any], repeat: int) -> tuple[float, float]:
    """CPU time of ``fn(recs)`` in microseconds per record: the first pass and the best of ``repeat`` passes.
    Every pass starts with the parser's value caches empty (:func:`value_caches`): a worker meets each cable
    once, so a cache pays only for what repeats from cable to cable, never for a pass seen before."""
    times = []
    for _ in range(repeat):
        for cached in value_caches():
            cached.cache_clear()
        t0 = time.process_time()
        fn(recs)
        times.append(time.process_time() - t0)
    return times[0] / len(recs) * 1e6, min(times) / len(recs) * 1e6


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def dump(recs: list[Any], out: Path) -> None:
    with out.open("w", encoding="utf-8") as fh:
        for rec in recs:
            fields = parse(rec)
            fh.write(json.dumps({"at": f"{rec.lineage.source_uri} {rec.lineage.member} {rec.lineage.location}", "fields": fields}, sort_keys=True, default=_jsonable))
            fh.write("\n")


def load_against(repo: Path, scratch: Path) -> Any:
    """The ``parse`` of checkout ``repo``'s ``etl/parse``, imported as the package ``against_parse`` (a copy in
    ``scratch`` whose ``etl.parse`` imports name it), beside this checkout's ``etl.parse``."""
    pkg = scratch / "against_parse"
    shutil.copytree(repo / "etl" / "parse", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for src in pkg.rglob("*.py"):
        src.write_text(re.sub(r"\betl\.parse\b", "against_parse", src.read_text(encoding="utf-8")), encoding="utf-8")
    sys.path.insert(0, str(scratch))
    return importlib.import_module("against_parse").parse


def _caches(prefix: str) -> list[Any]:
    out = []
    for name, mod in list(sys.modules.items()):
        if name == prefix or name.startswith(prefix + "."):
            for fn in vars(mod).values():
                info = getattr(fn, "cache_info", None)
                if info is not None and info().maxsize is not None and info().maxsize > 1 and fn not in out:
                    out.append(fn)
    return out


def ab(recs: list[Any], other: Any, rounds: int) -> tuple[list[float], list[float], list[float]]:
    """CPU us per record of the minimal pass, the other parser and this one, one pass each per round, in turn;
    each parser's value caches emptied before its pass."""
    def one(fn: Any, prefix: str) -> float:
        for cached in _caches(prefix):
            cached.cache_clear()
        t0 = time.process_time()
        for rec in recs:
            fn(rec)
        return (time.process_time() - t0) / len(recs) * 1e6

    minimal, theirs, ours = [], [], []
    for _ in range(rounds):
        t0 = time.process_time()
        minimal_pass(recs)
        minimal.append((time.process_time() - t0) / len(recs) * 1e6)
        theirs.append(one(other, "against_parse"))
        ours.append(one(parse, "etl.parse"))
    return minimal, theirs, ours


def print_ab(recs: list[Any], against: Path, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="parse-speed-") as scratch:
        other = load_against(against, Path(scratch))
        for fn in (other, parse):  # warm up: compiled patterns, lazily built tables
            for rec in recs[:50]:
                fn(rec)
        minimal, theirs, ours = ab(recs, other, rounds)
    med = len(ours) // 2
    theirs.sort()
    ours.sort()
    print(f"records: {len(recs):,}; same-process A/B, {rounds} rounds, cold value caches each pass")
    print(f"{'CPU us/record':32} {'best':>8} {'median':>8} {'/ minimal':>10}")
    print(f"{'minimal five-regex pass':32} {min(minimal):8.1f} {sorted(minimal)[med]:8.1f} {1:10.2f}")
    for label, times in ((f"parse of {against}", theirs), (f"parse of {REPO}", ours)):
        print(f"{label[:32]:32} {times[0]:8.1f} {times[med]:8.1f} {times[0] / min(minimal):9.2f}x")
    print(f"this / other: best {ours[0] / theirs[0]:.3f}, median {ours[med] / theirs[med]:.3f}   (target: parse <= 150 us)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--repo", help="checkout whose etl.parse is timed (default: this one)")
    ap.add_argument("--against", type=Path, help="checkout timed against this one in the same process, in turn")
    args = ap.parse_args(argv)
    recs = corpus_records(Path(args.corpus))
    if not recs:
        raise SystemExit(f"no records under {args.corpus}")
    if args.against:
        print_ab(recs, args.against.resolve(), args.repeat)
        return 0
    parse_pass(recs[:50])  # warm up: compiled patterns, lazily built tables
    minimal = cpu_per_record(minimal_pass, recs, args.repeat)
    full = cpu_per_record(parse_pass, recs, args.repeat)
    print(f"records: {len(recs):,} ({sum(len(r.header) + len(r.body) for r in recs) / 1e6:.1f} MB of text), "
          f"parser {REPO}")
    print(f"{'CPU us/record':32} {'first pass':>10} {'best of ' + str(args.repeat):>10}")
    print(f"{'minimal five-regex pass':32} {minimal[0]:10.1f} {minimal[1]:10.1f}")
    print(f"{'etl.parse.parse':32} {full[0]:10.1f} {full[1]:10.1f}")
    print(f"ratio parse / minimal (best): {full[1] / minimal[1]:.1f}x   (target: parse <= 150 us)")
    if args.dump:
        dump(recs, args.dump)
        print(f"fields of {len(recs):,} records written to {args.dump}")
    if args.profile:
        prof = cProfile.Profile()
        prof.runcall(parse_pass, recs)
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
