"""Run configuration of the pipeline steps, read from the environment when a run needs it (not at import).

    CABLELAKE_WORKERS=4          parse processes of one parse_dump (default: the usable cores)
    CABLELAKE_PARSE_WORKERS=1    the same for the DAG's mapped parse_dump tasks (parallelism comes from shards)
    CABLELAKE_SHARD_FILES=500    at most this many dumps in one shard
    CABLELAKE_MAX_SHARDS=256     at most this many shards (mapped parse tasks) in one DAG run
    CABLELAKE_PARALLEL_MIN_BYTES=8388608  smaller shards are parsed in one process (workers cost seconds to start)

The data-quality settings (thresholds, ``CABLELAKE_THRESHOLD_MIN_ROWS``) are in
:class:`etl.validate.QualityConfig`, the reader limits in :class:`etl.sources.Limits`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RunConfig:
    """How a run splits and parses its dumps."""

    workers: int | None = None
    """Parse processes of one parse_dump call; ``None``: as many as usable cores."""
    parse_workers: int = 1
    """Parse processes of one mapped parse_dump task of the DAG (the DAG runs several at once)."""
    shard_files: int = 500
    """At most this many dumps in one shard."""
    shard_bytes: int = 512 << 20
    """At most this many bytes of dumps in one shard (a single larger dump makes a shard of its own)."""
    max_shards: int = 256
    """At most this many shards in one DAG run (more dumps are merged into the shards round-robin)."""
    parallel_min_bytes: int | None = None
    """Shards of fewer bytes are parsed in the run's own process; ``None``: ``PARALLEL_MIN_BYTES`` (8 MiB)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunConfig:
        """Defaults, overridden by ``CABLELAKE_<FIELD>`` variables (read now, at run time)."""
        env = os.environ if env is None else env
        names = {f.name: f"CABLELAKE_{f.name.upper()}" for f in fields(cls)}
        return cls(**{name: int(env[var]) for name, var in names.items() if env.get(var)})

    def parse_processes(self, workers: int | None = None) -> int:
        """``workers`` when given, else :attr:`workers`, else the usable cores (at least 1)."""
        chosen = workers or self.workers
        return max(1, chosen if chosen is not None else usable_cores())
