"""Synthetic plain-text cables (our own invented text) for lake and pipeline tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from _cables import Maker, cable_id, cable_text


@pytest.fixture
def make_dump(tmp_path: Path) -> Maker:
    """``make_dump(folder, [(post, serial, year), ...], **kw)`` writes one text file per cable; returns ids."""

    def make(folder: Path | str, cables: list[tuple[str, int, int]], **kw: object) -> list[str]:
        d = tmp_path / folder
        d.mkdir(parents=True, exist_ok=True)
        ids = []
        for post, serial, year in cables:
            (d / f"{year % 100:02d}{post}{serial:04d}.txt").write_text(
                cable_text(post, serial, year, **kw), encoding="utf-8"  # type: ignore[arg-type]
            )
            ids.append(cable_id(post, serial, year))
        return ids

    return make


@pytest.fixture(autouse=True)
def _fast_quality(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Data Docs in these tests (they only slow the runs down); subprocesses inherit the variable."""
    cfg = tmp_path_factory.getbasetemp() / "quality-no-docs.json"
    cfg.write_text('{"data_docs": false}', encoding="utf-8")
    monkeypatch.setenv("CABLELAKE_QUALITY_CONFIG", str(cfg))
