"""Small tables to and from Python rows without loading pandas: the lake's bookkeeping rows.

pyarrow imports pandas (about 0.3 s, more than the rest of a run with nothing to do) the first time it
converts Python values: ``pa.array``/``Table.from_pylist`` ask whether a list is a pandas object, ``pa.table``
whether it was given a DataFrame, ``pq.read_table`` loads ``pyarrow.dataset``, and a zoned timestamp's
``as_py`` asks which pandas it may return. The lake's own rows (a run's ``runs`` row, a ``_lake`` row, the
dump manifest) are few, so they take other ways that are exact for their types:

* :func:`rows_table`: rows -> table through Arrow's JSON reader with the table's schema (strings, integers,
  floats, booleans, timestamps, lists and structs of these);
* :func:`read_file`: one Parquet file read by :class:`pyarrow.parquet.ParquetFile`, conformed to a schema;
* :func:`to_rows`: table -> rows, zoned timestamps turned into aware datetimes here.

The big tables (cables, quarantine) keep pyarrow's own converters: their runs load pandas anyway.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.json as pj
import pyarrow.parquet as pq
import pyarrow.types as pat


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a value of the lake's bookkeeping rows: {value!r}")


def rows_table(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """A table of ``schema`` from dict rows, like ``pa.Table.from_pylist(rows, schema=schema)`` (missing keys
    become nulls, extra keys are dropped; naive datetimes are taken as UTC), without loading pandas."""
    names = schema.names
    lines = b"".join(
        json.dumps({k: r[k] for k in names if k in r}, default=_json_value, ensure_ascii=False).encode() + b"\n"
        for r in rows
    )
    if not lines:
        return schema.empty_table()
    table = pj.read_json(
        io.BytesIO(lines),
        read_options=pj.ReadOptions(use_threads=False),
        parse_options=pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"),
    )
    return conform(table, schema)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with the columns of ``schema`` in its order (absent ones null), cast to its types and with
    its field and schema metadata."""
    columns = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, names=schema.names).cast(schema)


def read_file(source: str | BinaryIO, schema: pa.Schema) -> pa.Table:
    """One Parquet file as a table of ``schema`` (what ``pq.read_table(source, schema=schema)`` gives for the
    lake's own files), read without ``pyarrow.dataset`` (whose import loads pandas)."""
    return conform(pq.ParquetFile(source).read(), schema)


def to_rows(table: pa.Table) -> list[dict[str, Any]]:
    """``table.to_pylist()``, with zoned timestamp columns (top level) converted here, without pandas."""
    zoned = [f for f in table.schema if pat.is_timestamp(f.type) and f.type.tz]
    if not zoned:
        return table.to_pylist()
    for f in zoned:
        naive = table.column(f.name).cast(pa.timestamp(f.type.unit))  # the UTC wall time
        table = table.set_column(table.schema.get_field_index(f.name), f.name, naive)
    rows = table.to_pylist()
    for f in zoned:
        tz = UTC if f.type.tz in ("UTC", "+00:00", "Z") else ZoneInfo(f.type.tz)
        for row in rows:
            value = row[f.name]
            if value is not None:
                row[f.name] = value.replace(tzinfo=UTC).astimezone(tz)
    return rows
