from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _search_lakes import search_lake  # noqa: E402


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The search test lake, built once per module through the pipeline (which also builds the index)."""
    return search_lake(tmp_path_factory.mktemp("search"))
