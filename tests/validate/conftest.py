"""Builders of small, realistic cables tables for the validate tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest

from etl.parse._ids import canonical_id
from etl.schema import to_table

_POSTS = ["MOSCOW", "STATE", "BERLIN", "MADRID", "BAGHDAD", "USUNNEWYORK", "TELAVIV", "KABUL"]


def good_row(i: int = 0, **overrides: Any) -> dict[str, Any]:
    """A realistic, valid cable row (07MOSCOW5349-like), varied by ``i``; ``overrides`` plant bad values."""
    post = _POSTS[i % len(_POSTS)]
    day = 1 + i % 28
    year = 2000 + (i % 10)
    yy = f"{year % 100:02d}"
    serial = 1000 + i
    row: dict[str, Any] = {
        "reference_id": f"{yy}{post}{serial}",
        "reference_id_source": "metadata",
        "dtg": f"{day:02d}1341Z NOV {yy}",
        "sent_at": datetime(year, 11, day, 13, 41, tzinfo=UTC),
        "sent_at_source": "dtg",
        "precedence_raw": "O",
        "precedence": "O",
        "origin": f"AMEMBASSY {post}",
        "classification_raw": f"C O N F I D E N T I A L {post} {serial:06d}",
        "classification": "CONFIDENTIAL",
        "eo_raw": f"E.O. 12958: DECL: 11/{day:02d}/{year + 10}",
        "eo": "12958",
        "decl_raw": f"11/{day:02d}/{year + 10}",
        "decl_date": date(year + 10, 11, day),
        "decl_kind": "date",
        "caveats": ["SIPDIS"],
        "paragraphs": [{"number": 1, "portion_mark": "C", "text": "SUMMARY."},
                       {"number": 2, "portion_mark": "S/NF", "text": "MORE."}],
        "flag_classification_mismatch": False,
        "flag_serial_mismatch": False,
        "tags_raw": "PGOV PREL RS",
        "tags": ["PGOV", "PREL", "RS"],
        "subject_raw": "SUBJECT: A SUBJECT",
        "subject": "A SUBJECT",
        "references_raw": None,
        "header": f"VZCZCXRO2940\nO {day:02d}1341Z NOV {yy}\nFM AMEMBASSY {post}",
        "body": f"C O N F I D E N T I A L {post} {serial:06d}\n\nSIPDIS\n\nE.O. 12958: DECL: ...",
        "dq_warnings": [],
        "source_uri": "file:///dumps/sample.zip",
        "source_sha256": "0" * 64,
        "source_member": "cables.csv",
        "source_location": f"row {i + 1}",
        "source_format": "csv",
        "source_encoding": "utf-8",
        "source_meta": None,
        "run_id": "test-run",
        "ingested_at": datetime(2026, 1, 1, tzinfo=UTC),
        "parser_version": "0.1.0",
        "year": year,
    }
    row.update(overrides)
    if "canonical_id" not in overrides:  # as the parser does: the published id with known malformations mapped
        row["canonical_id"] = canonical_id(row["reference_id"])
    return row


def cables_table(rows: list[dict[str, Any]]) -> pa.Table:
    return to_table(rows, "cables")


@pytest.fixture
def make_table() -> Callable[..., pa.Table]:
    """``make_table(n, {row_index: overrides})`` -> n realistic rows with the given fields planted."""

    def build(n: int = 10, plants: dict[int, dict[str, Any]] | None = None) -> pa.Table:
        plants = plants or {}
        return cables_table([good_row(i, **plants.get(i, {})) for i in range(n)])

    return build
