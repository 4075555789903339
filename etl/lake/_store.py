"""Where a lake lives (local folder or object store) and the one atomic Parquet writer.

Every Parquet file of the lake (and of a run's staging area) is written by :class:`ParquetSink`: rows are
written to a file that readers cannot mistake for a finished one and appear under their final name in one
step. On a local disk that is a hidden temp file, fsynced, then renamed (and the folder fsynced); on an
object store a PUT is atomic already (the object exists whole or not at all), so the file is written under
its final name. A lake table only ever lists files whose writer closed them (see :mod:`etl.lake._txn`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from etl.schema import statistics_columns

CABLES = "cables"
QUARANTINE = "quarantine"
RUNS = "runs"
DUMPS = "dumps"
COMPRESSION = "zstd"
ROW_GROUP_ROWS = 256  # small row groups: a reader of one row (search snippets, the cable page) decodes few
REMOTE_SCHEMES = ("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss")


_COLLAPSED = re.compile(r"^(" + "|".join(REMOTE_SCHEMES) + r"):/(?!/)")


def remote_uri(root: str | Path) -> str | None:
    """The object-store URI ``root`` names (``s3://bucket/prefix``), or None for a local path. A URI that went
    through ``pathlib.Path`` (``s3:/bucket/prefix``: pathlib collapses the double slash) is recognised too."""
    text = _COLLAPSED.sub(r"\1://", str(root))
    return text.rstrip("/") if urlparse(text).scheme in REMOTE_SCHEMES else None


def is_remote(root: str | Path) -> bool:
    return remote_uri(root) is not None


def work_dir(uri: str) -> Path:
    """The local folder of a remote lake's work (staging, quality results, run summaries, lock):
    ``$CABLELAKE_WORK_DIR/<bucket>/<prefix>`` (default ``~/.cache/cablelake``)."""
    parsed = urlparse(uri)
    base = Path(os.environ.get("CABLELAKE_WORK_DIR") or "~/.cache/cablelake").expanduser()
    return base / parsed.scheme / parsed.netloc / parsed.path.strip("/")


@dataclass(frozen=True)
class Location:
    """A lake root: a local folder or an object-store prefix (``s3://bucket/prefix``, ``gs://``, ``az://``).

    ``uri(rel)`` is what delta-rs is given; ``fs``/``path(rel)`` what pyarrow reads and writes with. Object
    store settings come from the environment (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``...), which both
    delta-rs and pyarrow read.
    """

    root: str

    @classmethod
    def of(cls, root: str | Path | Location) -> Location:
        if isinstance(root, Location):
            return root
        uri = remote_uri(root)
        if uri is not None:
            return cls(uri)
        return cls(str(Path(str(root)).expanduser().absolute()))

    @property
    def remote(self) -> bool:
        return is_remote(self.root)

    @property
    def fs(self) -> pafs.FileSystem:
        return _filesystem(self.root)

    def path(self, rel: str = "") -> str:
        """The pyarrow filesystem path of ``rel`` (relative to the root, ``/``-separated)."""
        base = urlparse(self.root)
        root = f"{base.netloc}{base.path}" if self.remote else self.root
        return f"{root}/{rel}".rstrip("/") if rel else root

    def uri(self, rel: str = "") -> str:
        return f"{self.root}/{rel}".rstrip("/") if rel else self.root

    def local(self) -> Path:
        if self.remote:
            raise ValueError(f"{self.root} is on an object store, not a local folder")
        return Path(self.root)

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.path(rel)).type != pafs.FileType.NotFound

    def storage_options(self) -> dict[str, str]:
        """Options for delta-rs: the S3 endpoint from ``AWS_ENDPOINT_URL`` (plain HTTP allowed for it) and
        conditional PUTs (``If-None-Match``) as the commit primitive, so no external lock is needed."""
        if not self.remote:
            return {}
        opts: dict[str, str] = {}
        endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
        if self.root.startswith(("s3://", "s3a://")):
            opts["conditional_put"] = "etag"
            if endpoint:
                opts["AWS_ENDPOINT_URL"] = endpoint
                if endpoint.startswith("http://"):
                    opts["AWS_ALLOW_HTTP"] = "true"
            if os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"):
                opts["AWS_REGION"] = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "")
        opts.update(json.loads(os.environ.get("CABLELAKE_STORAGE_OPTIONS") or "{}"))
        return opts


_FS: dict[str, pafs.FileSystem] = {}


def _filesystem(root: str) -> pafs.FileSystem:
    scheme = urlparse(root).scheme if is_remote(root) else "file"
    key = f"{scheme}:{os.environ.get('AWS_ENDPOINT_URL', '')}"
    if key not in _FS:
        if scheme in ("s3", "s3a"):
            endpoint = os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3")
            kw: dict[str, Any] = {}
            if endpoint:
                parsed = urlparse(endpoint)
                kw = {"endpoint_override": parsed.netloc, "scheme": parsed.scheme or "https"}
            region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
            _FS[key] = pafs.S3FileSystem(region=region or "us-east-1", **kw)
        elif scheme == "file":
            _FS[key] = pafs.LocalFileSystem()
        else:
            _FS[key] = pafs.FileSystem.from_uri(root)[0]
    return _FS[key]


@dataclass(frozen=True)
class LakePaths:
    """The local places of one lake (staging, quality results, catalog), derived from its root. For a lake
    on an object store (``LakePaths(Path("s3://bucket/prefix"))`` works too), ``root`` is its local work
    folder (:func:`work_dir`) and ``lake`` its URI; for a local lake both name the lake's folder."""

    root: Path
    lake: str = ""

    def __post_init__(self) -> None:
        uri = remote_uri(self.root)
        if uri is not None:
            object.__setattr__(self, "root", work_dir(uri))
            object.__setattr__(self, "lake", uri)
        elif not self.lake:
            object.__setattr__(self, "lake", str(self.root))

    @property
    def cables(self) -> Path:
        return self.root / CABLES

    @property
    def quarantine(self) -> Path:
        return self.root / QUARANTINE

    @property
    def runs(self) -> Path:
        return self.root / RUNS

    @property
    def catalog(self) -> Path:
        return self.root / "cables.duckdb"

    def staging(self, run_id: str) -> Path:
        return self.root / "_staging" / run_id

    def quality(self, run_id: str) -> Path:
        return self.root / "_quality" / run_id

    def table_dir(self, table: str) -> Path:
        return self.root / table


def _fsync(path: str, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
    del directory


class ParquetSink:
    """One Parquet file written row group by row group, visible under its final name only once closed.

    ``with ParquetSink(loc, rel, schema) as sink: sink.write(table)``; leaving the block by an exception
    leaves nothing behind (the temp file is removed; on an object store the upload is abandoned).
    """

    def __init__(self, where: Location | Path | str, rel: str, schema: pa.Schema) -> None:
        self.loc = Location.of(where)
        self.rel = rel
        self.rows = 0
        self.bytes = 0
        final = self.loc.path(rel)
        fs = self.loc.fs
        if self.loc.remote:  # no folders on an object store (creating one would leave a marker object)
            self._tmp = final
        else:
            head, name = final.rsplit("/", 1)
            fs.create_dir(head, recursive=True)
            self._tmp = f"{head}/.{name}.{os.getpid()}.tmp"
        self._final = final
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self._tmp, schema, compression=COMPRESSION, filesystem=fs, write_statistics=statistics_columns(schema)
        )

    def write(self, table: pa.Table) -> None:
        assert self._writer is not None, "sink already closed"
        if table.num_rows:
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._writer = None
        if not self.loc.remote:
            _fsync(self._tmp)
            os.replace(self._tmp, self._final)
            _fsync(self._final.rsplit("/", 1)[0], directory=True)
        self.bytes = self.loc.fs.get_file_info(self._final).size or 0

    def abort(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None
                try:
                    self.loc.fs.delete_file(self._tmp)
                except OSError:
                    pass

    def __enter__(self) -> ParquetSink:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_parquet(table: pa.Table, path: Path | str) -> Path:
    """Write ``table`` to the local ``path`` atomically (:class:`ParquetSink`), zstd-compressed."""
    path = Path(path).absolute()
    with ParquetSink(path.parent, path.name, table.schema) as sink:
        sink.write(table)
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to the local ``path`` durably and atomically (temp file, fsync, rename, fsync dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync(str(path.parent), directory=True)


def read_parquet_dir(paths: list[Path], schema: pa.Schema) -> pa.Table:
    """Concatenate Parquet files (all of ``schema``); an empty list gives an empty table."""
    if not paths:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(p, schema=schema) for p in paths])


STORE_PROTOCOL = "cablelake"
"""The protocol under which :func:`fsspec_store` serves a remote lake's files to DuckDB (no httpfs needed)."""


def fsspec_store(root: str | Path | Location) -> Any:
    """An fsspec filesystem over the lake's object store (pyarrow's S3/GCS/Azure client) for
    ``duckdb.register_filesystem``: DuckDB then reads ``cablelake://bucket/key`` without any extension."""
    from fsspec.implementations.arrow import ArrowFSWrapper

    class LakeStore(ArrowFSWrapper):  # type: ignore[misc]
        """The lake's files are written once under names never reused, so what a HEAD request told about
        one (its size) holds for the life of the store: DuckDB's size checks of a file cost one HEAD in all
        (opening it costs another: pyarrow's ``open_input_file`` takes no known size)."""

        protocol = (STORE_PROTOCOL,)
        cachable = False

        def __init__(self, fs: pafs.FileSystem) -> None:
            super().__init__(fs)
            self._known: dict[str, pafs.FileInfo] = {}

        def _file_info(self, path: str) -> pafs.FileInfo:
            path = self._strip_protocol(path)
            found = self._known.get(path)
            if found is None:
                [found] = self.fs.get_file_info([path])
                if found.type == pafs.FileType.File:
                    self._known[path] = found
            return found

        def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
            return dict(self._make_entry(self._file_info(path)))

        @classmethod
        def _strip_protocol(cls, path: Any) -> Any:
            prefix = f"{STORE_PROTOCOL}://"
            if isinstance(path, list):
                return [cls._strip_protocol(p) for p in path]
            return path[len(prefix):] if path.startswith(prefix) else path

    return LakeStore(Location.of(root).fs)


def reader_path(loc: Location, rel: str) -> str:
    """Where a reader of the catalog finds ``rel``: a local path, or ``cablelake://bucket/key``."""
    return f"{STORE_PROTOCOL}://{loc.path(rel)}" if loc.remote else loc.uri(rel)
