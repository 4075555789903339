"""Fixtures of the parse tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cablegate_page import Rec, read_cablegate_page


@pytest.fixture(scope="session")
def read_page() -> Callable[[Path], Rec]:
    return read_cablegate_page
