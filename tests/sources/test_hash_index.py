"""The sha256 index: unchanged large dumps are not re-read on a rerun; any change re-hashes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from etl.sources import _discover, discover


def test_unchanged_large_dump_is_not_rehashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CABLELAKE_CACHE", str(tmp_path / "cache"))
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (9 * 1024 * 1024))
    calls: list[Path] = []
    real = _discover.sha256_file

    def counting(path: str | os.PathLike[str]) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(_discover, "sha256_file", counting)
    first = discover([str(big)])[0].sha256
    again = discover([str(big)])[0].sha256
    assert first == again and len(calls) == 1
    big.write_bytes(b"y" * (9 * 1024 * 1024))  # same size, new content and mtime
    changed = discover([str(big)])[0].sha256
    assert changed != first and len(calls) == 2
    monkeypatch.setenv("CABLELAKE_HASH_CACHE", "0")
    discover([str(big)])
    assert len(calls) == 3
