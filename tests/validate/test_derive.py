"""The Arrow helper columns against plain-Python oracles (no GX: fast, property-based)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.validate import load_suite
from etl.validate._derive import HELPERS, MONTHS, decl_code, derive, eo_in_force

PARAMS = load_suite()["meta"]["parameters"]


def _helper(name: str, **columns: pa.Array) -> list[object]:
    table = pa.table(columns)
    return derive(table, [name], PARAMS)[name].to_pylist()


def _dtg_oracle(day: int, hh: int, mm: int, mon: int, yy: int) -> bool:
    year = 1900 + yy if yy > 65 else 2000 + yy
    try:
        datetime(year, mon, day, hh, mm)
    except ValueError:
        return False
    return True


dtg_parts = st.tuples(st.integers(0, 39), st.integers(0, 29), st.integers(0, 69), st.integers(1, 12),
                      st.integers(0, 99), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(dtg_parts, min_size=1, max_size=40))
def test_dtg_valid_matches_datetime(parts: list[tuple[int, int, int, int, int, bool]]) -> None:
    dtgs = [f"{d:02d}{h:02d}{m:02d}Z {MONTHS[mo - 1].title() if low else MONTHS[mo - 1]} {yy:02d}"
            for d, h, m, mo, yy, low in parts]
    got = _helper("_dq_dtg_valid", dtg=pa.array(dtgs))
    assert got == [_dtg_oracle(d, h, m, mo, yy) for d, h, m, mo, yy, _ in parts]


def test_dtg_helpers_ignore_absent_and_malformed() -> None:
    dtgs = pa.array([None, "bogus", "291200Z FEB 00", "291200Z FEB 00 ", "291200Z FEB 1900", "290000Z FEB 04"])
    assert _helper("_dq_dtg_valid", dtg=dtgs) == [None, None, True, None, None, True]
    assert _helper("_dq_dtg_yy", dtg=dtgs) == [None, None, "00", None, None, "04"]


def test_id_year() -> None:
    ids = pa.array(["07MOSCOW5349", "1974ATHENS02959_b", "7575LIBREVILLE1895", "ID", None])
    assert _helper("_dq_id_yy", reference_id=ids) == ["07", "74", "75", None, None]


def test_reference_id_first() -> None:
    ids = pa.array(["A", "B", "A", None, "B", "C", None])
    assert _helper("_dq_reference_id_first", reference_id=ids) == [True, True, False, None, False, True, None]


dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2015, 12, 31))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(dates, st.integers(-400, 40 * 366)), min_size=1, max_size=30))
def test_decl_windows_match_calendar_arithmetic(cases: list[tuple[date, int]]) -> None:
    sent = [datetime(d.year, d.month, d.day, 12, tzinfo=UTC) for d, _ in cases]
    decl = [d + timedelta(days=off) for d, off in cases]
    cols = {"sent_at": pa.array(sent, pa.timestamp("us", tz="UTC")), "decl_date": pa.array(decl, pa.date32()),
            "decl_raw": pa.array([x.strftime("%m/%d/%Y") for x in decl])}
    slack = timedelta(days=PARAMS["decl_slack_days"])
    eras = sorted((date.fromisoformat(v), k) for k, v in PARAMS["eo_effective"].items())

    def in_force(d: date) -> str | None:
        names = [eo for start, eo in eras if start <= d]
        return names[-1] if names else None

    def add_years(d: date, years: int) -> date:
        day = min(d.day, calendar.monthrange(d.year + years, d.month)[1])
        return d.replace(year=d.year + years, day=day)

    not_before = _helper("_dq_decl_not_before_sent", **cols)
    within = _helper("_dq_decl_within_limit", **cols)
    eo = eo_in_force(pa.table(cols), PARAMS).to_pylist()
    for i, (d, _) in enumerate(cases):
        assert not_before[i] == (decl[i] >= d - slack)
        assert eo[i] == in_force(d)
        limit = PARAMS["decl_max_years"].get(in_force(d))
        if limit is None:
            assert within[i] is None
        elif not (d.month == 2 and d.day >= 28):  # calendar keys and replace() differ only around Feb 29
            assert within[i] == (decl[i] <= add_years(d + slack, limit)), (d, decl[i], limit)


def test_decl_codes_and_exemptions() -> None:
    raw = pa.array(["OADR", "25X1-HUMAN", "50X1-HUM", "X1", "X9", "GDS 9/7/85 (XUX) CR-P", "XGDS-2", "N/A",
                    "TWENTY YEARS", None, "11/09/2017"])
    assert decl_code(pa.table({"decl_raw": raw}), PARAMS).to_pylist() == [
        "oadr", "25x", "25x", "x1-x8", None, "gds", "gds", None, None, None, None]


def test_decl_date_valid_only_judges_date_shaped_values() -> None:
    raw = pa.array(["02/30/2015", "11/09/2017", "011/2/2019", "2017/11/09", "DNG: CO 01/26/2021", "N/A", None,
                    "DECLASSIFIED BY NARA 09/02/2009"])
    decl = pa.array([None, date(2017, 11, 9), None, date(2017, 11, 9), date(2021, 1, 26), None, None, None],
                    pa.date32())
    assert _helper("_dq_decl_date_valid", decl_raw=raw, decl_date=decl) == [
        False, True, False, True, True, None, None, None]  # 011/2/2019: a typo'd date (09BRASILIA1383)


def test_unknown_members_of_list_columns() -> None:
    tags = pa.array([["PGOV", "PREL"], ["QQQQ", "RS", "ZZZZ"], [], None, ["PGOV", None]], pa.list_(pa.string()))
    assert _helper("_dq_tags_unknown", tags=tags) == [None, "QQQQ ZZZZ", None, None, None]
    caveats = pa.array([["SIPDIS", "REL TO UK, AS"], ["NOPE"]], pa.list_(pa.string()))
    assert _helper("_dq_caveats_unknown", caveats=caveats) == [None, "NOPE"]
    para = pa.struct([("number", pa.int32()), ("portion_mark", pa.string()), ("text", pa.string())])
    paragraphs = pa.array([[{"number": 1, "portion_mark": "S/NF", "text": ""}],
                           [{"number": 1, "portion_mark": "SNF", "text": ""}, {"number": 2, "portion_mark": None,
                                                                              "text": ""}], None],
                          pa.list_(para))
    assert _helper("_dq_portion_marks_unknown", paragraphs=paragraphs) == [None, "SNF", None]


def test_every_helper_is_used_by_a_rule() -> None:
    from etl.validate import rules

    used = {c for r in rules(load_suite()) for c in r.columns}
    assert set(HELPERS) <= used
