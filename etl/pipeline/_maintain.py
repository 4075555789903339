"""Lake maintenance outside a run: ``cablelake compact`` and ``cablelake vacuum``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.lake import collect_garbage, compact, lake_lock, vacuum
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


def vacuum_lake(lake: str | Path, *, keep_days: float = 7.0, dry_run: bool = False,
                lock_timeout: float | None = None) -> dict[str, Any]:
    """Delete what no lake version of the last ``keep_days`` days needs (see :func:`etl.lake.vacuum`): files
    of older versions, files of runs that died, old ``_quality/`` folders. The lock keeps local writers out
    while it runs, so even ``keep_days=0`` cannot take a file a run is about to commit."""
    root = Path(lake)
    with lake_lock(root, what="cablelake vacuum", timeout=lock_timeout):
        recover(root)
        return vacuum(root, keep_days=keep_days, dry_run=dry_run)
