"""Shared fixtures: the real-cable corpus lives outside the repo (../shared/corpus)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests derandomized (same examples every run: a red CI is a real regression);
# locally they explore new examples every run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

REPO = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path | None:
    env = os.environ.get("CABLELAKE_CORPUS")
    candidate = Path(env) if env else REPO.parent / "shared" / "corpus"
    return candidate if candidate.is_dir() else None


@pytest.fixture(scope="session")
def corpus() -> Path:
    """Path of the real corpus; skip when absent, fail when CABLELAKE_REQUIRE_CORPUS is set."""
    found = corpus_dir()
    if found is None:
        if os.environ.get("CABLELAKE_REQUIRE_CORPUS"):
            pytest.fail("CABLELAKE_REQUIRE_CORPUS is set but ../shared/corpus (or $CABLELAKE_CORPUS) is missing")
        pytest.skip("real corpus not available (set CABLELAKE_CORPUS)")
    return found


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


# Lakes for the analysts' side (catalog, cli, dashboard tests).
@pytest.fixture(scope="module")
def tiny_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic lake (module scope)."""
    from _analyst_lakes import synthetic_lake

    return synthetic_lake(tmp_path_factory.mktemp("tiny") / "lake")


@pytest.fixture(scope="session")
def lake_from_corpus(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The lake built from the real corpus, once per session."""
    from _analyst_lakes import corpus_lake

    return corpus_lake(corpus, tmp_path_factory.getbasetemp())
