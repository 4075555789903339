"""Each rule of expectations/cables.json catches its planted bad value; good rows pass; counts reconcile."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from etl.validate import Validation, validate

TableFactory = Callable[..., pa.Table]


def _run(table: pa.Table) -> Validation:
    v = validate(table, run_id="test-run")
    assert v.cables.num_rows + v.rejected.num_rows == table.num_rows
    assert len(v.reasons) == len(v.details) == v.rejected.num_rows
    return v


def _rejected(v: Validation) -> dict[str, list[str]]:
    return dict(zip(v.rejected["reference_id"].to_pylist(), v.reasons, strict=True))


def _warned(v: Validation) -> dict[str, list[str]]:
    return {rid: w for rid, w in zip(v.cables["reference_id"].to_pylist(), v.cables["dq_warnings"].to_pylist(),
                                     strict=True) if w}


def test_good_rows_all_pass(make_table: TableFactory) -> None:
    v = _run(make_table(40))
    assert v.rejected.num_rows == 0
    assert _warned(v) == {}
    assert v.cables.num_rows == 40
    assert all(st["failed"] == 0 for st in v.rule_stats.values())


ERROR_PLANTS: list[tuple[dict[str, Any], str]] = [
    ({"dtg": "091341Z FOO 03"}, "dtg_format"),
    ({"dtg": "9 1341Z NOV 03"}, "dtg_format"),
    ({"reference_id": "MOSCOW5349"}, "reference_id_format"),
    ({"reference_id": "03MOSCOW"}, "reference_id_format"),
    ({"reference_id": "03 MOSCOW 5349 AND MORE"}, "reference_id_format"),
    ({"classification": "SECRET//ORCON//BOGUS"}, "classification_known"),
    ({"classification": "RESTRICTED"}, "classification_known"),
]


@pytest.fixture(scope="module")
def error_plants() -> tuple[pa.Table, Validation]:
    """10 clean rows, then one 2003 row per entry of ERROR_PLANTS (distinct ids unless the plant sets one)."""
    from tests.validate.conftest import cables_table, good_row

    rows = [good_row(i) for i in range(10)]
    rows += [good_row(3, **{"reference_id": f"03TOKYO{700 + k}", **o}) for k, (o, _) in enumerate(ERROR_PLANTS)]
    table = cables_table(rows)
    return table, _run(table)


@pytest.mark.parametrize("k", range(len(ERROR_PLANTS)), ids=[f"{p[1]}-{k}" for k, p in enumerate(ERROR_PLANTS)])
def test_error_rule_rejects_planted_value(error_plants: tuple[pa.Table, Validation], k: int) -> None:
    table, v = error_plants
    rule = ERROR_PLANTS[k][1]
    rid = table["reference_id"][10 + k].as_py()
    assert _rejected(v)[rid] == [rule]
    i = v.rejected["reference_id"].to_pylist().index(rid)
    [(col, value)] = ERROR_PLANTS[k][0].items()
    if col == "reference_id":  # the format rule reads the canonical form of the id (known malformations mapped)
        col, value = "canonical_id", table["canonical_id"][10 + k].as_py()
    assert v.details[i] == [f"{rule}: {col}={value!r}"]
    assert v.rule_stats[rule]["failed"] == sum(1 for p in ERROR_PLANTS if p[1] == rule)
    assert len(_rejected(v)) == len(ERROR_PLANTS)


def test_feb_30_decl_is_a_warning(make_table: TableFactory) -> None:
    table = make_table(10, {2: {"decl_raw": "02/30/2015", "decl_date": None}})
    v = _run(table)
    assert v.rejected.num_rows == 0
    assert _warned(v) == {table["reference_id"][2].as_py(): ["decl_date_valid"]}


def test_non_date_decl_values_are_not_checked_for_a_date(make_table: TableFactory) -> None:
    plants: dict[int, dict[str, Any]] = {
        0: {"decl_raw": "N/A", "decl_date": None},
        1: {"decl_raw": "10 YEARS AFTER KOREAN UNIFICATION", "decl_date": None},
        2: {"decl_raw": "TWENTY YEARS", "decl_date": None},
        3: {"decl_raw": "DECLASSIFIED BY NARA 09/02/2009", "decl_date": None},
        4: {"decl_raw": None, "decl_date": None},
        5: {"decl_raw": "2017/11/09", "decl_date": date(2017, 11, 9)},
    }
    v = _run(make_table(8, plants))
    assert v.rejected.num_rows == 0 and _warned(v) == {}


@pytest.mark.parametrize("published", ["0101LIBREVILLE1895", "01SECTION01OF02MANAMA492", "01MOSCOW05349"])
def test_known_malformed_ids_are_kept_and_flagged(make_table: TableFactory, published: str) -> None:
    """The release's malformed ids stay as published (their canonical_id is well formed): a warning."""
    v = _run(make_table(3, {1: {"reference_id": published}}))
    assert v.rejected.num_rows == 0
    assert _warned(v) == {published: ["reference_id_published_format"]}


def test_duplicate_id_keeps_first_rejects_later(make_table: TableFactory) -> None:
    table = make_table(12)
    dup = table["reference_id"][1].as_py()  # rows 1 and 11 share the year: only the id collides
    table = make_table(12, {11: {"reference_id": dup}})
    v = _run(table)
    assert v.rejected["source_location"].to_pylist() == ["row 12"]
    assert v.reasons == [["reference_id_unique"]]
    assert f"reference_id={dup!r}" in v.details[0][0]
    assert dup in v.cables["reference_id"].to_pylist()


def test_every_failed_error_rule_is_listed(make_table: TableFactory) -> None:
    table = make_table(5, {0: {"dtg": "bogus", "classification": "HUSH", "reference_id": "X1"}})
    v = _run(table)
    assert sorted(v.reasons[0]) == ["classification_known", "dtg_format", "reference_id_format"]
    assert len(v.details[0]) == 3


def test_missing_values_are_not_failures(make_table: TableFactory) -> None:
    v = _run(make_table(5, {1: {"dtg": None, "classification": None}}))
    assert v.rejected.num_rows == 0


def test_empty_table() -> None:
    from etl.schema import empty_table

    v = validate(empty_table("cables"), run_id="empty")
    assert v.cables.num_rows == 0 and v.rejected.num_rows == 0 and v.reasons == []
