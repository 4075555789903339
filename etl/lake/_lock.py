"""One writer per lake: an advisory ``flock`` on ``<lake>/_lock``.

The lock is taken by everything that changes what readers see (publish, compaction, replay, cleanup) and by
``cablelake run`` for its whole duration. It is re-entrant within one process (``run`` holds it and calls
``publish_run``, which takes it again). The kernel drops a ``flock`` when its holder dies, so a SIGKILLed run
never leaves a stale lock behind; the holder's identity written into the file is only there for the message.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_NAME = "_lock"
DEFAULT_TIMEOUT = 600.0
"""Seconds a writer waits for the lock by default; ``$CABLELAKE_LOCK_TIMEOUT`` (read at each wait) overrides it."""

_held: dict[str, tuple[int, int]] = {}  # resolved lake root -> (fd, depth)
_guard = threading.Lock()


class LakeLockedError(RuntimeError):
    """Another process holds the lake's lock and did not release it within the timeout."""


def _holder(path: Path) -> str:
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    return (
        f"{info.get('what', 'a writer')} (pid {info.get('pid', '?')} on {info.get('host', '?')}, "
        f"since {info.get('since', '?')})"
    )


@contextmanager
def lake_lock(root: Path | str, what: str = "a writer", timeout: float | None = None) -> Iterator[None]:
    """Hold the exclusive lock of the lake at ``root``; wait up to ``timeout`` seconds (0: do not wait).

    Raises :class:`LakeLockedError` with the holder's identity when the lock cannot be had in time.
    """
    root = _local(root)
    root.mkdir(parents=True, exist_ok=True)
    key = str(root.resolve())
    with _guard:
        if key in _held:
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield
        finally:
            with _guard:
                fd, depth = _held[key]
                _held[key] = (fd, depth - 1)
        return

    timeout = float(os.environ.get("CABLELAKE_LOCK_TIMEOUT") or DEFAULT_TIMEOUT) if timeout is None else timeout
    path = root / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = 0.05
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
                if time.monotonic() >= deadline:
                    raise LakeLockedError(
                        f"lake {root} is locked by {_holder(path)}; waited {timeout:g}s. "
                        "Another run is writing this lake: wait for it to finish or raise --lock-timeout."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 1.0)
    except BaseException:
        os.close(fd)
        raise
    info = {"what": what, "pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(UTC).isoformat()}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode(), 0)
    with _guard:
        _held[key] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            _held.pop(key, None)
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def holds_lock(root: Path | str) -> bool:
    """Whether this process holds the lock of the lake at ``root``."""
    with _guard:
        return str(_local(root).resolve()) in _held


def _local(root: Path | str) -> Path:
    """Where the lock file of the lake at ``root`` lives (a remote lake's local work folder)."""
    from etl.lake._store import LakePaths

    return LakePaths(Path(root)).root
