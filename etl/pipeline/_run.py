"""All steps in one process (the CLI's ``cablelake run``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from etl.pipeline._common import RunSummary, find_dumps, start_run
from etl.pipeline._parse import parse_dump, plan_shards
from etl.pipeline._publish import publish_run, refresh_catalog
from etl.pipeline._validate import validate_run


def run(sources: Iterable[str], lake: str | Path = "lake") -> RunSummary:
    """Run every step in this process: the CLI's ``cablelake run``."""
    t0 = time.perf_counter()
    run_id = start_run(lake)
    dumps = find_dumps(list(sources))
    for shard in plan_shards(dumps):
        parse_dump(shard, lake, run_id)
    validate_run(lake, run_id)
    result = publish_run(lake, run_id)
    t1 = time.perf_counter()
    refresh_catalog(lake)
    result["timings"]["catalog"] = round(time.perf_counter() - t1, 3)
    result["timings"]["total"] = round(time.perf_counter() - t0, 3)
    return RunSummary(**result)
