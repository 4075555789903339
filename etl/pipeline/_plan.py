"""Which dumps a run reads, and in which shards (the mapped parse tasks of the DAG, the CLI's loop)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from etl.pipeline._config import RunConfig


def plan_shards(uris: Sequence[str], max_files: int | None = None, max_bytes: int | None = None) -> list[list[str]]:
    """Group dumps into shards of bounded file count and size (defaults: :class:`RunConfig`)."""
    config = RunConfig.from_env()
    max_files = max_files or config.shard_files
    max_bytes = max_bytes or config.shard_bytes
    shards: list[list[str]] = []
    current: list[str] = []
    size = 0
    for uri in uris:
        try:
            n = os.path.getsize(uri)
        except OSError:
            n = 0
        if current and (len(current) >= max_files or size + n > max_bytes):
            shards.append(current)
            current, size = [], 0
        current.append(uri)
        size += n
    if current:
        shards.append(current)
    return shards


def cap_shards(shards: list[list[str]], limit: int) -> list[list[str]]:
    """Merge shards round-robin so that there are at most ``limit`` of them (mapped tasks have a cap)."""
    if len(shards) <= limit:
        return shards
    merged: list[list[str]] = [[] for _ in range(limit)]
    for i, shard in enumerate(shards):
        merged[i % limit].extend(shard)
    return merged


def shard_label(uris: Sequence[str]) -> str:
    """A short name for a shard in logs and task lists: its first dump's file name, and how many more."""
    first = uris[0].rstrip("/").rsplit("/", 1)[-1]
    return first if len(uris) == 1 else f"{first} +{len(uris) - 1}"


def landing_sources(landing: str, day: str | None, logical_day: str | None = None) -> list[str]:
    """What a scheduled run reads: ``landing/<day>/`` (``YYYY-MM-DD``), else the whole landing folder.

    ``day`` is asked for by name (``all``: the whole folder) and must exist; without it, the folder of
    ``logical_day`` (the run's logical date) when there is one. Raises FileNotFoundError for a missing day.
    """
    local = "://" not in landing
    if day and day != "all" and local and not (Path(landing) / day).is_dir():
        raise FileNotFoundError(f"day param {day!r}: no folder {landing}/{day}")
    chosen = day or logical_day
    if chosen and chosen != "all" and local and (Path(landing) / chosen).is_dir():
        return [str(Path(landing) / chosen)]
    return [landing]
