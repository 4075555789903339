from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dashboard"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_lakes import search_lake  # noqa: E402
from _server import Server  # noqa: E402


@pytest.fixture(scope="module")
def lake_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    search_lake(root)
    return root


@pytest.fixture(scope="module")
def server(lake_root: Path) -> Iterator[Server]:
    srv = Server(lake_root / "lake")
    yield srv
    err = srv.stop()
    assert "Traceback" not in err, err[-3000:]
