"""The quick-check index of dump hashes: an unchanged dump is not read again on a rerun; any change of its
content is caught, including one that keeps its size and mtime (the racy-git case)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from etl.sources import _discover, discover

HOUR_NS = 3600 * 10**9


@pytest.fixture
def hashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files read and hashed (not answered from the index), in order."""
    monkeypatch.setenv("CABLELAKE_CACHE", str(tmp_path / "cache"))
    calls: list[Path] = []
    real = _discover.sha256_file

    def counting(path: str | os.PathLike[str]) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(_discover, "sha256_file", counting)
    return calls


def _later(monkeypatch: pytest.MonkeyPatch, ns: int) -> None:
    """Hash as if the clock were ``ns`` later (the file's times then look old, not racy)."""
    real = _discover.time.time_ns
    monkeypatch.setattr(_discover.time, "time_ns", lambda: real() + ns)


def test_unchanged_dump_is_not_reread(tmp_path: Path, hashed: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "dump.csv"
    dump.write_bytes(b"x" * 100_000)
    _later(monkeypatch, HOUR_NS)
    first = discover([str(dump)])[0].sha256
    again = discover([str(dump)])[0].sha256
    assert first == again == hashlib.sha256(b"x" * 100_000).hexdigest()
    assert len(hashed) == 1
    discover([str(dump)], rehash=True)  # --rehash reads it again whatever the index says
    assert len(hashed) == 2
    monkeypatch.setenv("CABLELAKE_HASH_CACHE", "0")
    discover([str(dump)])
    assert len(hashed) == 3


def test_changed_content_of_the_same_size_is_rehashed(
    tmp_path: Path, hashed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = tmp_path / "dump.csv"
    dump.write_bytes(b"a" * 4096)
    _later(monkeypatch, HOUR_NS)
    first = discover([str(dump)])[0].sha256
    before = os.stat(dump)
    dump.write_bytes(b"b" * 4096)
    os.utime(dump, ns=(before.st_atime_ns, before.st_mtime_ns))  # same size, mtime put back: ctime still moves
    changed = discover([str(dump)])[0].sha256
    assert changed == hashlib.sha256(b"b" * 4096).hexdigest() != first
    assert len(hashed) == 2


def test_touched_but_same_content_keeps_its_hash(
    tmp_path: Path, hashed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = tmp_path / "dump.csv"
    dump.write_bytes(b"same bytes")
    _later(monkeypatch, HOUR_NS)
    first = discover([str(dump)])[0].sha256
    st = os.stat(dump)
    os.utime(dump, ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))  # touch
    assert discover([str(dump)])[0].sha256 == first
    assert len(hashed) == 2  # the stat moved, so it was read again: same content, same hash


def test_a_racy_entry_is_not_trusted(tmp_path: Path, hashed: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashed within the timestamp's granularity of its last write, a file can be written again without
    any change of its stat. The index must not answer for it: the next discovery reads it again."""
    dump = tmp_path / "dump.csv"
    dump.write_bytes(b"first version")
    stale = os.stat(dump)
    first = discover([str(dump)])[0].sha256  # hashed right after the write: a racy entry
    dump.write_bytes(b"other version")  # same size, written within the same tick of a coarse clock...
    real_stat = os.stat
    monkeypatch.setattr(_discover.os, "stat", lambda p, *a, **k: stale if Path(p) == dump else real_stat(p, *a, **k))
    second = discover([str(dump)])[0].sha256  # ...so its stat is the one the index holds
    assert second == hashlib.sha256(b"other version").hexdigest() != first
    assert len(hashed) == 2


def test_an_old_entry_with_the_same_stat_is_trusted(
    tmp_path: Path, hashed: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the racy rule: once the hash is well after the file's times, the stat decides."""
    dump = tmp_path / "dump.csv"
    dump.write_bytes(b"first version")
    stale = os.stat(dump)
    _later(monkeypatch, _discover.RACY_NS + 10**9)
    first = discover([str(dump)])[0].sha256
    real_stat = os.stat
    monkeypatch.setattr(_discover.os, "stat", lambda p, *a, **k: stale if Path(p) == dump else real_stat(p, *a, **k))
    assert discover([str(dump)])[0].sha256 == first
    assert len(hashed) == 1


def test_entries_of_removed_files_are_dropped(tmp_path: Path, hashed: list[Path]) -> None:
    keep, gone = tmp_path / "keep.csv", tmp_path / "gone.csv"
    keep.write_bytes(b"k")
    gone.write_bytes(b"g")
    discover([str(keep), str(gone)])
    gone.unlink()
    keep.write_bytes(b"K")  # a change, so that the index is saved again
    discover([str(keep)])
    index = _discover._HashIndex()
    assert set(index.entries) == {str(keep.resolve())}
