"""Expand what the user named (files, directories, globs, URLs) into :class:`Dump` objects."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import time
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


RACY_NS = 2_000_000_000
"""A file whose modification or change time is this close to (or after) the moment it was hashed may still
change within its timestamp's granularity without its stat changing (git's "racy clean" problem): its entry
is not trusted, and the next discovery hashes it again."""


class _HashIndex:
    """The quick check of local dumps, like git's index or rsync: sha256 remembered by the file's stat
    (path, size, mtime_ns, ctime_ns, inode, device), so that a nightly rerun over unchanged dumps reads no
    bytes. Any change of the stat hashes the file again: new content of the same size (mtime and ctime
    move), content restored under an old mtime (``touch -d``, ``rsync -t``: ctime, which no user can set,
    still moves), a file replaced by another (inode). An entry is trusted only when the file's times were
    at least :data:`RACY_NS` older than the start of its hashing (else a write right after the hash, within
    the timestamp's granularity, would keep the stat); a racy entry is hashed again on the next discovery.

    Stored in ``$CABLELAKE_CACHE`` (default ``~/.cache/cablelake``)/``sha256-index.json``; entries of files
    that no longer exist are dropped when it is saved. ``rehash`` (``cablelake run --rehash``) hashes every
    file again and refreshes the entries; ``CABLELAKE_HASH_CACHE=0`` turns the index off.
    """

    def __init__(self, *, rehash: bool = False) -> None:
        root = Path(os.environ.get("CABLELAKE_CACHE") or Path.home() / ".cache" / "cablelake")
        self.path = root / "sha256-index.json"
        self.enabled = os.environ.get("CABLELAKE_HASH_CACHE", "1") != "0"
        self.rehash = rehash
        self.entries: dict[str, list[object]] = {}
        self.changed: set[str] = set()
        if self.enabled:
            self.entries = self._load()

    def _load(self) -> dict[str, list[object]]:
        with contextlib.suppress(OSError, ValueError):
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                return loaded
        return {}

    @staticmethod
    def stamp(st: os.stat_result) -> list[object]:
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]

    def sha256(self, path: Path) -> str:
        st = os.stat(path)
        if not self.enabled:
            return sha256_file(path)
        key, stamp = str(path.resolve()), self.stamp(st)
        hit = self.entries.get(key)
        if not self.rehash and isinstance(hit, list) and len(hit) == 7 and hit[:5] == stamp:
            digest, hashed_at = hit[5], hit[6]
            if isinstance(digest, str) and isinstance(hashed_at, int) and \
                    max(st.st_mtime_ns, st.st_ctime_ns) + RACY_NS <= hashed_at:
                return digest
        hashed_at = time.time_ns()
        digest = sha256_file(path)
        self.entries[key] = [*stamp, digest, hashed_at]
        self.changed.add(key)
        return digest

    def save(self) -> None:
        """Write the entries this discovery changed into the index as it is now (other processes may have
        saved theirs meanwhile), dropping those of files that no longer exist."""
        if not self.changed:
            return
        entries = self._load()
        entries.update({k: self.entries[k] for k in self.changed})
        entries = {k: v for k, v in entries.items() if os.path.exists(k)}
        with contextlib.suppress(OSError):  # a read-only home must not fail a run
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(entries), encoding="utf-8")
            os.replace(tmp, self.path)


def is_remote(uri: str) -> bool:
    """True for URLs the sources stage downloads/streams (http(s), s3, gs)."""
    return uri.lower().startswith(REMOTE_SCHEMES)


def discover(paths: Sequence[str], *, rehash: bool = False) -> list[Dump]:
    """Every dump named by ``paths``, sorted within each argument, duplicates removed.

    * a file -> one dump; a directory -> every regular file below it (recursively, hidden files and
      symlinks to directories skipped); a glob (``*``, ``?``, ``[``, ``**``) -> every match;
    * ``http(s)://`` / ``s3://`` / ``gs://`` URLs -> one dump each (downloaded to a cache, checksummed).

    Paths that match nothing are skipped here; the pipeline compares what it asked for with what it got.
    The sha256 of a local file comes from the quick-check index when its stat has not changed since it was
    hashed (see :class:`_HashIndex`); ``rehash`` reads and hashes every file again.
    """
    dumps: list[Dump] = []
    seen: set[str] = set()
    index = _HashIndex(rehash=rehash)
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
