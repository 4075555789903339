"""The parser's FIELDS and ``schemas/cables.json`` name the same columns (``schema.to_table`` drops unknown
keys and fills missing ones with nulls, so a drift between the two would otherwise fail nothing)."""

from __future__ import annotations

from pathlib import Path

from etl.parse import _core, parse
from etl.schema import LINEAGE_COLUMNS, schema
from etl.sources import discover, iter_records

REPO = Path(__file__).resolve().parents[1]

# Columns of cables that later steps fill, not the parser: each with the step that adds it.
ADDED_AFTER_PARSE = {
    **dict.fromkeys(LINEAGE_COLUMNS, "pipeline parse step: lineage of the record and of the run"),
    "source_meta": "pipeline parse step: what the dump states beside the text",
    "parse_problems": "pipeline parse step: the parser's _problems",
    "year": "pipeline parse step: the year= partition",
    "dq_warnings": "validate: warnings of the rules that keep the row",
    "also_seen_in": "lake: the other copies of the cable",
}


def test_parser_fields_are_the_schema_columns_the_parser_fills() -> None:
    columns = schema("cables").names
    assert len(set(_core.FIELDS)) == len(_core.FIELDS), "a field listed twice"
    assert sorted(set(columns) - set(ADDED_AFTER_PARSE)) == sorted(_core.FIELDS)
    assert set(ADDED_AFTER_PARSE) <= set(columns), "a column named here is no longer in the schema"


def test_parse_returns_exactly_the_fields() -> None:
    (dump,) = discover([str(REPO / "sample" / "dumps" / "07MOSCOW5349.txt")])
    (record,) = iter_records(dump)
    assert set(parse(record)) == {*_core.FIELDS, "_problems"}
