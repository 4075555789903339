"""Commit records: the one file readers trust.

A lake version is a JSON commit record listing, per table, the live Parquet files (relative to the lake
root, with row counts), the manifest of ingested dumps (keyed by content sha256) and the schema versions.
``_current.json`` holds the live version; it is replaced with one ``os.replace`` (atomic on a POSIX
filesystem), so a reader sees the previous version or the new one, never a mix. Data files are written
*before* the commit that lists them and are never modified afterwards, so every version stays readable as
long as its files are kept (see :func:`vacuum`). ``_commits/v<version>.json`` keeps a copy of every version
(history, and the file lists :func:`vacuum` needs).

On an object store (no atomic rename) the same scheme works with a conditional put of ``_current.json`` (or
Delta-style ``_commits/v<N>.json`` created with if-none-match as the commit point): nothing else relies on
rename.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CURRENT = "_current.json"
COMMITS = "_commits"
FORMAT = "cablelake-commit/1"
TABLES = ("cables", "quarantine", "runs")
STALE_TMP_SECONDS = 600
KEEP_HISTORY = 100  # commit records kept in _commits/ (data files are kept for far fewer: see vacuum)


@dataclass
class FileEntry:
    path: str
    """Relative to the lake root, ``/``-separated (``cables/year=2007/<run>-c0000.parquet``)."""
    rows: int
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "bytes": self.bytes}


@dataclass
class Commit:
    """One version of the lake."""

    version: int = 0
    run_id: str | None = None
    operation: str = "empty"
    committed_at: str | None = None
    schema_versions: dict[str, str] = field(default_factory=dict)
    tables: dict[str, list[FileEntry]] = field(default_factory=lambda: {t: [] for t in TABLES})
    dumps: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Manifest of ingested dumps: sha256 -> {uri, size, records, run_id}."""

    def files(self, table: str) -> list[FileEntry]:
        return list(self.tables.get(table, []))

    def rows(self, table: str) -> int:
        return sum(f.rows for f in self.tables.get(table, []))

    def paths(self) -> set[str]:
        return {f.path for entries in self.tables.values() for f in entries}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "run_id": self.run_id,
            "operation": self.operation,
            "committed_at": self.committed_at,
            "schema_versions": self.schema_versions,
            "tables": {t: [f.to_dict() for f in fs] for t, fs in self.tables.items()},
            "rows": {t: self.rows(t) for t in self.tables},
            "dumps": self.dumps,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Commit:
        if d.get("format") != FORMAT:
            raise ValueError(f"not a cablelake commit record (format {d.get('format')!r})")
        tables = {t: [FileEntry(**f) for f in fs] for t, fs in d.get("tables", {}).items()}
        for t in TABLES:
            tables.setdefault(t, [])
        return cls(
            version=int(d["version"]),
            run_id=d.get("run_id"),
            operation=d.get("operation", "?"),
            committed_at=d.get("committed_at"),
            schema_versions=dict(d.get("schema_versions", {})),
            tables=tables,
            dumps=dict(d.get("dumps", {})),
        )


def _read(path: Path) -> Commit | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return Commit.from_dict(json.loads(text))


def read_current(root: Path | str) -> Commit:
    """The live version of the lake (version 0, empty, when nothing was ever committed)."""
    return _read(Path(root) / CURRENT) or Commit()


def read_version(root: Path | str, version: int) -> Commit | None:
    return _read(Path(root) / COMMITS / f"v{version:08d}.json")


def _fsync_dir(path: Path) -> None:
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


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` durably and atomically (temp file, fsync, rename, fsync dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_commit(root: Path | str, commit: Commit) -> Commit:
    """Make ``commit`` the live version: history copy first, then the atomic replace of ``_current.json``."""
    root = Path(root)
    commit.committed_at = commit.committed_at or datetime.now(UTC).isoformat()
    text = json.dumps(commit.to_dict(), indent=1, sort_keys=True)
    atomic_write_text(root / COMMITS / f"v{commit.version:08d}.json", text)
    atomic_write_text(root / CURRENT, text)  # the commit point
    return commit


def committed_files(root: Path | str, table: str, commit: Commit | None = None) -> list[Path]:
    """Absolute paths of the live files of ``table`` (what readers must read instead of a glob)."""
    root = Path(root).resolve()
    commit = commit or read_current(root)
    return [root / f.path for f in commit.files(table)]


def _history(root: Path) -> list[int]:
    out = []
    for p in (root / COMMITS).glob("v*.json"):
        try:
            out.append(int(p.stem[1:]))
        except ValueError:
            continue
    return sorted(out)


def vacuum(root: Path | str, keep_from: int, tables: Iterable[str] = TABLES) -> list[str]:
    """Delete data files no commit from version ``keep_from`` on references, and leftover temp files.

    Must run under the lake lock (no writer is then in flight, so an unreferenced file is either superseded
    by a version older than ``keep_from`` or an orphan of a crashed run). Returns the deleted paths.
    """
    root = Path(root)
    current = read_current(root)
    if current.version == 0:  # nothing committed (or a lake from before commit records): never delete
        return []
    keep: set[str] = set(current.paths())
    for v in _history(root):
        if keep_from <= v <= current.version:
            c = read_version(root, v)
            if c is not None:
                keep |= c.paths()
    deleted: list[str] = []
    for table in tables:
        tdir = root / table
        if not tdir.exists():
            continue
        for p in sorted(tdir.rglob("*")):
            if not p.is_file():
                continue
            rel = p.relative_to(root).as_posix()
            if rel in keep:
                continue
            if p.suffix == ".parquet" or p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
                deleted.append(rel)
        for d in sorted((p for p in tdir.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            try:
                d.rmdir()  # only succeeds when empty
            except OSError:
                pass
    for v in _history(root)[:-KEEP_HISTORY]:
        (root / COMMITS / f"v{v:08d}.json").unlink(missing_ok=True)
    for p in (root / COMMITS).glob(".*.tmp") if (root / COMMITS).exists() else []:
        p.unlink(missing_ok=True)
    for p in root.glob(".*.tmp"):  # catalogs being built (readers may rebuild one without the lock)
        try:
            if time.time() - p.stat().st_mtime > STALE_TMP_SECONDS:
                p.unlink(missing_ok=True)
        except OSError:
            pass
    return deleted
