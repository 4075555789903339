"""Fixtures of the dashboard tests: a small synthetic lake and the corpus lake (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _analyst_lakes import corpus_lake, synthetic_lake


@pytest.fixture(scope="module")
def tiny_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_lake(tmp_path_factory.mktemp("tiny") / "lake")


@pytest.fixture(scope="session")
def lake_from_corpus(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return corpus_lake(corpus, tmp_path_factory.getbasetemp())
