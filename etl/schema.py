"""Schema stage: records -> Arrow, from the declarations in ``schemas/*.json``.

The schema of each table is declared once, in ``schemas/<table>.json`` (name, type, nullability and a
description per column). This module turns those declarations into :class:`pyarrow.Schema` objects
(descriptions become field metadata, the schema version goes into the schema metadata and so into every
Parquet file) and builds tables from parsed records.

A column declared ``"statistics": false`` (long free text: bodies, raw records) gets no min/max statistics
in the Parquet files (:func:`statistics_columns`): nothing filters on them, and for such text they were a
third of each row group's footer entry, which every reader parses and every writer holds until it closes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import pyarrow as pa

from etl._resources import resource_dir

_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "large_string": pa.large_string(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}

LINEAGE_COLUMNS = (
    "source_uri",
    "source_sha256",
    "source_member",
    "source_location",
    "source_format",
    "source_encoding",
    "run_id",
    "ingested_at",
    "parser_version",
)


def _arrow_type(decl: Any) -> pa.DataType:
    if isinstance(decl, str):
        try:
            return _SCALARS[decl]
        except KeyError:
            raise ValueError(f"unknown column type {decl!r} in schemas/") from None
    if isinstance(decl, Mapping):
        if "list" in decl:
            return pa.list_(_arrow_type(decl["list"]))
        if "struct" in decl:
            return pa.struct([_arrow_field(f) for f in decl["struct"]])
    raise ValueError(f"unknown column type {decl!r} in schemas/")


NO_STATISTICS = b"cablelake.statistics"  # field metadata key of a column declared "statistics": false


def _arrow_field(col: Mapping[str, Any]) -> pa.Field:
    meta = {"description": col["description"]} if col.get("description") else {}
    if col.get("statistics", True) is False:
        meta[NO_STATISTICS.decode()] = "false"
    return pa.field(col["name"], _arrow_type(col["type"]), nullable=col.get("nullable", True), metadata=meta)


@cache
def declaration(table: str) -> dict[str, Any]:
    """The raw JSON declaration of ``table`` (``cables``, ``quarantine``...)."""
    path = resource_dir("schemas") / f"{table}.json"
    with path.open(encoding="utf-8") as fh:
        decl: dict[str, Any] = json.load(fh)
    names = [c["name"] for c in decl["columns"]]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"{path}: duplicate columns {sorted(dupes)}")
    return decl


@cache
def schema(table: str) -> pa.Schema:
    """Arrow schema of ``table`` with descriptions and the schema version in its metadata."""
    decl = declaration(table)
    fields = [_arrow_field(c) for c in decl["columns"]]
    meta = {
        "cablelake.table": decl["name"],
        "cablelake.schema_version": decl["version"],
    }
    return pa.schema(fields, metadata=meta)


def _leaves(name: str, typ: pa.DataType) -> list[str]:
    """The Parquet leaf column paths of an Arrow column (``tags.list.element``, ``paragraphs.list.element.text``)."""
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return _leaves(f"{name}.list.element", typ.value_type)
    if pa.types.is_struct(typ):
        return [leaf for i in range(typ.num_fields) for leaf in _leaves(f"{name}.{typ.field(i).name}", typ.field(i).type)]
    return [name]


def statistics_columns(sch: pa.Schema) -> list[str] | bool:
    """What to give a Parquet writer as ``write_statistics`` for ``sch``: every leaf column except those of
    fields declared ``"statistics": false`` (True when there is none)."""
    off = [f for f in sch if f.metadata and f.metadata.get(NO_STATISTICS) == b"false"]
    if not off:
        return True
    return [leaf for f in sch if f not in off for leaf in _leaves(f.name, f.type)]


@cache
def staging_schema(table: str) -> pa.Schema:
    """``table``'s schema with every column nullable: parsed rows before validation may lack anything."""
    sch = schema(table)
    return pa.schema([f.with_nullable(True) for f in sch], metadata=sch.metadata)


def cables_schema() -> pa.Schema:
    return schema("cables")


def quarantine_schema() -> pa.Schema:
    return schema("quarantine")


def schema_version(table: str = "cables") -> str:
    return str(declaration(table)["version"])


def to_table(
    rows: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]], table: str, *, staging: bool = False
) -> pa.Table:
    """Build a table of ``table``'s schema from dict rows; missing keys become nulls, extra keys are dropped.

    ``staging=True`` uses :func:`staging_schema` (all columns nullable) for rows not yet validated.
    """
    sch = staging_schema(table) if staging else schema(table)
    return pa.Table.from_pylist(list(rows), schema=sch)  # missing keys -> null, extra keys ignored


def empty_table(table: str) -> pa.Table:
    return schema(table).empty_table()
