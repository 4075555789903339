"""CPU seconds of each stage of one ``cablelake run`` with one parse process (run by bench/scale.py).

The run is :func:`etl.pipeline.run` itself; only its stage functions are wrapped with CPU timers
(``time.process_time``: every thread of this process, DuckDB's and pyarrow's included). With
``CABLELAKE_WORKERS=1`` the parse stage runs in this process, so nothing escapes the count. The read is timed
apart (``iter_records`` alone over the same dump) and taken out of the parse stage.

    python bench/_stages.py CSV LAKE    # prints one JSON object: seconds of CPU per stage, wall, records
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["CABLELAKE_WORKERS"] = "1"

from etl.pipeline import _parse, _publish, _run, _validate  # noqa: E402
from etl.sources import discover, iter_records  # noqa: E402

STAGES = {  # the step functions of each stage, in the modules that run() takes them from when it calls them
    "parse": [(_parse, "parse_shard")],
    "validate": [(_validate, "validate_run")],  # the run-wide bookkeeping; the suite runs inside parse_shard
    "publish": [(_publish, "publish_run")],
    "catalog": [(_publish, "refresh_catalog"), (_run, "collect_garbage")],
}
INSIDE_PARSE = {  # stage work done inside parse_shard: counted to its stage and taken out of parse
    "validate": [(_validate.ChunkValidator, "_flush")],  # Great Expectations on each chunk, then its write
}


def main() -> None:
    csv_path, lake = sys.argv[1], sys.argv[2]
    cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    inside: dict[str, float] = dict.fromkeys(INSIDE_PARSE, 0.0)

    def timed(into: dict[str, float], stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                into[stage] += time.process_time() - t0
        return wrapper

    for into, stages in ((cpu, STAGES), (inside, INSIDE_PARSE)):
        for stage, names in stages.items():
            for module, name in names:
                setattr(module, name, timed(into, stage, getattr(module, name)))
    search_threads = [0.0]  # CPU of tantivy's indexing threads (the sync's CPU beyond its own thread)
    sync = _publish._search.sync

    def sync_timed(*args: Any, **kwargs: Any) -> Any:
        res = sync(*args, **kwargs)
        if res.cpu:
            search_threads[0] += max(0.0, res.cpu["all"] - res.cpu["python"])
        return res

    _publish._search.sync = sync_timed  # type: ignore[attr-defined]
    t0, c0 = time.perf_counter(), time.process_time()
    summary = _run.run([csv_path], lake)
    wall, total = time.perf_counter() - t0, time.process_time() - c0
    dumps = discover([csv_path])
    t1 = time.process_time()
    records = sum(1 for dump in dumps for _ in iter_records(dump))
    read = time.process_time() - t1
    cpu["read"] = read
    cpu["parse"] -= read
    for stage, seconds in inside.items():  # (counted by the parse timer too)
        cpu[stage] += seconds
        cpu["parse"] -= seconds
    print(json.dumps({"cpu": cpu, "cpu_total": total, "wall": wall, "records": records,
                      "cables": summary.lake_cables, "search_threads": search_threads[0]}))


if __name__ == "__main__":
    main()
