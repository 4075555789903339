"""How well the parser reads a cable whatever its layout: every corpus cable through every layout transform.

Usage: ``.venv/bin/python bench/layouts.py [corpus] [--only NAME,NAME] [--examples N]``

Each record is rendered as one text (routing header + body), re-laid out by each transform of
tests/parse/layout_transforms.py (preambles, glued banner, CRLF/CR, blank lines, tabs, page furniture, NNNN,
junk lines, BOM) and parsed again; its 35 golden fields are compared with the parse of the record as its dump
gave it. Prints, per transform, how many cables keep every field and the per-field share (the target is
>= 99.5 % per field), then the records that lose a field (up to ``--examples`` per transform).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "parse")]

from corpus_records import all_records  # noqa: E402
from golden_fields import GOLDEN_FIELDS  # noqa: E402
from layout_transforms import TRANSFORMS, case, sweep  # noqa: E402

TARGET = 0.995


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="?", default=str(REPO.parent / "shared" / "corpus"))
    ap.add_argument("--only", default="", help="comma-separated transform names")
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    cases = [case(label, rec) for label, rec in all_records(Path(args.corpus))]
    print(f"records: {len(cases)} (read + base parse {time.perf_counter() - t0:.1f} s)")
    names = [n for n in TRANSFORMS if not args.only or n in args.only.split(",")]
    print(f"{'transform':16} {'applies':>7} {'all kept':>8} {'%':>6}  {'worst field':28} {'%':>6}  {'s':>5}")
    failing: dict[str, list[str]] = {}
    below = 0
    for name in names:
        t = time.perf_counter()
        applies, whole, lost, examples = sweep(cases, name, args.examples)
        worst, n_lost = (lost.most_common(1)[0] if lost else ("-", 0))
        share = 1 - n_lost / applies if applies else 1.0
        below += share < TARGET
        print(f"{name:16} {applies:7d} {whole:8d} {100 * whole / max(applies, 1):6.2f}  {worst:28} "
              f"{100 * share:6.2f}  {time.perf_counter() - t:5.1f}")
        failing[name] = [f"{f}: {n}" for f, n in lost.most_common()] + examples
    print("\nfields lost per transform (count), then examples:")
    for name, lines in failing.items():
        if lines:
            print(f"  {name}: " + "; ".join(lines))
    print(f"\n{len(GOLDEN_FIELDS)} fields compared; transforms with a field under {100 * TARGET:.1f} %: {below}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
