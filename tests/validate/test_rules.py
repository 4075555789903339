"""Each rule of ``expectations/cables.json`` finds its planted fault under its own name (rejected for error
rules, kept with a ``dq_warnings`` entry for warning rules); good rows pass; counts reconcile.

The plants are put into otherwise realistic rows: row 3 of ``make_table`` is a 2003 cable, DTG ``041341Z NOV 03``,
sent 2003-11-04, DECL 11/04/2013 under E.O. 12958 (as amended by 13292 on that date). Each plant table says
why the value is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest

from etl.validate import Validation, validate

TableFactory = Callable[..., pa.Table]
ROW = 3


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


# (why the value is wrong, the planted value, the error rule that must reject it): the exact detail is checked
ERROR_PLANTS: list[tuple[str, dict[str, Any], str]] = [
    ("month is not a month name", {"dtg": "091341Z FOO 03"}, "dtg_format"),
    ("space inside the day-time digits", {"dtg": "9 1341Z NOV 03"}, "dtg_format"),
    ("no year prefix", {"reference_id": "MOSCOW5349"}, "reference_id_format"),
    ("no serial", {"reference_id": "03MOSCOW"}, "reference_id_format"),
    ("words after the id", {"reference_id": "03 MOSCOW 5349 AND MORE"}, "reference_id_format"),
    ("unknown caveat in the marking", {"classification": "SECRET//ORCON//BOGUS"}, "classification_known"),
    ("not a US classification level", {"classification": "RESTRICTED"}, "classification_known"),
]


@pytest.fixture(scope="module")
def error_plants() -> tuple[pa.Table, Validation]:
    """10 clean rows, then one 2003 row per entry of ERROR_PLANTS (distinct ids unless the plant sets one)."""
    from tests.validate.conftest import cables_table, good_row

    rows = [good_row(i) for i in range(10)]
    rows += [good_row(3, **{"reference_id": f"03TOKYO{700 + k}", **o}) for k, (_, o, _) in enumerate(ERROR_PLANTS)]
    table = cables_table(rows)
    return table, _run(table)


@pytest.mark.parametrize("k", range(len(ERROR_PLANTS)), ids=[p[0] for p in ERROR_PLANTS])
def test_error_rule_rejects_planted_value(error_plants: tuple[pa.Table, Validation], k: int) -> None:
    table, v = error_plants
    rule = ERROR_PLANTS[k][2]
    rid = table["reference_id"][10 + k].as_py()
    assert _rejected(v)[rid] == [rule]
    i = v.rejected["reference_id"].to_pylist().index(rid)
    [(col, value)] = ERROR_PLANTS[k][1].items()
    if col == "reference_id":  # the format rule reads the canonical form of the id (known malformations mapped)
        col, value = "canonical_id", table["canonical_id"][10 + k].as_py()
    assert v.details[i] == [f"{rule}: {col}={value!r}"]
    assert v.rule_stats[rule]["failed"] == sum(1 for p in ERROR_PLANTS if p[2] == rule)
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


def test_every_failed_rule_of_a_row_is_listed(make_table: TableFactory) -> None:
    v = _run(make_table(5, {0: {"dtg": "bogus", "classification": "HUSH", "reference_id": "X1"}}))
    assert sorted(v.reasons[0]) == ["classification_known", "dtg_format", "reference_id_format"]
    assert len(v.details[0]) == 3
    table = make_table(6, {ROW: {"dtg": "301341Z FEB 03", "classification": "HUSH", "eo": "19523",
                                 "tags": ["QQQQ"]}})
    v = _run(table)  # errors and warnings together: the row is rejected and keeps its warnings
    assert sorted(v.reasons[0]) == ["classification_known", "dtg_valid"]
    assert sorted(v.rejected["dq_warnings"][0].as_py()) == ["eo_known", "tags_known"]
    assert any("dtg='301341Z FEB 03'" in d for d in v.details[0])


def test_missing_values_are_not_failures(make_table: TableFactory) -> None:
    v = _run(make_table(5, {1: {"dtg": None, "classification": None}}))
    assert v.rejected.num_rows == 0


def test_empty_table() -> None:
    from etl.schema import empty_table

    v = validate(empty_table("cables"), run_id="empty")
    assert v.cables.num_rows == 0 and v.rejected.num_rows == 0 and v.reasons == []


def _found(v: Validation, rid: str) -> tuple[str, list[str]]:
    """("rejected", reasons) or ("kept", dq_warnings) of the row with id ``rid``."""
    rejected = dict(zip(v.rejected["reference_id"].to_pylist(), v.reasons, strict=True))
    if rid in rejected:
        return "rejected", rejected[rid]
    kept = dict(zip(v.cables["reference_id"].to_pylist(), v.cables["dq_warnings"].to_pylist(), strict=True))
    return "kept", kept[rid]


# (why the value is wrong, the planted value, where the row ends, the rule that must find it)
PLANTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("wrong DTG (Feb 30)", {"dtg": "301341Z FEB 03"}, "rejected", "dtg_valid"),
    ("wrong DTG (hour 24)", {"dtg": "042441Z NOV 03"}, "rejected", "dtg_valid"),
    ("wrong DTG (minute 60)", {"dtg": "041360Z NOV 03"}, "rejected", "dtg_valid"),
    ("malformed DTG", {"dtg": "041341Z NOVEMBER 03"}, "rejected", "dtg_format"),
    ("id/DTG year mismatch", {"reference_id": "99MOSCOW1003"}, "rejected", "reference_id_year_matches_dtg"),
    ("sent_at outside the archive", {"sent_at": datetime(2013, 1, 5, tzinfo=UTC)}, "rejected", "sent_at_in_archive"),
    ("unknown classification", {"classification": "SECRET//BOGUS"}, "rejected", "classification_known"),
    ("unknown precedence", {"precedence": "Q"}, "rejected", "precedence_known"),
    ("Feb 30 DECL", {"decl_raw": "02/30/2015", "decl_date": None}, "kept", "decl_date_valid"),
    ("DECL before the cable", {"decl_raw": "11/01/2003", "decl_date": date(2003, 11, 1)}, "kept",
     "decl_not_before_sent"),
    ("DECL 30 years on", {"decl_raw": "11/04/2033", "decl_date": date(2033, 11, 5)}, "kept",
     "decl_within_eo_limit"),
    ("OADR after 1995", {"decl_raw": "OADR", "decl_date": None}, "kept", "decl_code_in_force"),
    ("X1 after the 2003 amendment", {"decl_raw": "X1", "decl_date": None}, "kept", "decl_code_in_force"),
    ("E.O. typo", {"eo": "12598"}, "kept", "eo_known"),
    ("unknown TAG", {"tags": ["PGOV", "QQQQ", "RS"]}, "kept", "tags_known"),
    ("no send time", {"sent_at": None, "sent_at_source": None, "dtg": None}, "kept", "sent_at_present"),
]


# fields the parser derives (DECL kind, caveats, portion marks, consistency flags)
PLANTS_PARSED_FIELDS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown decl_kind", {"decl_kind": "weird"}, "rejected", "decl_kind_known"),
    ("unknown caveat", {"caveats": ["SIPDIS", "BOGUSDIS"]}, "kept", "caveats_known"),
    ("junk portion mark", {"paragraphs": [{"number": 1, "portion_mark": "SNF", "text": "x"},
                                          {"number": 2, "portion_mark": None, "text": "y"}]},
     "kept", "portion_marks_known"),
    ("classification flag", {"flag_classification_mismatch": True}, "kept", "classification_consistent"),
    ("serial flag", {"flag_serial_mismatch": True}, "kept", "serial_consistent"),
]


ALL_PLANTS = PLANTS + PLANTS_PARSED_FIELDS


@pytest.fixture(scope="module")
def planted() -> tuple[pa.Table, Validation]:
    """One run over 10 clean rows + one row per planted fault (all 2003 cables, distinct ids)."""
    from tests.validate.conftest import cables_table, good_row

    clean = [good_row(i) for i in range(10)]
    bad = [good_row(ROW, **{"reference_id": f"03BERLIN{5000 + k}", "source_location": f"plant {k}", **o})
           for k, (_, o, _, _) in enumerate(ALL_PLANTS)]
    table = cables_table(clean + bad)
    return table, _run(table)


@pytest.mark.parametrize("k", range(len(ALL_PLANTS)), ids=[p[0] for p in ALL_PLANTS])
def test_planted_fault_is_found(planted: tuple[pa.Table, Validation], k: int) -> None:
    table, v = planted
    _, _, where, rule = ALL_PLANTS[k]
    rid = table["reference_id"][10 + k].as_py()
    assert _found(v, rid) == (where, [rule])
    assert v.rule_stats[rule]["failed"] == sum(1 for p in ALL_PLANTS if p[3] == rule)


def test_clean_rows_beside_the_plants_pass(planted: tuple[pa.Table, Validation]) -> None:
    table, v = planted
    for rid in table["reference_id"].to_pylist()[:10]:
        assert _found(v, rid) == ("kept", [])


def test_values_that_are_fine() -> None:
    from tests.validate.conftest import cables_table, good_row

    rows = [
        good_row(0, reference_id="04MADRID100", dtg="291200Z FEB 04", sent_at=datetime(2004, 2, 29, 12, tzinfo=UTC),
                 decl_raw="02/28/2014", decl_date=date(2014, 2, 28)),  # leap-day DTG
        good_row(1, reference_id="90MOSCOW200", dtg="011200Z Mar 90", sent_at=datetime(1990, 3, 1, 12, tzinfo=UTC),
                 eo="12356", decl_raw="OADR", decl_date=None),  # OADR under 12356, mixed-case month
        good_row(2, reference_id="1974ATHENS02959_b", dtg="011200Z MAR 74",
                 sent_at=datetime(1974, 3, 1, 12, tzinfo=UTC), eo="11652", decl_raw="GDS", decl_date=None),
        good_row(3, reference_id="09STATE15113", dtg="181200Z FEB 09", sent_at=datetime(2009, 2, 18, 12, tzinfo=UTC),
                 decl_raw="02/18/2034", decl_date=date(2034, 2, 18)),  # exactly 25 years
        good_row(6, reference_id="07BEIJING7035", dtg="081053Z NOV 07",
                 sent_at=datetime(2007, 11, 8, 10, 53, tzinfo=UTC), decl_raw="11/09/2032",
                 decl_date=date(2032, 11, 9)),  # 25 years in Beijing's local date
        good_row(7, reference_id="79TEHRAN11319", dtg="260732Z OCT 79", sent_at=datetime(1979, 10, 26, 7, 32, tzinfo=UTC),
                 eo="12065", decl_raw="GDS 10/25/85 (TOMSETH, VICTOR L.) OR-P", decl_date=date(1985, 10, 25)),
        good_row(4, reference_id="08KABUL300", dtg="011200Z MAR 08", sent_at=datetime(2008, 3, 1, 12, tzinfo=UTC),
                 decl_raw="25X1-HUMAN", decl_date=None),
        good_row(5, reference_id="07PARIS400", dtg="011200Z MAR 07", sent_at=datetime(2007, 3, 1, 12, tzinfo=UTC),
                 eo="12958", decl_raw="N/A", decl_date=None, classification="UNCLASSIFIED"),
    ]
    v = _run(cables_table(rows))
    assert v.rejected.num_rows == 0, list(zip(v.rejected["reference_id"].to_pylist(), v.details, strict=True))
    assert [w for w in v.cables["dq_warnings"].to_pylist() if w] == []


def test_decl_more_than_25_years_with_exemption_is_not_judged(make_table: TableFactory) -> None:
    v = _run(make_table(6, {ROW: {"decl_raw": "25X1, 11/04/2040", "decl_date": date(2040, 11, 4)}}))
    assert v.rule_stats["decl_within_eo_limit"]["failed"] == 0


def test_rel_to_caveat_and_empty_lists_are_fine(make_table: TableFactory) -> None:
    v = _run(make_table(4, {0: {"caveats": ["SIPDIS", "REL TO UK, AS"]}, 1: {"caveats": [], "paragraphs": []},
                            2: {"caveats": None, "paragraphs": None, "tags": None}}))
    assert v.rejected.num_rows == 0 and [w for w in v.cables["dq_warnings"].to_pylist() if w] == []


def test_rules_on_missing_columns_are_reported_skipped(make_table: TableFactory) -> None:
    v = _run(make_table(3).drop_columns(["precedence"]))
    assert v.rule_stats["precedence_known"]["status"].startswith("skipped")
    assert v.rule_stats["dtg_format"]["status"] == "evaluated"


def test_missing_reference_id_is_rejected(make_table: TableFactory) -> None:
    table = make_table(4)
    nullable = pa.schema([f.with_nullable(True) for f in table.schema], metadata=table.schema.metadata)
    ids = table["reference_id"].to_pylist()
    ids[2] = None
    table = table.cast(nullable).set_column(0, nullable.field("reference_id"), pa.array(ids, pa.string()))
    v = _run(table)
    assert v.reasons == [["reference_id_present"]]
