"""Helpers for the sources-stage tests: build dumps in tmp_path, read them back."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from etl.sources import RawRecord, discover, iter_records
from etl.sources._limits import Limits


def read_all(paths: Iterable[str | Path], limits: Limits | None = None) -> list[RawRecord]:
    """Every record of every dump found under ``paths``."""
    records: list[RawRecord] = []
    for dump in discover([str(p) for p in paths]):
        records.extend(iter_records(dump, limits))
    return records


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``write(name, data)`` -> path of a new file in tmp_path (bytes or str, str written as UTF-8)."""

    def _write(name: str, data: bytes | str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path

    return _write
