"""Expand what the user named (files, directories, globs, URLs) into :class:`Dump` objects."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from etl.sources._model import Dump

_CHUNK = 1024 * 1024
REMOTE_SCHEMES = ("http://", "https://", "s3://", "gs://", "gcs://")


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


_INDEX_MIN_BYTES = 8 * 1024 * 1024


class _HashIndex:
    """sha256 of large local files remembered by (path, size, mtime_ns, inode), like git's index: a nightly
    rerun over unchanged multi-GB dumps does not re-read them. Stored in ``$CABLELAKE_CACHE`` (default
    ``~/.cache/cablelake``); ``CABLELAKE_HASH_CACHE=0`` turns it off."""

    def __init__(self) -> None:
        root = Path(os.environ.get("CABLELAKE_CACHE") or Path.home() / ".cache" / "cablelake")
        self.path = root / "sha256-index.json"
        self.enabled = os.environ.get("CABLELAKE_HASH_CACHE", "1") != "0"
        self.entries: dict[str, list[object]] = {}
        self.dirty = False
        if self.enabled:
            with contextlib.suppress(OSError, ValueError):
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))

    def sha256(self, path: Path) -> str:
        st = path.stat()
        if not self.enabled or st.st_size < _INDEX_MIN_BYTES:
            return sha256_file(path)
        key, stamp = str(path.resolve()), [st.st_size, st.st_mtime_ns, st.st_ino]
        hit = self.entries.get(key)
        if hit and hit[:3] == stamp and isinstance(hit[3], str):
            return hit[3]
        digest = sha256_file(path)
        self.entries[key] = [*stamp, digest]
        self.dirty = True
        return digest

    def save(self) -> None:
        if not self.dirty:
            return
        with contextlib.suppress(OSError):  # a read-only home must not fail a run
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.entries), encoding="utf-8")
            os.replace(tmp, self.path)


def is_remote(uri: str) -> bool:
    """True for URLs the sources stage downloads/streams (http(s), s3, gs)."""
    return uri.lower().startswith(REMOTE_SCHEMES)


def discover(paths: Sequence[str]) -> list[Dump]:
    """Every dump named by ``paths``, sorted within each argument, duplicates removed.

    * a file -> one dump; a directory -> every regular file below it (recursively, hidden files and
      symlinks to directories skipped); a glob (``*``, ``?``, ``[``, ``**``) -> every match;
    * ``http(s)://`` / ``s3://`` / ``gs://`` URLs -> one dump each (downloaded to a cache, checksummed).

    Paths that match nothing are skipped here; the pipeline compares what it asked for with what it got.
    """
    dumps: list[Dump] = []
    seen: set[str] = set()
    index = _HashIndex()
    for arg in paths:
        if is_remote(arg):
            from etl.sources._remote import remote_dump

            dump = remote_dump(arg)
            if dump.uri not in seen:
                seen.add(dump.uri)
                dumps.append(dump)
            continue
        for path in _expand(arg):
            key = str(path)
            if key in seen:
                continue
            seen.add(key)
            dumps.append(Dump(uri=key, sha256=index.sha256(path), size=path.stat().st_size))
    index.save()
    return dumps


def _expand(arg: str) -> list[Path]:
    expanded = os.path.expanduser(arg)
    if any(ch in expanded for ch in "*?["):
        matches = sorted(Path(m) for m in glob.glob(expanded, recursive=True))
    else:
        matches = [Path(expanded)]
    files: list[Path] = []
    for match in matches:
        if match.is_dir():
            files.extend(_walk(match))
        elif match.is_file():
            files.append(match.resolve())
    return files


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if path.is_file():
                found.append(path.resolve())
    return found
