"""Helper columns for the suite, computed vectorised with ``pyarrow.compute``.

Some rules compare fields or need parsing (is the DTG a real time? is this the first row with that id? was
this DECL code used by the E.O. in force on the cable's date?). Rather than row-by-row Python inside GX,
such facts are computed here as ``_dq_*`` columns and the suite expects simple things of them (``in_set
[true]``, ``between``, ``pair equal``, ``pair in set``, ``null``). Convention: a helper is **null where its
rule does not apply** (no DTG, no DECL...), so GX skips the row; only non-null values are judged.

The data these helpers need (E.O. effective dates, DECL horizons, vocabularies of list columns) is read
from the suite's ``meta.parameters``, so it is reviewed with the rules, not hidden in code. Each helper is
registered in :data:`HELPERS` with the source columns it reads: those are what the quarantine ``details``
show for a failed rule, and a helper whose sources are missing makes its rules skip.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from etl._century import PIVOT
from etl._resources import resource_dir

Params = Mapping[str, Any]
Array: TypeAlias = pa.Array | pa.ChunkedArray

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DTG = r"^(?P<day>[0-9]{2})(?P<hh>[0-9]{2})(?P<mm>[0-9]{2})Z (?P<mon>(?i:" + "|".join(MONTHS) + r")) (?P<yy>[0-9]{2})$"
_ID_YY = r"^(?:[0-9]{2})?(?P<yy>[0-9]{2})[A-Z]"
# A DECL value that starts with a calendar-date shape (M/D/Y, Y/M/D, M-D-YY), optionally after DNG: CO.
_DECL_DATE_SHAPE = r"^\s*(?:DNG\b[^0-9]*)?[0-9]{1,4}\s*[/.-]\s*[0-9]{1,2}\s*[/.-]\s*[0-9]{1,4}"
# Declassification codes in a DECL value, in the order they are tested (same labels as decl_kind).
_DECL_CODES = (("oadr", r"\bOADR\b"), ("25x", r"\b(?:25|50|75)\s*X\s*[0-9]"), ("x1-x8", r"^\s*X\s*[1-8]\b"),
               ("gds", r"\bX?GDS\b"))
_DAYS_IN_MONTH = pa.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], pa.int32())


@dataclass(frozen=True)
class Helper:
    """A derived column: the columns it reads (any one of ``alternatives`` may stand for them) and how."""

    sources: tuple[str, ...]
    compute: Callable[[pa.Table, Params], Array | None]
    alternatives: tuple[str, ...] = ()

    def applies(self, columns: set[str]) -> bool:
        """Whether the table's ``columns`` hold what the helper reads."""
        alternatives_ok = not self.alternatives or any(a in columns for a in self.alternatives)
        return alternatives_ok and all(s in columns for s in self.sources)


def _memo(params: Params, key: str, table: pa.Table, fn: Callable[[pa.Table, Params], Array]) -> Array:
    """Compute an intermediate shared by several helpers once per :func:`derive` call."""
    memo = params.get("_memo")
    if memo is None:
        return fn(table, params)
    if key not in memo:
        memo[key] = fn(table, params)
    result: Array = memo[key]
    return result


def _typed_null(typ: pa.DataType) -> pa.Scalar:
    return pa.scalar(None, typ)


def _null_where_not(cond: Array, values: Array) -> Array:
    """``values`` where ``cond`` is true; null where it is false or null."""
    return pc.if_else(pc.fill_null(cond, False), values, _typed_null(values.type))


def _date_key(dates: Array) -> Array:
    """Calendar key YYYYMMDD as int64 (monotone in the date; +250000 is the same day 25 years later)."""
    return pc.add(pc.add(pc.multiply(pc.year(dates), 10000), pc.multiply(pc.month(dates), 100)), pc.day(dates))


def _sent_date(table: pa.Table) -> Array:
    return pc.cast(table["sent_at"], pa.date32())


# ----------------------------------------------------------------------------- ids

def reference_id_first(table: pa.Table, params: Params) -> Array:
    """True for the first row carrying a reference_id, False for later rows with the same id."""
    n = table.num_rows
    idx = pa.array(np.arange(n, dtype=np.int64))
    ids = table["reference_id"]
    firsts = pa.table({"id": ids, "i": idx}).group_by("id", use_threads=False).aggregate([("i", "min")])
    first = pc.is_in(idx, value_set=firsts["i_min"].combine_chunks())
    return _null_where_not(pc.is_valid(ids), first)


def full_year(yy: Array) -> Array:
    """Four-digit years of two-digit ones, by the one century rule (:func:`etl._century.century`)."""
    return pc.add(yy, pc.if_else(pc.greater(yy, PIVOT), 1900, 2000))


def id_yy(table: pa.Table, params: Params) -> Array:
    """Two-digit year of reference_id (07MOSCOW5349 -> 07, 1974ATHENS02959_b -> 74)."""
    return pc.struct_field(pc.extract_regex(table["reference_id"], _ID_YY), "yy")


# ----------------------------------------------------------------------------- DTG / sent_at

def _dtg_parts(table: pa.Table, params: Params) -> Array:
    return _memo(params, "dtg_parts", table, lambda t, _: pc.extract_regex(t["dtg"], _DTG))


def dtg_yy(table: pa.Table, params: Params) -> Array:
    """Two-digit year of a well-formed DTG (null when the DTG is absent or malformed)."""
    return pc.struct_field(_dtg_parts(table, params), "yy")


def dtg_valid(table: pa.Table, params: Params) -> Array:
    """Whether a well-formed DTG is a real UTC date and time (Feb 30, hour 24, minute 60 are not)."""
    parts = _dtg_parts(table, params)

    def num(name: str) -> Array:
        return pc.cast(pc.struct_field(parts, name), pa.int32())

    day, hh, mm, yy = num("day"), num("hh"), num("mm"), num("yy")
    month = pc.add(pc.index_in(pc.utf8_upper(pc.struct_field(parts, "mon")), value_set=pa.array(MONTHS)), 1)
    year = full_year(yy)
    leap = pc.and_(pc.equal(pc.bit_wise_and(year, 3), 0),
                   pc.or_(pc.not_equal(pc.remainder(year, 100), 0), pc.equal(pc.remainder(year, 400), 0)))
    dim = pc.take(_DAYS_IN_MONTH, pc.subtract(month, 1))
    dim = pc.add(dim, pc.cast(pc.and_(pc.equal(month, 2), leap), pa.int32()))
    ok = pc.and_(pc.and_(pc.greater_equal(day, 1), pc.less_equal(day, dim)),
                 pc.and_(pc.less(hh, 24), pc.less(mm, 60)))
    return ok


def sent_year(table: pa.Table, params: Params) -> Array:
    """UTC year of sent_at."""
    return pc.year(table["sent_at"])


# ----------------------------------------------------------------------------- E.O. / DECL

def decl_date_valid(table: pa.Table, params: Params) -> Array:
    """Where decl_raw starts with a date shape: is decl_date set (a real calendar date)? Null elsewhere."""
    looks = pc.match_substring_regex(table["decl_raw"], _DECL_DATE_SHAPE, ignore_case=True)
    return _null_where_not(looks, pc.is_valid(table["decl_date"]))


def _slack(params: Params) -> pa.Scalar:
    return pa.scalar(int(params.get("decl_slack_days", 0)) * 86_400_000, pa.duration("ms"))


def decl_not_before_sent(table: pa.Table, params: Params) -> Array:
    """decl_date is on or after the cable's UTC date, less meta.parameters.decl_slack_days (posts write DECL
    in their local date)."""
    earliest = pc.cast(pc.subtract(_sent_date(table), _slack(params)), pa.date32())
    return pc.greater_equal(table["decl_date"], earliest)


def decl_code(table: pa.Table, params: Params) -> Array:
    """Declassification code in decl_raw (oadr, 25x, x1-x8, gds), read independently of the parser; else null."""
    raw = table["decl_raw"]
    out = pa.nulls(len(raw), pa.string())
    for label, rx in reversed(_DECL_CODES):  # earlier entries win
        hit = pc.fill_null(pc.match_substring_regex(raw, rx, ignore_case=True), False)
        out = pc.if_else(hit, label, out)
    return out


def _eras(params: Params) -> tuple[np.ndarray, list[str]]:
    rows = sorted((dt.date.fromisoformat(d), eo) for eo, d in params["eo_effective"].items())
    days = np.array([(d - dt.date(1970, 1, 1)).days for d, _ in rows], dtype=np.int64)
    return days, [eo for _, eo in rows]


def eo_in_force(table: pa.Table, params: Params) -> Array:
    """The executive order in force on the cable's date (from meta.parameters.eo_effective); null before the first."""
    days, labels = _eras(params)
    sent = _sent_date(table)
    valid = pc.is_valid(sent).to_numpy(zero_copy_only=False)
    sent_days = pc.fill_null(pc.cast(sent, pa.int32()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    pos = np.searchsorted(days, sent_days, side="right") - 1
    names = np.array(labels + [None], dtype=object)
    picked = np.where(valid & (pos >= 0), pos, len(labels))
    return pa.array(names[picked], pa.string())


def decl_within_limit(table: pa.Table, params: Params) -> Array:
    """decl_date at most the E.O.'s horizon (meta.parameters.decl_max_years) after the cable's date (+ the
    slack days), on the calendar: 25 years after 2007-11-08 is 2032-11-08.

    Null (not judged) where the E.O. in force sets no horizon, where decl_raw carries an exemption code
    (25X/50X/75X, OADR...) or where either date is missing.
    """
    limits = params["decl_max_years"]
    labels = _eras(params)[1]
    limit_by_era = pa.array([limits.get(e) for e in labels] + [None], pa.int64())
    pos = pc.fill_null(pc.index_in(_memo(params, "eo_in_force", table, eo_in_force), value_set=pa.array(labels)), len(labels))
    limit = pc.take(limit_by_era, pos)
    latest_base = pc.cast(pc.add(_sent_date(table), _slack(params)), pa.date32())
    ok = pc.less_equal(_date_key(table["decl_date"]), pc.add(_date_key(latest_base), pc.multiply(limit, 10000)))
    return _null_where_not(pc.is_null(_memo(params, "decl_code", table, decl_code)), ok)


# ----------------------------------------------------------------------------- vocabularies of list columns

@cache
def _csv_vocabulary(path: Path, column: str) -> frozenset[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return frozenset(row[column].strip() for row in csv.DictReader(fh) if row.get(column, "").strip())


def vocabulary(spec: Mapping[str, Any]) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """(exact values, prefixes) of a vocabulary spec: ``values`` (``"REL TO *"`` = prefix) and/or a CSV file
    (``file`` relative to a resource dir, ``resource``: schemas|expectations, ``column``). None if the file
    is missing."""
    values = set()
    for v in spec.get("values", ()):
        values.add(v)
    if "file" in spec:
        path = resource_dir(spec.get("resource", "schemas")) / spec["file"]
        if not path.is_file():
            return None
        values |= _csv_vocabulary(path, spec.get("column", "value"))
    exact = frozenset(v for v in values if not v.endswith("*"))
    prefixes = tuple(v[:-1] for v in values if v.endswith("*"))
    return exact, prefixes


def _list_values(table: pa.Table, source: str) -> Array:
    """A list<string> column, or ``col.field`` of a list<struct> column, as a list<string> array."""
    name, _, field = source.partition(".")
    col = table[name].combine_chunks()
    if field:
        struct_values = pc.struct_field(pc.list_flatten(col), field)
        col = pa.ListArray.from_arrays(col.offsets, struct_values, mask=col.is_null())
    return col


def unknown_members(vocab_key: str) -> Callable[[pa.Table, Params], Array | None]:
    """Helper factory: space-joined members of a list column not in the vocabulary; null when all known."""

    def compute(table: pa.Table, params: Params) -> Array | None:
        spec = params["vocabularies"][vocab_key]
        voc = vocabulary(spec)
        if voc is None:
            return None
        exact, prefixes = voc
        source = next(s for s in spec["columns"] if s.split(".")[0] in table.column_names)
        lists = _list_values(table, source)
        flat = pc.list_flatten(lists)
        parents = pc.list_parent_indices(lists)
        known = pc.is_in(flat, value_set=pa.array(sorted(exact), pa.string()))
        for p in prefixes:
            known = pc.or_(known, pc.starts_with(flat, p))
        unknown = pc.invert(pc.fill_null(known, True))
        bad_vals = pc.filter(flat, unknown)
        counts = np.bincount(pc.filter(parents, unknown).to_numpy(zero_copy_only=False),
                             minlength=table.num_rows)
        offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
        joined = pc.binary_join(pa.ListArray.from_arrays(offsets, bad_vals), " ")
        return _null_where_not(pa.array(counts > 0), joined)

    return compute


HELPERS: dict[str, Helper] = {
    "_dq_reference_id_first": Helper(("reference_id",), reference_id_first),
    "_dq_id_yy": Helper(("reference_id",), id_yy),
    "_dq_dtg_yy": Helper(("dtg",), dtg_yy),
    "_dq_dtg_valid": Helper(("dtg",), dtg_valid),
    "_dq_sent_year": Helper(("sent_at",), sent_year),
    "_dq_decl_date_valid": Helper(("decl_raw", "decl_date"), decl_date_valid),
    "_dq_decl_not_before_sent": Helper(("decl_date", "sent_at"), decl_not_before_sent),
    "_dq_decl_code_eo": Helper(("decl_raw", "sent_at"), lambda t, p: pc.binary_join_element_wise(
        _memo(p, "decl_code", t, decl_code), _memo(p, "eo_in_force", t, eo_in_force), "|")),
    "_dq_decl_within_limit": Helper(("decl_raw", "decl_date", "sent_at"), decl_within_limit),
    "_dq_tags_unknown": Helper((), unknown_members("tags"), alternatives=("tags",)),
    "_dq_caveats_unknown": Helper((), unknown_members("caveats"), alternatives=("caveats",)),
    "_dq_portion_marks_unknown": Helper((), unknown_members("portion_marks"), alternatives=("paragraphs",)),
}


def derive(table: pa.Table, names: list[str], params: Params) -> dict[str, pa.ChunkedArray]:
    """Compute the helper columns ``names``; a helper that cannot be computed (vocabulary file missing) is
    left out."""
    out: dict[str, pa.ChunkedArray] = {}
    params = {**params, "_memo": {}}
    for name in names:
        arr = HELPERS[name].compute(table, params)
        if arr is not None:
            out[name] = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return out


def available(name: str, columns: set[str]) -> bool:
    """Whether column ``name`` can be had: a table column, or a helper whose sources are present."""
    if name in columns:
        return True
    helper = HELPERS.get(name)
    return helper is not None and helper.applies(columns)


def detail_columns(name: str, columns: set[str] | None = None) -> tuple[str, ...]:
    """Columns to show in a failure detail for column ``name`` (a helper's sources, else the column)."""
    helper = HELPERS.get(name)
    if helper is None:
        return (name,)
    cols = [*helper.sources, *(a for a in helper.alternatives if columns is None or a in columns)]
    return tuple(dict.fromkeys(cols))
