"""Lake benchmark (issue 16): publish and no-op rerun, the former lake format against the Delta lake, in one run.

Both code versions run the same ``cablelake run`` on the same invented dumps, in fresh lakes:

1. a first run of ``--cables`` cables (publish into an empty lake),
2. an incremental run of ``--cables / 10`` new cables plus better copies of 5% of the first ones (publish
   with dedup against the lake),
3. a no-op rerun of both dumps (nothing new: the manifest check and one ``runs`` row).

``--before`` is a checkout of the code before the Delta lake (default ``/work/main`` when it exists); the
figures are the ``publish`` stage time from the run summaries and the wall time of the no-op rerun.

    .venv/bin/python bench/lake_bench.py --cables 5000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POSTS = ("MOSCOW", "PARIS", "VALLETTA", "TUNIS", "ROME", "MADRID", "ATHENS", "OSLO")


def _cable(post: str, serial: int, year: int, paragraphs: int) -> str:
    """An invented telegram (nothing real): banner, E.O., TAGS, SUBJECT, numbered paragraphs."""
    head = [f"C O N F I D E N T I A L {post} {serial:06d}", "", f"E.O. 12958: DECL: 11/09/{year + 10}",
            "TAGS: PGOV PREL XX", f"SUBJECT: INVENTED BENCH CABLE {serial} FROM {post}", ""]
    body = [f"{p}. (C) Invented paragraph {p} of bench cable {serial}; it reports nothing." for p in range(1, paragraphs + 1)]
    return "\n".join(head + body + ["SIGNATURE"]) + "\n"


def make_dump(folder: Path, serials: range, paragraphs: int = 2) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in serials:
        post, year = POSTS[s % len(POSTS)], 2005 + s % 5
        lines.append(json.dumps({"_id": f"{year % 100:02d}{post}{s}", "origin": f"Embassy {post.title()}",
                                 "date_time": f"1/{1 + s % 28}/{year} 13:41", "classification": "CONFIDENTIAL",
                                 "body": _cable(post, s, year, paragraphs)}))
    (folder / "cables.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(code: Path, lake: Path, *sources: Path) -> tuple[dict[str, object], float]:
    env = dict(os.environ, PYTHONPATH=str(code), GX_ANALYTICS_ENABLED="False")
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "etl.cli", "run", *map(str, sources), "--lake", str(lake), "--json"],
                         cwd=code, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout), time.perf_counter() - t0


def measure(code: Path, work: Path, dumps: list[Path]) -> dict[str, float]:
    lake = work / f"lake-{code.name}"
    shutil.rmtree(lake, ignore_errors=True)
    first, _ = _run(code, lake, dumps[0])
    second, _ = _run(code, lake, dumps[0], dumps[1])
    noop, wall = _run(code, lake, dumps[0], dumps[1])
    assert noop["operation"] == "noop", noop["operation"]
    timings = (first["timings"], second["timings"])
    return {
        "publish_first_s": float(timings[0]["publish"]),  # type: ignore[index]
        "publish_incremental_s": float(timings[1]["publish"]),  # type: ignore[index]
        "noop_rerun_s": round(wall, 3),
        "cables": float(second["lake_cables"]),  # type: ignore[arg-type]
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cables", type=int, default=5000)
    p.add_argument("--before", type=Path, default=Path("/work/main") if Path("/work/main/etl").is_dir() else None)
    args = p.parse_args(argv)
    quality = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    quality.write('{"data_docs": false}')
    quality.close()
    os.environ["CABLELAKE_QUALITY_CONFIG"] = quality.name
    with tempfile.TemporaryDirectory(prefix="lake-bench-") as tmp:
        work = Path(tmp)
        n = args.cables
        make_dump(work / "in1", range(1, n + 1))
        make_dump(work / "in2", range(1, n + 1, 20), paragraphs=4)  # better copies of 5% of the first cables
        shutil.move(work / "in2" / "cables.jsonl", work / "in2" / "better.jsonl")
        make_dump(work / "in2", range(n + 1, n + 1 + n // 10))
        dumps = [work / "in1", work / "in2"]
        results = {}
        if args.before is not None:
            results["before"] = measure(args.before.resolve(), work, dumps)
        results["after"] = measure(REPO, work, dumps)
    print(f"{'':24}" + "".join(f"{k:>12}" for k in results) + ("       ratio" if "before" in results else ""))
    for key in ("publish_first_s", "publish_incremental_s", "noop_rerun_s", "cables"):
        line = f"{key:24}" + "".join(f"{r[key]:>12.3f}" for r in results.values())
        if "before" in results and key != "cables" and results["before"][key]:
            line += f"{results['after'][key] / results['before'][key]:>12.2f}"
        print(line)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
