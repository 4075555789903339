"""A write transaction on the lake: new immutable files, then one lake commit.

Usage::

    txn = Transaction(root, run_id, operation="publish")
    txn.add("cables", table_with_year_column)     # writes cables/year=YYYY/<run_id>-...parquet
    txn.remove("cables", "cables/year=2007/old.parquet")
    txn.commit(schema_versions)                    # Delta commits, then the lake commit (the atomic step)

Files are written under their final names (unique per transaction) but belong to no table until the commit
lists them; a crash or a lost race leaves orphans that ``cablelake vacuum`` deletes. ``commit`` raises
:class:`etl.lake._delta.ConflictError` when another writer committed meanwhile: decide again and retry.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from etl.lake import _delta
from etl.lake._commit import DUMPS_SCHEMA, SNAPSHOTS, TABLES, Commit, read_current, write_commit
from etl.lake._delta import NULL_PARTITION, PARTITION_KEY, ConflictError, FileEntry, partition_of
from etl.lake._store import DUMPS, Location, ParquetSink

MAX_FILE_ROWS = 250_000
BATCH_ROWS = 2_000
"""Rows per batch when a file is read in batches."""
BUFFER_BYTES = 96 << 20
"""What a :class:`TableWriter` holds in memory (all partitions together) before it writes a row group."""
MERGE_PARTS = 8
"""Tables a :class:`TableWriter` buffers for one partition before it joins them into one. A buffered table
keeps ~100-200 KB of C++ structure (an array per column and nested field), whatever its rows, and
``BUFFER_BYTES`` counts only the rows' bytes: the partitions that are never the largest would otherwise
gather a slice of every batch until the close (~750 tables, +90 MB, for a parse worker of 125,000 rows)."""


class SchemaMismatchError(RuntimeError):
    """The lake was written with an incompatible schema version."""


def major(version: str) -> str:
    return version.split(".", 1)[0]


def partition_dir(table: str, year: int | None) -> str:
    return f"{table}/{PARTITION_KEY}={NULL_PARTITION if year is None else year}"


def split_partitions(table: pa.Table) -> Iterator[tuple[int | None, pa.Table]]:
    """``(year, rows without the year column)`` per partition, in year order (null last)."""
    if table.num_rows == 0:
        return
    years = table.column(PARTITION_KEY)
    values = [y for y in pc.unique(years).to_pylist()]
    for year in sorted(values, key=lambda y: (y is None, y or 0)):
        mask = pc.is_null(years) if year is None else pc.equal(years, year)
        yield year, table.filter(mask).drop_columns([PARTITION_KEY])


def _open(root: Path | str | Location, rel: str) -> pq.ParquetFile:
    loc = Location.of(root)
    return pq.ParquetFile(loc.fs.open_input_file(loc.path(rel)))


def read_file(root: Path | str | Location, entry: FileEntry | str, schema: pa.Schema) -> pa.Table:
    """A committed file as a table of ``schema`` (missing newer columns become nulls; ``year`` restored)."""
    parts = list(iter_file(root, entry, schema, batch_rows=1 << 62))
    return pa.concat_tables(parts) if parts else schema.empty_table()


def iter_parquet(pf: pq.ParquetFile, batch_rows: int, columns: list[str] | None = None) -> Iterator[pa.Table]:
    """Tables of at most ``batch_rows`` rows, read one row group at a time.

    ``ParquetFile.iter_batches`` over a whole file lets the process grow with the file (RSS, outside Arrow's
    pool: measured 0.6 GiB more after 60,000 rows); reading row group by row group stays flat. A row group
    much larger than a batch is streamed on its own.
    """
    for i in range(pf.num_row_groups):
        if pf.metadata.row_group(i).num_rows > 8 * batch_rows:
            for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[i], columns=columns):
                yield pa.Table.from_batches([batch])
            continue
        table = pf.read_row_group(i, columns=columns)
        for offset in range(0, table.num_rows, batch_rows):
            yield table.slice(offset, batch_rows)


def iter_file(
    root: Path | str | Location, entry: FileEntry | str, schema: pa.Schema, columns: list[str] | None = None,
    batch_rows: int = BATCH_ROWS, year_from_path: bool = True,
) -> Iterator[pa.Table]:
    """A file as tables of at most ``batch_rows`` rows of ``schema`` (projected on ``columns``): missing
    newer columns become nulls; ``year`` from the partition directory when ``year_from_path``, else read
    from the file."""
    rel = entry.path if isinstance(entry, FileEntry) else entry
    names = list(columns) if columns is not None else list(schema.names)
    pf = _open(root, rel)
    present = set(pf.schema_arrow.names)
    from_path = year_from_path and PARTITION_KEY in names and PARTITION_KEY in schema.names
    read = [c for c in names if c in present and not (from_path and c == PARTITION_KEY)]
    year = partition_of(rel) if from_path else None
    target = pa.schema([schema.field(c) for c in names], metadata=schema.metadata)
    for batch in iter_parquet(pf, batch_rows, read):
        n = batch.num_rows
        cols = []
        for f in target:
            if f.name == PARTITION_KEY and from_path:
                cols.append(pa.array([year] * n, type=f.type))
            elif f.name in present:
                cols.append(batch.column(f.name).cast(f.type))
            else:
                cols.append(pa.nulls(n, type=f.type))
        yield pa.Table.from_arrays(cols, schema=target)


class TableWriter:
    """Write rows of one table as new files batch by batch, in bounded memory.

    Rows are buffered per partition; when the buffers pass ``BUFFER_BYTES`` the largest is sorted (by
    ``sort``) and written as a row group of that partition's open file (a new file every ``MAX_FILE_ROWS``
    rows). :meth:`close` finishes the files and adds them to the transaction. The same rows written in the
    same order give the same files.

    An open Parquet file keeps the metadata of every row group it wrote until it is closed (~90 KB per
    256-row group of ``cables``: 35 MB per 100,000 rows). With ``open_rows``, when the open files hold more
    rows than that together, the largest is finished early, so that memory does not grow with the rows
    written (a partition may then get more than one file). A partition's buffered tables are joined into one
    every ``MERGE_PARTS`` writes, for the same reason.
    """

    def __init__(self, txn: FileSet, table: str, tag: str,
                 sort: Callable[[pa.Table], pa.Table] | None = None, buffer_bytes: int | None = None,
                 open_rows: int | None = None) -> None:
        self.txn, self.table, self.tag, self.sort = txn, table, tag, sort
        self.buffer_bytes = BUFFER_BYTES if buffer_bytes is None else buffer_bytes  # (read when used)
        self.open_rows = open_rows
        self._buffers: dict[str, list[pa.Table]] = {}
        self._sizes: dict[str, int] = {}
        self._open: dict[str, ParquetSink] = {}
        self._done: list[ParquetSink] = []
        self.rows = 0

    @property
    def open_file_rows(self) -> int:
        """Rows in the files still open (what ``open_rows`` bounds)."""
        return sum(s.rows for s in self._open.values())

    def write(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        self.rows += rows.num_rows
        parts: list[tuple[str, pa.Table]]
        if PARTITION_KEY in rows.schema.names:
            parts = [(partition_dir(self.table, y), t) for y, t in split_partitions(rows)]
        else:
            parts = [(self.table, rows)]
        for folder, part in parts:
            buffer = self._buffers.setdefault(folder, [])
            buffer.append(part)
            if len(buffer) >= MERGE_PARTS:
                self._buffers[folder] = [pa.concat_tables(buffer).combine_chunks()]
            self._sizes[folder] = self._sizes.get(folder, 0) + part.nbytes
        while sum(self._sizes.values()) > self.buffer_bytes:
            self._flush(max(self._sizes, key=lambda f: (self._sizes[f], f)))

    def _flush(self, folder: str) -> None:
        parts = self._buffers.pop(folder, [])
        self._sizes.pop(folder, None)
        if not parts:
            return
        data = pa.concat_tables(parts)
        del parts
        if self.sort is not None:
            data = self.sort(data)
        start = 0
        while start < data.num_rows:
            if folder not in self._open:
                self._open[folder] = ParquetSink(self.txn.loc, self.txn.new_name(folder, self.tag), data.schema)
            sink = self._open[folder]
            chunk = data.slice(start, MAX_FILE_ROWS - sink.rows)
            sink.write(chunk)
            start += chunk.num_rows
            if sink.rows >= MAX_FILE_ROWS:
                self._done.append(self._open.pop(folder))
        while self.open_rows is not None and self.open_file_rows > self.open_rows:
            largest = max(self._open, key=lambda f: (self._open[f].rows, f))
            sink = self._open.pop(largest)
            sink.close()  # frees its row groups' metadata; the transaction lists it at close()
            self._done.append(sink)

    def close(self) -> list[FileEntry]:
        """Write what is buffered, finish every file (durable, final name) and add them to the transaction."""
        for folder in sorted(self._buffers):
            self._flush(folder)
        self._done += [self._open.pop(folder) for folder in sorted(self._open)]
        out: list[FileEntry] = []
        for sink in sorted(self._done, key=lambda s: s.rel):
            sink.close()
            out.append(FileEntry(path=sink.rel, rows=sink.rows, bytes=sink.bytes))
        self._done = []
        self.txn.added[self.table].extend(out)
        return out


class FileSet:
    """New data files of the lake's tables under ``root`` (each table's Hive layout), named uniquely.

    A :class:`Transaction` is the file set of a commit; a parse worker writes the run's ``cables`` rows as a
    file set in the run's staging folder, and the publish adopts those files as they are (:meth:`Transaction.adopt`).
    """

    def __init__(self, root: Path | str | Location, run_id: str) -> None:
        self.loc = Location.of(root)
        self.run_id = run_id
        self.added: dict[str, list[FileEntry]] = {t: [] for t in TABLES}
        self._seq = 0
        self._token = secrets.token_hex(3)

    def new_name(self, folder: str, tag: str) -> str:
        """A file name no other file set uses (the same run may retry after a conflict)."""
        self._seq += 1
        return f"{folder}/{self.run_id}-{self._token}-{tag}{self._seq - 1:04d}.parquet"

    def writer(self, table: str, tag: str = "", sort: Callable[[pa.Table], pa.Table] | None = None,
               buffer_bytes: int | None = None, open_rows: int | None = None) -> TableWriter:
        """A :class:`TableWriter` adding files to ``table`` (for rows too many to hold in memory at once)."""
        return TableWriter(self, table, tag, sort, buffer_bytes, open_rows)


class Transaction(FileSet):
    """Stage file additions/removals against a lake version, then commit them as the next lake version."""

    def __init__(self, root: Path | str | Location, run_id: str, operation: str, *, base: Commit | None = None) -> None:
        super().__init__(root, run_id)
        self.operation = operation
        self.base = base or read_current(self.loc)
        self.removed: dict[str, set[str]] = {t: set() for t in TABLES}
        self.replaced: set[str] = set()
        self.dumps: dict[str, dict[str, Any]] = {}
        self.reset_dumps = False

    @property
    def root(self) -> Path:
        return self.loc.local()

    # -- staging changes -------------------------------------------------------------------------------
    def add(self, table: str, rows: pa.Table, tag: str = "") -> list[FileEntry]:
        """Write ``rows`` (with a ``year`` column when partitioned) as new files of ``table``."""
        writer = self.writer(table, tag)
        writer.write(rows)
        return writer.close()

    def adopt(self, table: str, source: Location, entry: FileEntry) -> FileEntry:
        """Make the finished data file ``entry`` of a :class:`FileSet` at ``source`` a new file of ``table``
        without rewriting it: a hard link on the same local disk (the staged name stays, so a retry after a
        conflict can adopt it again), else a byte copy (an upload to an object store)."""
        folder = entry.path.rsplit("/", 1)[0]
        rel = self.new_name(folder, "a")
        src, dst = source.path(entry.path), self.loc.path(rel)
        if not self.loc.remote and not source.remote:
            Path(dst).parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:  # another file system: copy the bytes
                shutil.copyfile(src, dst)
        else:
            pafs.copy_files(src, dst, source_filesystem=source.fs, destination_filesystem=self.loc.fs)
        out = FileEntry(path=rel, rows=entry.rows, bytes=entry.bytes)
        self.added[table].append(out)
        return out

    def remove(self, table: str, rel: str) -> None:
        self.removed[table].add(rel)

    def replace_all(self, table: str) -> None:
        """Drop every live file of ``table`` (full refresh): only this transaction's files remain."""
        self.replaced.add(table)

    def record_dump(self, sha256: str, info: dict[str, Any]) -> None:
        self.dumps[sha256] = info

    # -- the commit ------------------------------------------------------------------------------------
    def _kept(self, table: str) -> list[FileEntry]:
        if table in self.replaced or (table == DUMPS and self.reset_dumps):
            return []
        return [f for f in self.base.files(table) if f.path not in self.removed[table]]

    def preview(self) -> Commit:
        """The commit this transaction would make (not written): rows and files per table."""
        new = Commit(
            version=self.base.version + 1, run_id=self.run_id, operation=self.operation,
            schema_versions=dict(self.base.schema_versions), table_versions=dict(self.base.table_versions),
            root=self.loc.root,
        )
        for t in TABLES:
            new._files[t] = self._kept(t) + self.added[t]
        dumps = {} if self.reset_dumps else self.base.dumps
        dumps.update(self.dumps)
        new._dumps = dumps
        return new

    def commit(self, schema_versions: dict[str, str]) -> Commit:
        """Commit each changed table (compare-and-swap on the version the base names), then the lake commit.

        Raises :class:`ConflictError` when another writer got there first."""
        from etl.schema import schema

        if _delta.latest_version(self.loc, SNAPSHOTS) != self.base.log_version:
            raise ConflictError(f"the lake moved past version {self.base.version} while {self.run_id} worked")
        if self.dumps:
            rows = [{"sha256": k, **{c: v.get(c) for c in DUMPS_SCHEMA.names[1:]}} for k, v in sorted(self.dumps.items())]
            self.add(DUMPS, pa.Table.from_pylist(rows, schema=DUMPS_SCHEMA))
        new = self.preview()
        new.schema_versions.update(schema_versions)
        info = {"run_id": self.run_id, "operation": self.operation, "lake_version": new.version,
                "schema_version": json_versions(new.schema_versions)}
        for t in TABLES:
            kept = {f.path for f in self._kept(t)}
            removes = [f for f in self.base.files(t) if f.path not in kept]
            if not removes and not self.added[t]:
                continue
            sch = DUMPS_SCHEMA if t == DUMPS else schema(t)
            expected = _delta.base_for(self.loc, t, self.base.table_versions.get(t, _delta.ABSENT))
            new.table_versions[t] = _delta.commit_files(
                self.loc, t, expected, sch, adds=self.added[t], removes=removes, lake_version=new.version, info=info,
            )
        return write_commit(self.base, new)


def json_versions(versions: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(versions.items()))


def check_schema(base: Commit, code_versions: dict[str, str], lake: str, *, full_refresh: bool = False) -> None:
    """Refuse to write into a lake whose tables have another major schema version than this code."""
    for table, version in code_versions.items():
        lake_version = base.schema_versions.get(table)
        if lake_version is None or major(lake_version) == major(version):
            continue
        if full_refresh:
            continue
        raise SchemaMismatchError(
            f"the lake's {table} table has schema {lake_version} but this cablelake writes {version} "
            f"(incompatible: the major version differs). Migrate by rebuilding it: "
            f"`cablelake run --full-refresh <all your dumps> --lake {lake}` rewrites every "
            f"partition with the new schema."
        )
