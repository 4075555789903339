"""Helper columns for the suite, computed vectorised with ``pyarrow.compute``.

Some rules compare fields or need parsing (is the DTG a real time? is this the first row with that id?).
Rather than row-by-row Python inside GX, such facts are computed here as ``_dq_*`` columns and the suite
expects simple things of them (``in_set [true]``, ``between``, ``pair equal``...). Convention: a helper is
**null where its rule does not apply** (no DTG, no DECL...), so GX skips the row; only non-null values are
judged.

Every helper is registered in :data:`HELPERS` with the source columns it reads; those source columns are
what the quarantine ``details`` show for a failed rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PREFIX = "_dq_"

# A DECL value that starts with a calendar-date shape (M/D/Y, Y/M/D, M-D-YY), optionally after DNG: CO.
_DECL_DATE_SHAPE = r"^\s*(?:DNG\b[^0-9]*)?[0-9]{1,4}\s*[/.-]\s*[0-9]{1,2}\s*[/.-]\s*[0-9]{1,4}"


@dataclass(frozen=True)
class Helper:
    """A derived column: its source columns and the function computing it from the table."""

    sources: tuple[str, ...]
    compute: Callable[[pa.Table], pa.Array | pa.ChunkedArray]
    doc: str


def _null_where(cond: pa.Array | pa.ChunkedArray, values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``values`` where ``cond`` is true, null where it is false or null."""
    typ = values.type
    return pc.if_else(cond, values, pa.scalar(None, typ))


def reference_id_first(table: pa.Table) -> pa.Array:
    """True for the first row carrying a reference_id, False for later rows with the same id."""
    n = table.num_rows
    idx = pa.array(np.arange(n, dtype=np.int64))
    ids = table["reference_id"]
    firsts = pa.table({"id": ids, "i": idx}).group_by("id", use_threads=False).aggregate([("i", "min")])
    first = pc.is_in(idx, value_set=firsts["i_min"].combine_chunks())
    return _null_where(pc.is_valid(ids), pa.chunked_array([first]))


def decl_date_valid(table: pa.Table) -> pa.ChunkedArray:
    """Where decl_raw starts with a date shape: is decl_date set (a real calendar date)? Null elsewhere."""
    looks = pc.match_substring_regex(table["decl_raw"], _DECL_DATE_SHAPE, ignore_case=True)
    looks = pc.fill_null(looks, False)
    return _null_where(looks, pc.is_valid(table["decl_date"]))


HELPERS: dict[str, Helper] = {
    "_dq_reference_id_first": Helper(("reference_id",), reference_id_first, reference_id_first.__doc__ or ""),
    "_dq_decl_date_valid": Helper(("decl_raw", "decl_date"), decl_date_valid, decl_date_valid.__doc__ or ""),
}


def derive(table: pa.Table, names: list[str]) -> dict[str, pa.ChunkedArray]:
    """Compute the helper columns ``names`` (those whose sources are all in ``table``)."""
    out: dict[str, pa.ChunkedArray] = {}
    for name in names:
        helper = HELPERS[name]
        arr = helper.compute(table)
        out[name] = arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])
    return out


def available(name: str, columns: set[str]) -> bool:
    """Whether column ``name`` can be had: a table column, or a helper whose sources are all present."""
    if name in columns:
        return True
    helper = HELPERS.get(name)
    return helper is not None and all(s in columns for s in helper.sources)


def detail_columns(name: str) -> tuple[str, ...]:
    """Columns to show in a failure detail for column ``name`` (a helper's sources, else the column)."""
    helper = HELPERS.get(name)
    return helper.sources if helper else (name,)
