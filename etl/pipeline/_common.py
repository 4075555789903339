"""Run identity, summaries and errors shared by the pipeline steps."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.lake import ReconciliationError, read_current
from etl.pipeline._staging import RunStaging
from etl.sources import Dump, discover

__all__ = ["ReconciliationError", "RunSummary", "find_dumps", "new_run_id", "select_dumps", "start_run"]

BATCH_ROWS = 2_000
RAW_CAP = 1 << 20  # keep at most 1 MiB of a record's raw text in quarantine


@dataclass
class RunSummary:
    run_id: str
    lake: str
    records_found: int = 0
    cables: int = 0
    quarantined: int = 0
    per_format: dict[str, int] = field(default_factory=dict)
    per_reason: dict[str, int] = field(default_factory=dict)
    per_rule: dict[str, Any] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    quality_docs: str | None = None
    operation: str = "publish"
    lake_version: int = 0
    duplicates: int = 0
    displaced: int = 0
    replayed: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    lake_cables: int = 0
    lake_quarantine: int = 0
    failed_dumps: list[dict[str, Any]] = field(default_factory=list)
    """Dumps that could not be read (``uri``, ``error``): not ingested, so the next run reads them again."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def event_extra(summary: dict[str, Any]) -> dict[str, Any]:
    """What a published run tells the lake's listeners (the DAG's asset event): JSON-safe counts."""
    return {
        "lake": summary["lake"],
        "run_id": summary["run_id"],
        "lake_version": summary.get("lake_version"),
        "records_found": summary["records_found"],
        "cables_added": summary["cables"],
        "quarantined": summary["quarantined"],
        "duplicates": summary.get("duplicates", 0),
        "lake_cables": summary.get("lake_cables"),
        "dumps": len(summary["inputs"]),
        "failed_dumps": [f["uri"] for f in summary.get("failed_dumps", [])],
    }


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(
    lake: str | Path,
    run_id: str | None = None,
    *,
    full_refresh: bool = False,
    replay_quarantine: bool = False,
    mode: str = "steps",
) -> str:
    """Create the run's staging folder and record its start and options; returns the run id.

    ``mode`` is ``cli`` when one process runs every step while holding the lake lock (its staging folder is
    then known dead when another run gets the lock), ``steps`` when the steps run as separate tasks.
    """
    run_id = run_id or new_run_id()
    RunStaging(lake, run_id).create({
        "run_id": run_id,
        "started_at": datetime.now(UTC).isoformat(),
        "lake": str(Path(lake).resolve()),
        "mode": mode,
        "pid": os.getpid(),
        "full_refresh": full_refresh,
        "replay_quarantine": replay_quarantine,
    })
    return run_id


def select_dumps(
    dumps: Sequence[Dump], manifest: dict[str, Any] | None
) -> tuple[list[Dump], list[dict[str, Any]]]:
    """Split ``dumps`` into those to read and those skipped: content already ingested (sha256 in the
    lake's ``manifest``) or the same bytes as an earlier input of this run."""
    todo: list[Dump] = []
    skipped: list[dict[str, Any]] = []
    seen: set[str] = set()
    for d in dumps:
        if manifest is not None and d.sha256 in manifest:
            skipped.append({"uri": d.uri, "sha256": d.sha256, "reason": "already_ingested"})
        elif d.sha256 in seen:
            skipped.append({"uri": d.uri, "sha256": d.sha256, "reason": "same_content"})
        else:
            seen.add(d.sha256)
            todo.append(d)
    return todo, skipped


def find_dumps(sources: Sequence[str], lake: str | Path | None = None, *, full_refresh: bool = False) -> list[str]:
    """Expand files, directories, globs and URLs into the dumps to read (their URIs).

    With ``lake``, dumps whose content (sha256) the lake has already ingested are left out (the manifest
    in the lake's commit record), unless ``full_refresh``. Dumps with identical bytes are read once.
    """
    manifest = None if lake is None or full_refresh else read_current(Path(lake)).dumps
    todo, _ = select_dumps(discover(list(sources)), manifest)
    return [d.uri for d in todo]


def json_default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
