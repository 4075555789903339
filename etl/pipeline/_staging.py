"""The one owner of a run's work area: :class:`RunStaging` (dlt's ``PackageStorage`` is the model).

A run's steps hand each other files under ``<lake>/_staging/<run_id>/``::

    run.json                       when the run started and with which options (start_run, plan_run)
    parsed/<shard>.parquet         cables rows of a shard (parse_dump, stage_replay, order_for_dedup)
    rejected/<shard>.parquet       quarantine rows of a shard
    shards/<shard>.json            the shard's summary, written last: a shard is *finished* once it exists
    validated/cables.parquet       what validate_run passed ...
    validated/quarantine.parquet   ... what it set aside (with the rejected rows of every finished shard)
    validated/summary.json         its rule counts and timings
    publish/                       publish_run's split of the validated quarantine (rescued, kept)

``publish_run`` removes the folder once the run is committed. Failed dumps are recorded beside it, in
``<lake>/_failures/<run_id>/shard-<attempt>.json`` (``{"failed": [...], "done": [summary paths]}``), so a
check that runs after the publish still sees them. Everything that names these places lives here; the
steps and the DAG ask this class for paths instead of spelling folder names.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from etl.lake import LakePaths, atomic_write_text

PARSED = "parsed"
REJECTED = "rejected"
SHARDS = "shards"
VALIDATED = "validated"
PUBLISH = "publish"
FAILURES = "_failures"
RUN_INFO = "run.json"

SHARD_NAME = re.compile(r"[0-9a-f]{16}")
"""Names of the shards parse_dump writes; other steps add shards with their own names (``!dups``, ``replay``)."""


def shard_id(uris: Sequence[str]) -> str:
    """The name of the shard made of these dumps: the same dumps give the same name, in any order."""
    return hashlib.sha256("\n".join(sorted(uris)).encode()).hexdigest()[:16]


class RunStaging:
    """The staging folder of run ``run_id`` in ``lake``, and the failure records of that run."""

    def __init__(self, lake: str | Path, run_id: str) -> None:
        self.lake = Path(lake)
        self.run_id = run_id
        paths = LakePaths(self.lake)  # a remote lake's staging lives in its local work folder
        self.root = paths.staging(run_id)
        self.failures_dir = paths.root / FAILURES / run_id

    # ------------------------------------------------------------------------------------------ run.json

    def create(self, info: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.write_info(info)

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads((self.root / RUN_INFO).read_text(encoding="utf-8"))
        return info

    def write_info(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.root / RUN_INFO, json.dumps(info, default=str))

    def update_info(self, **changes: Any) -> None:
        self.write_info({**self.info(), **changes})

    # ------------------------------------------------------------------------------------------- shards

    def parsed(self, shard: str) -> Path:
        return self.root / PARSED / f"{shard}.parquet"

    def rejected(self, shard: str) -> Path:
        return self.root / REJECTED / f"{shard}.parquet"

    def summary_path(self, shard: str) -> Path:
        return self.root / SHARDS / f"{shard}.json"

    def write_summary(self, summary: dict[str, Any]) -> str:
        """Write a shard's summary (its ``shard`` key names it): from now on the shard counts as finished."""
        path = self.summary_path(summary["shard"])
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(summary))
        return str(path)

    def finished(self) -> set[str]:
        """Shards whose summary is written."""
        return {p.stem for p in (self.root / SHARDS).glob("*.json")}

    def summaries(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((self.root / SHARDS).glob("*.json"))]

    def parsed_files(self, also: Iterable[str] = ()) -> list[Path]:
        """The cables rows of the finished shards (plus the shards named in ``also``), in name order."""
        return self._finished_files(PARSED, also)

    def rejected_files(self, also: Iterable[str] = ()) -> list[Path]:
        return self._finished_files(REJECTED, also)

    def all_parsed_files(self) -> list[Path]:
        """Every Parquet file under ``parsed/``, finished or not (steps that rewrite shards in place)."""
        return sorted((self.root / PARSED).glob("*.parquet"))

    def _finished_files(self, folder: str, also: Iterable[str]) -> list[Path]:
        wanted = self.finished() | set(also)
        return sorted(p for p in (self.root / folder).glob("*.parquet") if p.stem in wanted)

    def drop_unfinished(self) -> list[str]:
        """Remove the ``parsed/`` and ``rejected/`` files of shards that have no summary; returns them.

        parse_dump writes its Parquet files first and the summary last, so a parse that died half-way
        leaves Parquet files without a summary: they must not reach validation. Only files named like
        parse_dump's shards are candidates (other steps name theirs otherwise).
        """
        done = self.finished()
        removed = []
        for folder in (PARSED, REJECTED):
            for p in sorted((self.root / folder).glob("*.parquet")):
                if SHARD_NAME.fullmatch(p.stem) and p.stem not in done:
                    p.unlink()
                    removed.append(str(p))
        return removed

    def forget(self, summary: str | Path) -> None:
        """Remove a finished shard: its summary and its Parquet files."""
        shard = Path(summary).stem
        for p in (self.summary_path(shard), self.parsed(shard), self.rejected(shard)):
            p.unlink(missing_ok=True)

    # --------------------------------------------------------------------------------------- validated

    def validated(self, name: str) -> Path:
        """``validated/<name>``: ``cables.parquet``, ``quarantine.parquet`` or ``summary.json``."""
        return self.root / VALIDATED / name

    @property
    def publish_dir(self) -> Path:
        """``publish/``: the quarantine split for the commit (rows to publish, run-duplicates rescued)."""
        return self.root / PUBLISH

    # ----------------------------------------------------------------------------------------- failures

    def _failure_record(self, attempt: int) -> Path:
        return self.failures_dir / f"shard-{attempt:05d}.json"

    def record_failures(self, attempt: int, done: list[str], failed: list[dict[str, Any]]) -> None:
        """Record the dumps of attempt ``attempt`` (a mapped task's index) that failed, and what it finished."""
        path = self._failure_record(attempt)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"failed": failed, "done": done}, indent=1))

    def forget_attempt(self, attempt: int) -> None:
        """Undo what an earlier try of ``attempt`` recorded: its failure record and its finished shards."""
        path = self._failure_record(attempt)
        if not path.exists():
            return
        for summary in json.loads(path.read_text("utf-8"))["done"]:
            self.forget(summary)
        path.unlink()

    def failures(self) -> list[dict[str, Any]]:
        """Every failed dump of the run (``uri``, ``error``), over all its attempts."""
        return [
            f
            for p in sorted(self.failures_dir.glob("shard-*.json"))
            for f in json.loads(p.read_text("utf-8"))["failed"]
        ]

    @staticmethod
    def describe(failed: list[dict[str, Any]]) -> str:
        """A message naming each failed dump and its error."""
        lines = "\n".join(f"  {f['uri']}: {f['error']}" for f in failed)
        return f"{len(failed)} dump(s) not ingested:\n{lines}"

    # ---------------------------------------------------------------------------------------------- end

    def remove(self) -> None:
        """Delete the staging folder (the failure records stay)."""
        shutil.rmtree(self.root, ignore_errors=True)
