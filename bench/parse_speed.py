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
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import pstats
import re
import sys
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


def cpu_per_record(fn: Any, recs: list[Any], repeat: int) -> tuple[float, float]:
    """CPU time of ``fn(recs)`` in microseconds per record: the first pass (the parser's caches of names and
    marks cold) and the best of ``repeat`` passes."""
    times = []
    for _ in range(repeat):
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--repo", help="checkout whose etl.parse is timed (default: this one)")
    args = ap.parse_args(argv)
    recs = corpus_records(Path(args.corpus))
    if not recs:
        raise SystemExit(f"no records under {args.corpus}")
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
