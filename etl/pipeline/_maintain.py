"""Lake maintenance outside a run: ``cablelake compact``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.lake import collect_garbage, compact, lake_lock
from etl.pipeline._common import new_run_id
from etl.pipeline._publish import recover, refresh_catalog


def compact_lake(lake: str | Path, *, threshold: int | None = None, lock_timeout: float | None = None) -> dict[str, Any]:
    """Merge each partition's files into as few as possible (all partitions with more than one file, or
    more than ``threshold``), in one atomic commit; then refresh the catalog and drop superseded files."""
    root = Path(lake)
    with lake_lock(root, what="cablelake compact", timeout=lock_timeout):
        recover(root)
        run_id = new_run_id()
        if threshold is None:
            result = compact(root, run_id, force=True)
        else:
            result = compact(root, run_id, threshold=threshold)
        if result["merged"]:
            refresh_catalog(root)
            collect_garbage(root)
        return result
