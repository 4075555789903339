"""``cablelake migrate``: a lake of the former format (own commit record) becomes a Delta lake, in place.

The former format kept ``_current.json`` (the live Parquet files of each table, the dump manifest, the
schema versions) and ``_commits/``; lakes older still had only the Parquet files. Migration writes no data
file: each table's live files (already Hive-partitioned Parquet without the partition column, as Delta
wants them) are committed as the first version of a Delta table, the manifest becomes the ``dumps`` table,
and the lake commit (the first row of ``_lake``) is the step that makes the new lake visible. Until then
the former commit record stays the truth; a migration that dies half-way is simply run again. The former
records are kept under ``_migrated/``. Files the former record did not list (superseded, crashed runs) are
not part of any table: ``cablelake vacuum`` removes them.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from etl.lake import _delta
from etl.lake._commit import DUMPS_SCHEMA, SNAPSHOTS, TABLES, Commit, write_commit
from etl.lake._delta import ABSENT, FileEntry
from etl.lake._lock import lake_lock
from etl.lake._store import DUMPS, Location, ParquetSink

LEGACY_CURRENT = "_current.json"
LEGACY_COMMITS = "_commits"
LEGACY_FORMAT = "cablelake-commit/1"
MOVED = "_migrated"
DATA_TABLES = ("cables", "quarantine", "runs")


def needs_migration(root: Path | str) -> bool:
    """A local lake of the former format: a commit record or bare Parquet files, and no ``_lake`` yet."""
    loc = Location.of(root)
    if loc.remote:
        return False
    root = loc.local()
    if (root / SNAPSHOTS / "_delta_log").is_dir():
        return False
    if (root / LEGACY_CURRENT).exists():
        return True
    return any(p for t in DATA_TABLES if (root / t).is_dir() for p in (root / t).rglob("*.parquet")
               if not p.name.startswith("."))


def _legacy(root: Path) -> tuple[int, dict[str, list[FileEntry]], dict[str, dict[str, Any]], dict[str, str]]:
    """(version, live files per table, dump manifest, schema versions) of a former-format lake."""
    current = root / LEGACY_CURRENT
    if current.exists():
        record = json.loads(current.read_text(encoding="utf-8"))
        if record.get("format") != LEGACY_FORMAT:
            raise ValueError(f"{current}: not a cablelake commit record (format {record.get('format')!r})")
        files = {t: [FileEntry(**f) for f in record.get("tables", {}).get(t, [])] for t in DATA_TABLES}
        return int(record["version"]), files, dict(record.get("dumps", {})), dict(record.get("schema_versions", {}))
    # before commit records: every Parquet file is live; the runs' inputs are the manifest
    files = {}
    versions: dict[str, str] = {}
    for t in DATA_TABLES:
        found = sorted(p for p in (root / t).rglob("*.parquet") if not p.name.startswith(".")) if (root / t).is_dir() else []
        files[t] = [FileEntry(p.relative_to(root).as_posix(), pq.ParquetFile(p).metadata.num_rows, p.stat().st_size)
                    for p in found]
        for p in found[:1]:
            meta = pq.read_schema(p).metadata or {}
            if b"cablelake.schema_version" in meta:
                versions[t] = meta[b"cablelake.schema_version"].decode()
    dumps: dict[str, dict[str, Any]] = {}
    for f in files["runs"]:
        runs = pq.read_table(root / f.path, columns=["run_id", "inputs"])
        for run_id, inputs in zip(runs.column("run_id").to_pylist(), runs.column("inputs").to_pylist(), strict=True):
            for i in inputs or []:
                if i.get("sha256"):
                    dumps[i["sha256"]] = {"uri": i.get("uri"), "size": i.get("size"), "records": i.get("records"),
                                          "run_id": run_id}
    return 1, files, dumps, versions


def migrate(root: Path | str) -> dict[str, Any]:
    """Convert the former-format lake at ``root`` in place; returns what was converted (rows per table).

    Idempotent: a lake already on Delta is left as it is (``{"migrated": False}``)."""
    from etl.schema import schema

    loc = Location.of(root)
    path = loc.local()
    with lake_lock(path, what="cablelake migrate"):
        if not needs_migration(path):
            return {"migrated": False}
        version, files, dumps, versions = _legacy(path)
        for t in (*TABLES, SNAPSHOTS):  # a migration that died half-way left tables no lake commit names
            shutil.rmtree(path / t / "_delta_log", ignore_errors=True)
        for t in DATA_TABLES:
            for f in files[t]:
                size = os.stat(path / f.path).st_size  # a listed file must exist: fail before committing
                f.bytes = size
        new = Commit(version=version, run_id="migrate", operation="migrate", schema_versions=versions,
                     root=loc.root)
        info = {"run_id": "migrate", "operation": "migrate", "lake_version": version}
        for t in DATA_TABLES:
            new.table_versions[t] = _delta.commit_files(
                loc, t, ABSENT, schema(t), adds=files[t], removes=[], lake_version=version, info=info,
            )
        if dumps:
            rows = [{"sha256": k, **{c: v.get(c) for c in DUMPS_SCHEMA.names[1:]}} for k, v in sorted(dumps.items())]
            rel = f"{DUMPS}/migrate-{version:08d}.parquet"
            with ParquetSink(loc, rel, DUMPS_SCHEMA) as sink:
                sink.write(pa.Table.from_pylist(rows, schema=DUMPS_SCHEMA))
            new.table_versions[DUMPS] = _delta.commit_files(
                loc, DUMPS, ABSENT, DUMPS_SCHEMA, adds=[FileEntry(rel, sink.rows, sink.bytes)], removes=[],
                lake_version=version, info=info,
            )
        write_commit(Commit(root=loc.root), new)  # the commit point
        moved = path / MOVED
        moved.mkdir(exist_ok=True)
        for name in (LEGACY_CURRENT, LEGACY_COMMITS):
            if (path / name).exists():
                os.replace(path / name, moved / name)
        return {"migrated": True, "version": version, "rows": {t: sum(f.rows for f in files[t]) for t in DATA_TABLES},
                "dumps": len(dumps)}
