"""One century rule for two-digit years: the parser, the validation and the lake's partitions agree."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl._century import PIVOT, century
from etl.parse import _decl, _dtg
from etl.pipeline._parse import _year_of
from etl.validate._derive import full_year


@pytest.mark.parametrize("yy", range(100))
def test_every_two_digit_year_gets_one_century_everywhere(yy: int) -> None:
    year = century(yy)
    assert year % 100 == yy and (1966 <= year <= 2065)  # cables run 1966-2010; the rule covers 1966-2065
    assert (year < 2000) == (yy > PIVOT)
    assert _dtg.century(yy) == year  # the DTG and reference-id years (parse)
    assert _decl.resolve_year(yy, None) == year  # a DECL year without a cable year to lean on (parse)
    assert full_year(pa.array([yy], pa.int32())).to_pylist() == [year]  # the DTG date check (validate)
    assert _year_of({"reference_id": f"{yy:02d}MOSCOW1"}) == year  # the year= partition (pipeline)
    assert _year_of({"reference_id": f"{yy:02d}MOSCOW1", "sent_at": datetime(1999, 1, 1)}) == 1999


@given(st.integers(min_value=0, max_value=99), st.integers(min_value=0, max_value=99))
def test_any_pivot_gives_a_window_of_one_hundred_years(yy: int, pivot: int) -> None:
    year = century(yy, pivot)
    assert year % 100 == yy and 1901 + pivot <= year <= 2000 + pivot


@given(st.integers(min_value=100, max_value=9999))
def test_four_digit_years_are_kept(year: int) -> None:
    assert century(year) == year
