"""The one owner of a run's work area: :class:`RunStaging` (dlt's ``PackageStorage`` is the model).

A run's steps hand each other files under ``<lake>/_staging/<run_id>/``::

    run.json                       when the run started and with which options (start_run, plan_run)
    parsed/<shard>/<part>/cables/year=YYYY/<file>.parquet
                                   the validated cables rows of a shard's parse worker ``part``, as data
                                   files of the lake's ``cables`` table (its layout and schema): the publish
                                   commits them as they are (parse_dump, stage_replay)
    rejected/<shard>/<part>.parquet   quarantine rows of that worker (parse and validate rejects)
    shards/<shard>.json            the shard's summary, written last: a shard is *finished* once it exists;
                                   it lists the data files and the validation counts of its workers
    validated/summary.json         the run's rule counts and timings (validate_run: thresholds, run-wide)
    publish/                       publish_run's quarantine of a replay (rows that failed again dropped)

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from etl.lake import DataFile, FileEntry, LakePaths, atomic_write_text

PARSED = "parsed"
REJECTED = "rejected"
SHARDS = "shards"
VALIDATED = "validated"
PUBLISH = "publish"
FAILURES = "_failures"
RUN_INFO = "run.json"

SHARD_NAME = re.compile(r"[0-9a-f]{16}")
"""Names of the shards parse_dump writes; other steps add shards with their own names (``replay``)."""


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

    def parsed(self, shard: str, part: int) -> Path:
        """Root of the data files (``cables/year=YYYY/...``) that worker ``part`` of ``shard`` writes."""
        return self.root / PARSED / shard / str(part)

    def rejected(self, shard: str, part: int) -> Path:
        return self.root / REJECTED / shard / f"{part}.parquet"

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

    def data_files(self) -> list[DataFile]:
        """The validated cables data files of the finished shards (named by their summaries), in order."""
        return [
            DataFile(str(self.parsed(s["shard"], f["part"])), FileEntry(f["path"], f["rows"], f["bytes"]))
            for s in self.summaries()
            for f in s.get("files", [])
        ]

    def rejected_files(self) -> list[Path]:
        """The quarantine rows of the finished shards, in order."""
        return [p for shard in sorted(self.finished()) for p in sorted((self.root / REJECTED / shard).glob("*.parquet"))]

    def drop_unfinished(self) -> list[str]:
        """Remove the ``parsed/`` and ``rejected/`` folders of shards that have no summary; returns them.

        parse_dump writes its Parquet files first and the summary last, so a parse that died half-way
        leaves Parquet files without a summary: they must not reach the publish. Only folders named like
        parse_dump's shards are candidates (other steps name theirs otherwise).
        """
        done = self.finished()
        removed = []
        for folder in (PARSED, REJECTED):
            for p in sorted((self.root / folder).glob("*")):
                if SHARD_NAME.fullmatch(p.name) and p.name not in done:
                    shutil.rmtree(p, ignore_errors=True)
                    removed.append(str(p))
        return removed

    def forget(self, summary: str | Path) -> None:
        """Remove a shard (finished or not): its summary and its files."""
        shard = Path(summary).stem
        self.summary_path(shard).unlink(missing_ok=True)
        for folder in (PARSED, REJECTED):
            shutil.rmtree(self.root / folder / shard, ignore_errors=True)

    # --------------------------------------------------------------------------------------- validated

    def validated(self, name: str) -> Path:
        """``validated/<name>``: ``summary.json``."""
        return self.root / VALIDATED / name

    @property
    def publish_dir(self) -> Path:
        """``publish/``: the quarantine of a replay for the commit (rows of records that failed again dropped)."""
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
