"""Run identity, summaries and errors shared by the pipeline steps."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.lake import LakePaths
from etl.sources import discover

BATCH_ROWS = 2_000
RAW_CAP = 1 << 20  # keep at most 1 MiB of a record's raw text in quarantine


class ReconciliationError(RuntimeError):
    """Records found != cables + quarantine: the run cannot be trusted."""


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)



def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_run(lake: str | Path, run_id: str | None = None) -> str:
    """Create the run's staging folder and record its start; returns the run id."""
    paths = LakePaths(Path(lake))
    run_id = run_id or new_run_id()
    stage = paths.staging(run_id)
    stage.mkdir(parents=True, exist_ok=True)
    info = {"run_id": run_id, "started_at": datetime.now(UTC).isoformat(), "lake": str(paths.root.resolve())}
    (stage / "run.json").write_text(json.dumps(info), encoding="utf-8")
    return run_id


def run_info(paths: LakePaths, run_id: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((paths.staging(run_id) / "run.json").read_text(encoding="utf-8"))
    return info


def find_dumps(sources: Sequence[str]) -> list[str]:
    """Expand files, directories, globs and URLs into the dumps to read (their URIs)."""
    return [d.uri for d in discover(list(sources))]



def json_default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def shard_summaries(paths: LakePaths, run_id: str) -> list[dict[str, Any]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((paths.staging(run_id) / "shards").glob("*.json"))
    ]
