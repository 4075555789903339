"""The lake's tables as Delta tables (delta-rs): file lists, commits of file actions, restore, optimize.

A lake table is a Delta table under ``<lake>/<table>/`` (``_delta_log/`` + Hive-style partition folders).
cablelake writes the Parquet files itself (:class:`etl.lake._store.ParquetSink`: bounded memory, rows
sorted as the lake wants them) and commits them with delta-rs as ``add``/``remove`` actions, one commit per
table per lake version. Every commit is a compare-and-swap: it must land at the version right after the
one its changes were decided on (``max_commit_retries=0``), else :class:`ConflictError` and the caller
starts over from a fresh snapshot. Commits carry the run id, operation and schema version in their
``commitInfo`` and an application transaction ``(cablelake, <lake version>)``.

Protocol: reader version 1, writer version 2, no table features (no deletion vectors, no change data feed,
no column mapping): every Delta reader can read these tables. Checkpoints every 10 commits keep the log
short.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from etl.lake._store import Location

if TYPE_CHECKING:
    from deltalake import DeltaTable
    from deltalake.transaction import AddAction, RemoveAction
# (deltalake itself is imported where a table is opened or committed: a parse worker, which only writes data
# files, never loads it: ~17 MiB of a process's resident size, see bench/scale.py's per-process figures)

APP_ID = "cablelake"
PARTITION_KEY = "year"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
CONFIGURATION = {"delta.checkpointInterval": "10"}
ABSENT = -1
"""The version of a table that does not exist yet."""


class ConflictError(RuntimeError):
    """Another writer committed first: the change must be decided again on a fresh snapshot."""


@dataclass
class FileEntry:
    path: str
    """Relative to the lake root, ``/``-separated (``cables/year=2007/<run>-c0000.parquet``)."""
    rows: int
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "bytes": self.bytes}


def partition_of(path: str) -> int | None:
    """The ``year`` of a file from its Hive directory (None for the null partition or unpartitioned)."""
    for part in path.split("/"):
        if part.startswith(f"{PARTITION_KEY}="):
            value = part.split("=", 1)[1]
            return None if value == NULL_PARTITION else int(value)
    return None


def partitioned(schema: pa.Schema) -> bool:
    return PARTITION_KEY in schema.names


def open_table(loc: Location, table: str, version: int | None = None) -> DeltaTable | None:
    """The Delta table ``table`` at ``version`` (latest when None); None when it does not exist."""
    if version == ABSENT:
        return None
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        return DeltaTable(loc.uri(table), version=version, storage_options=loc.storage_options())
    except TableNotFoundError:
        return None


def latest_version(loc: Location, table: str) -> int:
    dt = open_table(loc, table)
    return ABSENT if dt is None else dt.version()


def add_actions(dt: DeltaTable) -> pa.Table:
    """The add actions of ``dt``'s live files, one row each (flattened: ``path``, ``num_records``,
    ``size_bytes``, ``min.<col>``...), taken over as an Arrow C stream. (``pa.table`` would first
    ask whether it was given a pandas DataFrame, which imports pandas: ~0.3 s for a run with nothing to do.)"""
    return pa.RecordBatchReader.from_stream(dt.get_add_actions(flatten=True)).read_all()


def files(loc: Location, table: str, version: int) -> list[FileEntry]:
    """The live files of ``table`` at ``version`` (paths relative to the lake root), in path order."""
    dt = open_table(loc, table, version)
    if dt is None:
        return []
    actions = add_actions(dt)
    paths = actions.column("path").to_pylist()
    rows = actions.column("num_records").to_pylist()
    sizes = actions.column("size_bytes").to_pylist()
    out = [FileEntry(path=f"{table}/{p}", rows=int(n or 0), bytes=int(s or 0))
           for p, n, s in zip(paths, rows, sizes, strict=True)]
    return sorted(out, key=lambda f: f.path)


def _partition_values(table: str, entry: FileEntry, schema: pa.Schema) -> dict[str, str | None]:
    if not partitioned(schema):
        return {}
    year = partition_of(entry.path)
    return {PARTITION_KEY: None if year is None else str(year)}


def _rel(table: str, entry: FileEntry) -> str:
    prefix = f"{table}/"
    if not entry.path.startswith(prefix):
        raise ValueError(f"{entry.path} is not a file of {table}")
    return entry.path[len(prefix):]


def commit_files(
    loc: Location, table: str, expected: int, schema: pa.Schema, *, adds: list[FileEntry],
    removes: list[FileEntry], lake_version: int | None, info: dict[str, Any], data_change: bool = True,
    stats: dict[str, Any] | None = None,
) -> int:
    """Commit ``adds``/``removes`` to ``table`` as its version ``expected + 1``; returns that version.

    Raises :class:`ConflictError` when another commit took that version (or created the table) first."""
    from deltalake import CommitProperties, Transaction
    from deltalake import Schema as DeltaSchema
    from deltalake.exceptions import CommitFailedError, DeltaError
    from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions

    now = int(time.time() * 1000)
    add_actions: list[AddAction | RemoveAction] = [
        AddAction(_rel(table, f), f.bytes, _partition_values(table, f, schema), now, data_change,
                  json.dumps({"numRecords": f.rows, **(stats or {})}))
        for f in adds
    ]
    add_actions += [
        RemoveAction(_rel(table, f), data_change, now, f.bytes, _partition_values(table, f, schema))
        for f in removes
    ]
    props = CommitProperties(
        custom_metadata={f"cablelake.{k}": v for k, v in info.items()},
        max_commit_retries=0,
        app_transactions=[Transaction(APP_ID, lake_version)] if lake_version is not None else None,
    )
    part = [PARTITION_KEY] if partitioned(schema) else None
    try:
        if expected == ABSENT:
            if removes:
                raise ValueError(f"cannot remove files from {table}: it does not exist")
            create_table_with_add_actions(
                loc.uri(table), DeltaSchema.from_arrow(schema), [a for a in add_actions if isinstance(a, AddAction)],
                mode="error", partition_by=part, name=table, configuration=CONFIGURATION,
                storage_options=loc.storage_options(), commit_properties=props,
            )
            return 0
        dt = open_table(loc, table, expected)
        if dt is None:
            raise ConflictError(f"{table}: version {expected} is gone")
        if _evolve(dt, schema):  # a commit of its own (CAS too): the data lands one version later
            expected = dt.version()
        dt.create_write_transaction(add_actions, "append", schema, partition_by=part, commit_properties=props)
    except CommitFailedError as exc:
        raise ConflictError(f"{table}: another writer committed version {expected + 1} first ({exc})") from exc
    except DeltaError as exc:
        if "already exists" in str(exc).lower():
            raise ConflictError(f"{table}: created by another writer meanwhile") from exc
        raise
    return expected + 1


def _evolve(dt: DeltaTable, schema: pa.Schema) -> bool:
    """Add the columns the code's schema declares and the table lacks (a minor schema version) as a commit
    right after ``dt``'s version; returns whether it committed."""
    have = {f.name for f in pa.schema(dt.schema())}
    missing = [f for f in schema if f.name not in have]
    if missing:
        from deltalake import CommitProperties
        from deltalake.schema import Field

        dt.alter.add_columns([Field.from_arrow(f) for f in missing],
                             commit_properties=CommitProperties(max_commit_retries=0))
    return bool(missing)


def restore(loc: Location, table: str, version: int) -> int:
    """Make the table's content that of ``version`` again (a new commit undoing later ones, e.g. the commits
    of a writer that died before its lake commit); returns the new version. CAS like :func:`commit_files`.

    The commit re-adds the files ``version`` listed and later commits removed, and removes the files later
    commits added (what Delta's RESTORE does, written as plain add/remove actions)."""
    dt = open_table(loc, table)
    if dt is None or dt.version() == version:
        return version
    base = dt.version()
    want = {f.path: f for f in (files(loc, table, version) if version != ABSENT else [])}
    have = {f.path: f for f in files(loc, table, base)}
    sch = pa.schema(dt.schema())
    adds = [want[p] for p in sorted(set(want) - set(have))]
    removes = [have[p] for p in sorted(set(have) - set(want))]
    if not adds and not removes:
        return base
    info = {"operation": "restore", "restored_version": version}
    return commit_files(loc, table, base, sch, adds=adds, removes=removes, lake_version=None, info=info)


CONTENT_NEUTRAL = frozenset({"VACUUM START", "VACUUM END"})
"""Operations that change no row (vacuum deletes only files no kept version lists)."""


def base_for(loc: Location, table: str, pinned: int) -> int:
    """The version a new commit of ``table`` must follow so that the table holds what lake snapshot's
    ``pinned`` version holds: the latest version when only content-neutral commits (vacuum) came after
    ``pinned``, else a restore to ``pinned`` (undoing a dead or beaten writer's commits)."""
    latest = latest_version(loc, table)
    if latest == pinned:
        return pinned
    if pinned != ABSENT and latest > pinned and all(
        operation(loc, table, v) in CONTENT_NEUTRAL for v in range(pinned + 1, latest + 1)
    ):
        return latest
    return restore(loc, table, pinned)


def operation(loc: Location, table: str, version: int) -> str | None:
    """The ``commitInfo.operation`` of one commit of ``table`` (read from its log file)."""
    try:
        with loc.fs.open_input_stream(loc.path(f"{table}/_delta_log/{version:020d}.json")) as fh:
            lines = fh.read().decode("utf-8").splitlines()
    except FileNotFoundError:
        return None
    for line in lines:
        action = json.loads(line) if line.strip() else {}
        if "commitInfo" in action:
            return str(action["commitInfo"].get("operation"))
    return None
