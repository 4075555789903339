"""Lake versions: the snapshot record that makes commits to several Delta tables one atomic step.

Delta commits one table at a time. A run changes ``cables``, ``quarantine``, ``runs`` and ``dumps`` (the
manifest of ingested dumps); a reader must see all of a run's changes or none. The lake therefore keeps a
fifth, tiny Delta table ``_lake``: one row per lake version naming the version of each table that belongs
to it (plus the run id, the operation, the schema versions and the time). A writer

1. reads the latest snapshot (lake version N, table versions V),
2. commits its changes to each table, each commit landing exactly after V[t] (compare-and-swap),
3. appends the row of lake version N+1 to ``_lake``, landing exactly after the ``_lake`` version it read:
   **the commit point**.

Readers (the catalog, ``read_table``, time travel) read each table *at the version the snapshot names*,
never at the table's latest version, so a reader sees lake version N or N+1, whole. Table commits made by
a writer that lost a race or died before step 3 are not part of any snapshot; the next writer of that table
first restores it to the snapshot's version (a new commit, see :func:`etl.lake._delta.restore`). Two
writers can never both succeed on the same snapshot: both would need the same ``_lake`` version.

Other Delta readers (Spark, Trino, Polars, DuckDB's delta extension) read each table as plain Delta at its
latest version; between a writer's table commits and its commit point (or after it died there, until the
next writer), that latest version may hold a run's cables without its quarantine rows. Readers that need
the cross-table guarantee read the versions the latest ``_lake`` row names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs

from etl.lake import _delta
from etl.lake._delta import ABSENT, FileEntry
from etl.lake._rows import read_file, rows_table, to_rows
from etl.lake._store import DUMPS, Location, ParquetSink, reader_path

SNAPSHOTS = "_lake"
TABLES = ("cables", "quarantine", "runs", DUMPS)
DATA_TABLES = ("cables", "quarantine", "runs")
SNAPSHOT_SCHEMA = pa.schema(
    [
        pa.field("lake_version", pa.int64(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("operation", pa.string()),
        pa.field("committed_at", pa.timestamp("us", tz="UTC")),
        pa.field("schema_versions", pa.string()),
        *[pa.field(f"{t}_version", pa.int64()) for t in TABLES],
    ]
)
DUMPS_SCHEMA = pa.schema(
    [
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("uri", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("records", pa.int64()),
        pa.field("run_id", pa.string()),
    ]
)


@dataclass
class Commit:
    """One version of the lake: the version of each of its Delta tables."""

    version: int = 0
    run_id: str | None = None
    operation: str = "empty"
    committed_at: datetime | None = None
    schema_versions: dict[str, str] = field(default_factory=dict)
    table_versions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, ABSENT))
    root: str = ""
    log_version: int = ABSENT
    """The version of the ``_lake`` table this snapshot was read at (what the next lake commit must follow)."""
    _files: dict[str, list[FileEntry]] = field(default_factory=dict, repr=False)
    _dumps: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def loc(self) -> Location:
        return Location.of(self.root)

    def files(self, table: str) -> list[FileEntry]:
        if table not in self._files:
            v = self.table_versions.get(table, ABSENT)
            self._files[table] = _delta.files(self.loc, table, v) if self.root and v != ABSENT else []
        return list(self._files[table])

    def rows(self, table: str) -> int:
        return sum(f.rows for f in self.files(table))

    def paths(self) -> set[str]:
        return {f.path for t in TABLES for f in self.files(t)}

    @property
    def dumps(self) -> dict[str, dict[str, Any]]:
        """Manifest of ingested dumps: sha256 -> {uri, size, records, run_id}."""
        if self._dumps is None:
            out: dict[str, dict[str, Any]] = {}
            for f in self.files(DUMPS):
                with self.loc.fs.open_input_file(self.loc.path(f.path)) as fh:
                    for row in read_file(fh, DUMPS_SCHEMA).to_pylist():
                        out[row.pop("sha256")] = row
            self._dumps = out
        return dict(self._dumps)

    def token(self) -> str:
        """An opaque token that changes whenever the lake does (lake version and where the lake is)."""
        return f"{self.version}:{self.committed_at.isoformat() if self.committed_at else '-'}"

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "lake_version": self.version, "run_id": self.run_id, "operation": self.operation,
            "committed_at": self.committed_at, "schema_versions": json.dumps(self.schema_versions, sort_keys=True),
        }
        row.update({f"{t}_version": self.table_versions.get(t, ABSENT) for t in TABLES})
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any], root: str, log_version: int) -> Commit:
        return cls(
            version=int(row["lake_version"]), run_id=row["run_id"], operation=row["operation"],
            committed_at=row["committed_at"], schema_versions=json.loads(row["schema_versions"] or "{}"),
            table_versions={t: int(row.get(f"{t}_version", ABSENT) if row.get(f"{t}_version") is not None else ABSENT)
                            for t in TABLES},
            root=root, log_version=log_version,
        )


def _snapshot_rows(loc: Location, version: int | None = None) -> tuple[pa.Table, int]:
    """Every row of ``_lake`` (at its ``version``, latest when None) and that version."""
    dt = _delta.open_table(loc, SNAPSHOTS, version)
    if dt is None:
        return SNAPSHOT_SCHEMA.empty_table(), ABSENT
    parts = []
    for f in _delta.files(loc, SNAPSHOTS, dt.version()):
        with loc.fs.open_input_file(loc.path(f.path)) as fh:
            parts.append(read_file(fh, SNAPSHOT_SCHEMA))
    table = pa.concat_tables(parts) if parts else SNAPSHOT_SCHEMA.empty_table()
    return table.sort_by("lake_version"), dt.version()


def _latest_row(loc: Location) -> tuple[dict[str, Any] | None, int]:
    """The row of the newest lake version, reading only the ``_lake`` file that holds it."""
    dt = _delta.open_table(loc, SNAPSHOTS)
    if dt is None:
        return None, ABSENT
    actions = _delta.add_actions(dt)
    if actions.num_rows == 0:
        return None, dt.version()
    newest = pc.index(actions.column("max.lake_version"), pc.max(actions.column("max.lake_version"))).as_py()
    rel = actions.column("path")[newest].as_py()
    with loc.fs.open_input_file(loc.path(f"{SNAPSHOTS}/{rel}")) as fh:
        rows = to_rows(read_file(fh, SNAPSHOT_SCHEMA).sort_by("lake_version"))
    return rows[-1], dt.version()


_HEADS: dict[str, tuple[tuple[object, ...], Commit]] = {}
"""The last snapshot read of each lake, with the head of its ``_lake`` log when it was read."""


def _is_commit_file(name: str) -> bool:
    return name.endswith(".json") and name[:-5].isdigit()


def _log_head(loc: Location) -> tuple[object, ...] | None:
    """The newest commit file of the lake's ``_lake`` log with its size and time (and inode on a local disk;
    None when there is none or the log cannot be listed). Every lake commit writes a new one, so an equal
    head is an unchanged lake; a lake removed and made again at the same place has new inodes and times.
    On an object store this is one LIST request (up to 1,000 log entries a page)."""
    try:
        if loc.remote:
            return _listed_head(loc)
        with os.scandir(os.path.join(loc.root, SNAPSHOTS, "_delta_log")) as it:
            newest = max((e for e in it if _is_commit_file(e.name)), key=lambda e: e.name, default=None)
        if newest is None:  # (zero-padded names: the newest sorts last)
            return None
        st = newest.stat()
    except OSError:
        return None
    return newest.name, st.st_size, st.st_mtime_ns, st.st_ino


def _listed_head(loc: Location) -> tuple[object, ...] | None:
    """:func:`_log_head` of a lake on an object store (raises OSError when the store does not answer)."""
    infos = loc.fs.get_file_info(pafs.FileSelector(loc.path(f"{SNAPSHOTS}/_delta_log"), allow_not_found=True))
    last = max((i for i in infos if _is_commit_file(i.base_name)), key=lambda i: i.base_name, default=None)
    return None if last is None else (last.base_name, last.size, last.mtime_ns)


def read_current(root: Path | str | Location) -> Commit:
    """The live version of the lake (version 0, empty, when nothing was ever committed).

    The snapshot is read once per lake version in a process: a step that asks again (the catalog, the search
    index, garbage collection, each page of the reading room) gets a copy of it while the head of the
    ``_lake`` log is unchanged, which costs one directory listing (one LIST request on an object store)."""
    loc = Location.of(root)
    return _current(loc, _log_head(loc))


def current_lake(root: Path | str | Location) -> Commit | None:
    """:func:`read_current` when ``root`` holds a lake (:func:`is_lake`), else None: on an object store with
    the one LIST of the ``_lake`` log both need. Raises OSError when the store does not answer."""
    loc = Location.of(root)
    if not loc.remote:
        return read_current(loc) if is_lake(loc) else None
    head = _listed_head(loc)
    return None if head is None else _current(loc, head)


def _current(loc: Location, head: tuple[object, ...] | None) -> Commit:
    seen = _HEADS.get(loc.root)
    if head is not None and seen is not None and seen[0] == head:
        return _copy(seen[1])
    row, log_version = _latest_row(loc)
    commit = Commit(root=loc.root, log_version=log_version) if row is None else Commit.from_row(row, loc.root, log_version)
    if head is not None:
        _HEADS[loc.root] = (head, commit)
    return _copy(commit)


def _copy(commit: Commit) -> Commit:
    """A copy the caller may change, sharing the file lists (those of a table version never change)."""
    return replace(commit, table_versions=dict(commit.table_versions), schema_versions=dict(commit.schema_versions),
                   _files=commit._files)


def history(root: Path | str | Location) -> Iterator[Commit]:
    """Every lake version still recorded, oldest first."""
    loc = Location.of(root)
    rows, log_version = _snapshot_rows(loc)
    for row in to_rows(rows):
        yield Commit.from_row(row, loc.root, log_version)


def read_version(root: Path | str | Location, version: int) -> Commit | None:
    """Lake version ``version`` (None when it was never committed)."""
    return next((c for c in history(root) if c.version == version), None)


def read_as_of(root: Path | str | Location, when: int | str | datetime) -> Commit:
    """The lake as it was at lake version ``when`` (an int or digits) or at a time (ISO 8601 or datetime)."""
    if isinstance(when, int) or (isinstance(when, str) and when.strip().isdigit()):
        version = int(when)
        found = read_version(root, version) if version else Commit(root=Location.of(root).root)
        if found is None:
            raise LookupError(f"the lake has no version {version} (still recorded: {_span(root)})")
        return found
    ts = when if isinstance(when, datetime) else datetime.fromisoformat(str(when).strip().replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    best: Commit | None = None
    for c in history(root):
        if c.committed_at is not None and c.committed_at <= ts:
            best = c
    if best is None:
        raise LookupError(f"the lake has no version committed at or before {ts.isoformat()} (recorded: {_span(root)})")
    return best


def _span(root: Path | str | Location) -> str:
    versions = [c.version for c in history(root)]
    return f"versions {versions[0]}..{versions[-1]}" if versions else "none"


def write_commit(base: Commit, new: Commit) -> Commit:
    """Append ``new`` to ``_lake`` as the version right after ``base`` (the commit point).

    Raises :class:`etl.lake._delta.ConflictError` when another writer committed a lake version first."""
    loc = base.loc
    new.committed_at = new.committed_at or datetime.now(UTC)
    rel = f"{SNAPSHOTS}/v{new.version:08d}-{new.run_id or 'lake'}.parquet"
    with ParquetSink(loc, rel, SNAPSHOT_SCHEMA) as sink:
        sink.write(rows_table([new.to_row()], SNAPSHOT_SCHEMA))
    entry = FileEntry(path=rel, rows=1, bytes=sink.bytes)
    try:
        _delta.commit_files(
            loc, SNAPSHOTS, base.log_version, SNAPSHOT_SCHEMA, adds=[entry], removes=[], lake_version=new.version,
            info={"run_id": new.run_id, "operation": new.operation, "lake_version": new.version},
            stats={"minValues": {"lake_version": new.version}, "maxValues": {"lake_version": new.version}},
        )
    except _delta.ConflictError:
        loc.fs.delete_file(loc.path(rel))  # never listed: nobody can need it
        raise
    new.root, new.log_version = loc.root, base.log_version + 1
    _remember(loc, new)
    return new


def _remember(loc: Location, new: Commit) -> None:
    """Keep the commit just written as the lake's snapshot at the log head it made, so that the steps after
    it (catalog, search index, garbage collection) do not read back from Delta what this process wrote: its
    ``_lake`` row and the file lists it knows (a :class:`etl.lake.Transaction` knows every table's).
    Only when the log's newest entry is this commit's own (no other writer committed after it)."""
    head = _log_head(loc)
    if head is None or head[0] != f"{new.log_version:020d}.json":
        return
    files = {t: sorted(fs, key=lambda f: f.path) for t, fs in new._files.items()}  # as _delta.files lists them
    _HEADS[loc.root] = (head, replace(new, _files=files, _dumps=None))  # (the manifest: read when asked)


def committed_files(root: Path | str | Location, table: str, commit: Commit | None = None) -> list[Path]:
    """Absolute paths of the live files of ``table`` in a local lake (what readers read instead of a glob)."""
    return [Path(p) for p in reader_files(root, table, commit)]


def reader_files(root: Path | str | Location, table: str, commit: Commit | None = None) -> list[str]:
    """The live files of ``table`` as a reader opens them: local paths, or ``cablelake://`` paths served by
    :func:`etl.lake._store.fsspec_store` for a lake on an object store."""
    loc = Location.of(root)
    commit = commit or read_current(loc)
    return [reader_path(loc, f.path) for f in commit.files(table)]


def version_token(root: Path | str | Location) -> str:
    """An opaque token naming the lake's current version: equal tokens, same lake content."""
    return read_current(root).token()


def is_lake(root: Path | str | Location) -> bool:
    """Whether ``root`` holds a lake with at least one commit (a ``_lake`` Delta table)."""
    loc = Location.of(root)
    if loc.remote:  # one LIST (an object store has no folders: a log without commits is no table)
        return _listed_head(loc) is not None
    return loc.exists(f"{SNAPSHOTS}/_delta_log")
