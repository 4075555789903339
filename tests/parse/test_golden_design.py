"""The design example (07MOSCOW5349, Markdown rendering) must parse to the documented values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace as Rec

import pytest

from etl.parse import PARSER_VERSION, parse, parse_text

EXPECTED = {
    "reference_id": "07MOSCOW5349",
    "reference_id_source": "derived",
    "dtg": "091341Z NOV 07",
    "sent_at": datetime(2007, 11, 9, 13, 41, tzinfo=UTC),
    "sent_at_source": "dtg",
    "precedence": "O",
    "precedence_raw": "O",
    "origin": "AMEMBASSY MOSCOW",
    "classification": "CONFIDENTIAL",
    "classification_raw": "CONFIDENTIAL MOSCOW 005349",
    "eo": "12958",
    "decl_raw": "11/09/2017",
    "decl_date": date(2017, 11, 9),
    "tags": ["PGOV", "KPKO", "UN", "SU", "RS"],
    "subject": "RUSSIAN DFM SALTANOV ON DARFUR AVIATION AND TRANSPORTATION SUPPORT",
}


@pytest.fixture(scope="module")
def design_text(corpus: Path) -> str:
    return (corpus / "markdown" / "000_4d500f1337488d4e.txt").read_text(encoding="utf-8")


@pytest.mark.corpus
@pytest.mark.parametrize("field", sorted(EXPECTED))
def test_design_example_whole_text(design_text: str, field: str) -> None:
    assert parse_text(design_text)[field] == EXPECTED[field]


@pytest.mark.corpus
def test_design_example_as_record(design_text: str) -> None:
    row = parse(Rec(header="", body=design_text))  # type: ignore[arg-type]
    assert {k: row[k] for k in EXPECTED} == EXPECTED
    assert row["_problems"] == []
    assert row["header"].startswith("VZCZCXRO2940")
    assert row["references_raw"].startswith("REF: A. STATE 147667")


def test_parser_version() -> None:
    assert isinstance(PARSER_VERSION, str) and PARSER_VERSION
