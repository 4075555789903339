"""Hypothesis properties: parse never raises; normalizations are stable."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace as Rec

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.parse import parse, parse_text
from etl.parse._classif import despace, level_of
from etl.parse._tags import split_tags

LINES = st.sampled_from([
    "VZCZCXRO2940", "OO RUEHDBU", "DE RUEHMO #5349 3131341", "ZNY CCCCC ZZH", "O 091341Z NOV 07", "O 991341Z NOV 07",
    "FM AMEMBASSY MOSCOW", "TO RUEHC/SECSTATE WASHDC IMMEDIATE 5172", "C O N F I D E N T I A L MOSCOW 005349",
    "UNCLAS", "SIPDIS", "E.O. 12958: DECL: 13/45/2019", "E.O. 12958: DECL:", "TAGS:", "TAGS: (", "SUBJECT:",
    "REF: A.", "1. (C)", "", "   ", "XXXXXXXXXXXX", "\u00b6", "- 11. (C) x", "<u>", "**1**", "E.O.", "DECL: 0/0/0",
])
CABLEISH = st.lists(st.one_of(LINES, st.text(max_size=40)), max_size=30).map("\n".join)
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "cables.json").read_text())
LINEAGE = {"source_uri", "source_sha256", "source_member", "source_location", "source_format", "source_encoding",
           "run_id", "ingested_at", "parser_version", "year"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_parse_text_never_raises_on_any_text(text: str) -> None:
    row = parse_text(text)
    assert isinstance(row["_problems"], list)
    assert not any(p.startswith("parser error") for p in row["_problems"])


@settings(max_examples=300, deadline=None)
@given(CABLEISH, CABLEISH, st.dictionaries(st.sampled_from(["reference_id", "created", "created_precision",
                                                             "classification", "origin"]), st.text(max_size=20)))
def test_parse_never_raises_on_cable_like_text(header: str, body: str, meta: dict[str, str]) -> None:
    row = parse(Rec(header=header, body=body, meta=meta))  # type: ignore[arg-type]
    assert not any(p.startswith("parser error") for p in row["_problems"]), row["_problems"]
    assert set(row) - {"_problems"} <= {c["name"] for c in SCHEMA["columns"]} - LINEAGE


def test_parse_tolerates_wrong_types() -> None:
    row = parse(Rec(header=None, body=123, meta=None))  # type: ignore[arg-type]
    assert row["reference_id"] is None


@given(st.text(max_size=80))
def test_split_tags_idempotent(raw: str) -> None:
    once = split_tags(raw)
    assert split_tags(" ".join(t for t in once if "," not in t and " " not in t)) == [
        t for t in once if "," not in t and " " not in t]
    assert len(once) == len(set(once))


@given(st.text(alphabet="CONFIDENTIALSECRTUNCLAS ", max_size=40))
def test_despace_stable(text: str) -> None:
    assert despace(despace(text)) == despace(text)
    assert level_of(text) == level_of(despace(text)) or level_of(text) is None
