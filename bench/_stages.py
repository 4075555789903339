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

from etl.pipeline import _run  # noqa: E402
from etl.sources import discover, iter_records  # noqa: E402

STAGES = {
    "parse": ["parse_dump"],
    "validate": ["validate_run"],  # the suite itself runs in the parse workers (parse_shard)
    "publish": ["publish_run"],
    "catalog": ["refresh_catalog", "collect_garbage"],
}


def main() -> None:
    csv_path, lake = sys.argv[1], sys.argv[2]
    cpu: dict[str, float] = dict.fromkeys(STAGES, 0.0)

    def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                cpu[stage] += time.process_time() - t0
        return wrapper

    for stage, names in STAGES.items():
        for name in names:
            if hasattr(_run, name):
                setattr(_run, name, timed(stage, getattr(_run, name)))
    t0, c0 = time.perf_counter(), time.process_time()
    summary = _run.run([csv_path], lake)
    wall, total = time.perf_counter() - t0, time.process_time() - c0
    dumps = discover([csv_path])
    t1 = time.process_time()
    records = sum(1 for dump in dumps for _ in iter_records(dump))
    read = time.process_time() - t1
    cpu["read"] = read
    cpu["parse"] -= read
    print(json.dumps({"cpu": cpu, "cpu_total": total, "wall": wall, "records": records,
                      "cables": summary.lake_cables}))


if __name__ == "__main__":
    main()
