"""No-op rerun: ``cablelake run`` on dumps the lake already holds, this checkout against a baseline checkout.

Each checkout gets its own lake built from the same dumps (the bundled sample by default); then the no-op
runs alternate between the two (ABBA...), each in a fresh interpreter, so both see the same machine load.
Prints wall and CPU seconds (best and median), their ratio, and the modules a no-op loads::

    python bench/noop_bench.py --baseline ../main --runs 10
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "etl.parse._core", "great_expectations", "duckdb", "deltalake", "tantivy")
_RUN = (
    "import json, sys\n"
    "from etl.cli import main\n"
    "main(['run', *sys.argv[2:], '--lake', sys.argv[1], '--json'])\n"
    "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
)


def noop(tree: Path, lake: Path, dumps: list[str], env: dict[str, str]) -> tuple[float, float, str, list[str]]:
    """One ``cablelake run`` in a fresh interpreter: wall, CPU, operation, modules loaded."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _RUN, str(lake), *dumps], env={**env, "PYTHONPATH": str(tree)},
                         cwd=lake.parent, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    modules = json.loads(out.stderr.strip().splitlines()[-1])
    return wall, cpu, json.loads(out.stdout)["operation"], modules


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", type=Path, required=True, help="another checkout of the project (e.g. main)")
    ap.add_argument("--runs", type=int, default=10, help="no-op runs per checkout")
    ap.add_argument("dumps", nargs="*", default=[str(REPO / "sample" / "dumps")])
    args = ap.parse_args(argv)
    trees = {"baseline": args.baseline.resolve(), "this": REPO}
    with tempfile.TemporaryDirectory(prefix="cablelake-noop-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as a user runs it
        env.update(CABLELAKE_CACHE=f"{tmp}/cache", GX_ANALYTICS_ENABLED="False")
        lakes = {name: Path(tmp) / name / "lake" for name in trees}
        for name, tree in trees.items():
            lakes[name].parent.mkdir()
            noop(tree, lakes[name], args.dumps, env)  # the first run publishes (and compiles the bytecode)
        seen: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        modules: dict[str, list[str]] = {}
        load = os.getloadavg()[0]
        for i in range(args.runs):
            for name in list(trees) if i % 2 == 0 else list(reversed(trees)):
                wall, cpu, operation, modules[name] = noop(trees[name], lakes[name], args.dumps, env)
                if operation != "noop":
                    raise SystemExit(f"{name}: a rerun did {operation}, not noop")
                seen[name].append((wall, cpu))
    print(f"no-op rerun, {args.runs} alternating runs each (load {load:.1f} -> {os.getloadavg()[0]:.1f})")
    medians = {}
    for name, xs in seen.items():
        walls, cpus = [x[0] for x in xs], [x[1] for x in xs]
        medians[name] = (statistics.median(walls), statistics.median(cpus))
        heavy = [m for m in HEAVY if m in modules[name]]
        print(f"  {name:8s} wall best {min(walls):.3f} s median {medians[name][0]:.3f} s | CPU best {min(cpus):.3f} s "
              f"median {medians[name][1]:.3f} s | {len(modules[name])} modules, of them {', '.join(heavy) or 'none'}")
    print(f"  this / baseline, median: wall {medians['this'][0] / medians['baseline'][0]:.2f}, "
          f"CPU {medians['this'][1] / medians['baseline'][1]:.2f} (target: <= 1 s wall)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
