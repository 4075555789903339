"""Catalog stage: a DuckDB file of views over the lake's Parquet.

The ``.duckdb`` file holds no data, only views, so it is cheap to rebuild: it is built beside the old one
and swapped in with one rename, so a reader never opens a half-built catalog.

Views:

* ``cables``, ``quarantine``, ``runs``: the lake's tables. Each is the union (by column name) of an empty
  relation typed from ``schemas/<table>.json`` and the table's Parquet files read with ``union_by_name``,
  so every declared column exists even when old partitions (or all of them) were written before it was
  added, and a table with no files yet is an empty view of the right shape.
* ``cable_tags``, ``cable_recipients``, ``cable_references``, ``cable_paragraphs``: one row per element of
  a list column of ``cables`` (TAGS with their kind, TO/INFO addressees, REF entries with the cited cable
  joined when it is in the lake, numbered paragraphs). They adapt to the columns that ``schemas/cables.json``
  declares: a list of structs becomes one column per struct field.

The views name their files relative to the lake root (no absolute path), so the lake can be moved, copied
or mounted anywhere: a client reads them from the lake folder as working directory, or with DuckDB's
``file_search_path`` set to the lake root (:func:`connect` does; README "Opening the lake from other tools").

Every view and column carries a comment (``COMMENT ON``) taken from the schema descriptions;
:func:`data_dictionary` renders them as Markdown (``docs/data-dictionary.md``, ``cablelake dictionary``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from etl.lake import (
    Commit,
    LakePaths,
    current_lake,
    fsspec_store,
    is_lake,
    is_remote,
    read_as_of,
    reader_files,
)
from etl.schema import declaration, schema

TABLES: tuple[str, ...] = ("cables", "quarantine", "runs")


def _q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    """Quote a string literal."""
    return "'" + text.replace("'", "''") + "'"


class LakeNotFoundError(FileNotFoundError):
    """A ``--lake`` that names no lake to read: a missing folder, or an object-store prefix where nothing was
    ever published (or that cannot be read)."""


def require_lake(lake: Path | str) -> bool:
    """Raise :class:`LakeNotFoundError`, naming ``lake`` and why, unless it is a lake to read: a local folder
    (a lake, or a hand-made folder of Parquet files), or an object-store prefix holding a lake commit.
    Returns whether it holds a lake commit (False: a local folder without one)."""
    return lake_commit(lake) is not None


def lake_commit(lake: Path | str) -> Commit | None:
    """The live version of the lake (:func:`etl.lake.read_current`; None for a local folder without a lake
    commit), raising :class:`LakeNotFoundError` as :func:`require_lake` does. On an object store, an unchanged
    lake costs one LIST request of its ``_lake`` log."""
    paths = LakePaths(Path(lake))
    remote = is_remote(paths.lake)
    if not remote and not paths.root.is_dir():
        raise LakeNotFoundError(f"no lake at {lake} (give --lake DIR or set $CABLELAKE_LAKE; `cablelake run` makes one)")
    try:
        found = current_lake(paths.lake)
    except OSError as exc:  # no credentials, no answer from the endpoint, ...
        raise LakeNotFoundError(f"cannot read the lake at {paths.lake}: {exc}") from exc
    if remote and found is None:
        raise LakeNotFoundError(
            f"no lake at {paths.lake}: nothing was ever published there (no _lake table; "
            f"`cablelake run DUMPS --lake {paths.lake}` makes one)"
        )
    return found


# --------------------------------------------------------------------------------------------- base tables


def live_files(paths: LakePaths, table: str, version: Commit | None = None) -> list[Path] | list[str]:
    """The table's live Parquet files: those the lake's current version (or ``version``) lists (Delta tables
    pinned by the lake commit, :mod:`etl.lake`) when it has one, else every Parquet file under its folder."""
    version = version if version is not None else current_lake(paths.lake)
    if version is not None:
        return reader_files(paths.lake, table, version)
    d = paths.table_dir(table)
    return sorted(p.resolve() for p in d.rglob("*.parquet")) if d.is_dir() else []


def lake_relative(root: Path, f: Path | str) -> str:
    """How a view names a live file: relative to the lake root (``cables/year=2007/x.parquet``) when it is
    under it, so the catalog holds no absolute path and keeps working when the lake is moved, copied or
    mounted elsewhere; anything else (a URI, a file outside the lake) as given. A relative path is read
    from DuckDB's ``file_search_path`` (set to the lake root by :func:`connect` and by :func:`refresh`;
    see the README for other clients)."""
    text = str(f)
    if "://" in text:
        return text
    try:
        return Path(f).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return text


def _digest(root: Path, files: Mapping[str, Sequence[Path | str]]) -> str:
    h = hashlib.sha256()
    for table in sorted(files):
        for f in files[table]:
            h.update(f"{table}\0{lake_relative(root, f)}\0".encode())
    return h.hexdigest()[:16]


def search_path_sql(root: Path) -> str:
    """The ``SET`` that makes a DuckDB connection read the catalog's relative paths from ``root``."""
    return f"SET GLOBAL file_search_path = {_lit(str(root.resolve()))}"  # GLOBAL: cursors inherit it


_TYPES: dict[pa.Schema, tuple[tuple[str, str], ...]] = {}


def _duckdb_types(con: duckdb.DuckDBPyConnection, arrow: pa.Schema) -> tuple[tuple[str, str], ...]:
    """The DuckDB type of each column of ``arrow``: DuckDB's reading of an empty Parquet file of that schema,
    as it reads the table's own files (once per schema in a process). Handing DuckDB an Arrow table instead
    makes it import pandas to check what kind of object it was given: about 0.3 s of a run with nothing to do."""
    if arrow not in _TYPES:
        with tempfile.TemporaryDirectory(prefix="cablelake-") as folder:
            path = os.path.join(folder, "empty.parquet")
            pq.ParquetWriter(path, arrow).close()  # (pq.write_table would import pandas too)
            cols = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(path)})").fetchall()
        _TYPES[arrow] = tuple((str(c[0]), str(c[1])) for c in cols)
    return _TYPES[arrow]


def _empty_select(con: duckdb.DuckDBPyConnection, table: str) -> tuple[str, dict[str, str]]:
    """``SELECT CAST(NULL AS type) AS col, ... WHERE false`` typed like ``schemas/<table>.json``, and the types."""
    cols = _duckdb_types(con, schema(table))
    casts = ", ".join(f"CAST(NULL AS {ctype}) AS {_q(name)}" for name, ctype in cols)
    return f"SELECT {casts} WHERE false", dict(cols)


def _base_view_sql(con: duckdb.DuckDBPyConnection, table: str, files: Sequence[str]) -> str:
    sql, types = _empty_select(con, table)
    if files:
        listing = "[" + ", ".join(_lit(f) for f in files) + "]"
        keys = [str(k) for k in declaration(table).get("partition_by") or []]
        hive = "hive_partitioning = false"
        if keys:  # partition keys come from the folder names (year=2007), typed as declared
            hive = "hive_partitioning = true, hive_types = {" + ", ".join(
                f"{_lit(k)}: {_lit(types[k])}" for k in keys
            ) + "}"
        sql += f"\nUNION ALL BY NAME\nSELECT * FROM read_parquet({listing}, {hive}, union_by_name = true)"
    return sql


# ------------------------------------------------------------------------------------------ derived views

# Columns every derived view starts with (taken from the cable the row belongs to).
_CABLE_KEYS: tuple[tuple[str, str], ...] = (
    ("reference_id", "Cable id (cables.reference_id) of the cable the row belongs to."),
    ("year", "Year partition of that cable (cables.year)."),
    ("sent_at", "When that cable was sent (cables.sent_at)."),
    ("origin", "Originator of that cable (cables.origin)."),
    ("classification", "Classification of that cable (cables.classification)."),
)
_POSITION = ("position", "1-based position of the element in its list, in document order.")


@dataclass(frozen=True)
class _Source:
    """A list column of ``cables`` that a derived view unnests into one column per field."""

    column: str
    fields: tuple[tuple[str, str, str], ...]  # (struct field or "" for a scalar list, view column, description)


_KEY_NAMES = frozenset(k for k, _ in _CABLE_KEYS) | {"position"}


def _cable_columns() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in declaration("cables")["columns"]}


# Descriptions of the struct fields the derived views expose (generic text for fields not listed here).
_FIELD_DOCS: dict[str, str] = {
    "tag_details.tag": "The clean TAG.",
    "tag_details.kind": "Kind of TAG: subject, geographic, program, organization, person or other "
    "(schemas/vocabularies/tags.csv); null for rows written before tag_details existed.",
    "tag_details.raw": "The token of the TAGS line the TAG came from, as written.",
    "addressees.routing_indicator": "Routing indicator before the slash (RUEHC), when written.",
    "addressees.address": "Addressee PLAD (SECSTATE WASHDC, AMEMBASSY PARIS).",
    "addressees.precedence": "Precedence word of the line (IMMEDIATE, PRIORITY, NIACT IMMEDIATE...); null for ROUTINE.",
    "addressees.mcn": "Message continuity number (4 digits), when written.",
    "addressees.excluded": "Posts excluded from a collective address by XMT.",
    "references.letter": "REF bullet letter (A, B...), when written.",
    "references.raw": "The REF item as written.",
    "references.reference_id": "Cable id of the cited cable as resolved by the parser (year inferred when missing, "
    "SECSTATE -> STATE); null when the item is not a cable.",
    "references.kind": "What the REF item is: cable or other.",
    "paragraphs.number": "Paragraph number as written (1, 2...).",
    "paragraphs.portion_mark": "Portion mark of the paragraph (C, S/NF, SBU...), when written.",
    "paragraphs.text": "Paragraph text with wrapped lines joined.",
}
_DOC_GROUP = {"to_addressees": "addressees", "info_addressees": "addressees"}


def _list_source(
    cols: Mapping[str, Mapping[str, Any]], name: str, scalar_as: str, rename: Mapping[str, str] | None = None
) -> _Source | None:
    """Describe list column ``name`` of cables, or None when it is not declared (yet) or not a list.

    A list of structs gives one view column per struct field (renamed by ``rename``, or prefixed with the
    column name when it would clash with the cable's own columns); a list of scalars gives ``scalar_as``.
    """
    col = cols.get(name)
    if col is None or not isinstance(col.get("type"), Mapping) or "list" not in col["type"]:
        return None
    item = col["type"]["list"]
    desc = str(col.get("description", ""))
    if isinstance(item, Mapping) and "struct" in item:
        fields = []
        for f in item["struct"]:
            fname = str(f["name"])
            alias = (rename or {}).get(fname) or (f"{name}_{fname}" if fname in _KEY_NAMES else fname)
            fdesc = str(
                f.get("description")
                or _FIELD_DOCS.get(f"{_DOC_GROUP.get(name, name)}.{fname}")
                or f"{fname}: field of an element of cables.{name} ({desc})"
            )
            fields.append((fname, alias, fdesc))
        return _Source(name, tuple(fields))
    return _Source(name, (("", scalar_as, f"Element of cables.{name}: {desc}"),))


def _unnest_select(src: _Source, extra: Iterable[str] = (), where: str = "") -> str:
    """One row per element of ``src`` with the cable's key columns, its position and its fields."""
    keys = ", ".join(_q(k) for k, _ in _CABLE_KEYS)
    col = _q(src.column)
    fields = ", ".join(f"e.{_q(f)} AS {_q(a)}" if f else f"e AS {_q(a)}" for f, a, _ in src.fields)
    more = "".join(f", {e}" for e in extra)
    cond = f"{col} IS NOT NULL" + (f" AND ({where})" if where else "")
    return (
        f"SELECT {keys}, position{more}, {fields} FROM (SELECT {keys}, generate_subscripts({col}, 1) AS position, "
        f"unnest({col}) AS e FROM cables WHERE {cond})"
    )


def _columns_desc(src: _Source) -> list[tuple[str, str]]:
    return [(a, d) for _, a, d in src.fields]


@dataclass(frozen=True)
class DerivedView:
    """A view over ``cables``; ``build`` returns (SQL, column descriptions) for the declared columns."""

    name: str
    description: str
    build: Callable[[Mapping[str, Mapping[str, Any]]], tuple[str, dict[str, str]]]


def _keys_desc(*more: tuple[str, str]) -> dict[str, str]:
    return dict(_CABLE_KEYS) | dict([_POSITION]) | dict(more)


_KEY_TYPES: tuple[tuple[str, str], ...] = (
    ("reference_id", "VARCHAR"),
    ("year", "INTEGER"),
    ("sent_at", "TIMESTAMP WITH TIME ZONE"),
    ("origin", "VARCHAR"),
    ("classification", "VARCHAR"),
    ("position", "BIGINT"),
)


def _empty_keyed(more: list[tuple[str, str, str]]) -> tuple[str, dict[str, str]]:
    """An empty view with the key columns and ``more`` (name, SQL type, description)."""
    typed = [*_KEY_TYPES, *[(n, t) for n, t, _ in more]]
    casts = ", ".join(f"CAST(NULL AS {ctype}) AS {_q(name)}" for name, ctype in typed)
    return f"SELECT {casts} WHERE false", _keys_desc(*[(n, d) for n, _, d in more])


_TAG = ("tag", "The TAG as cleaned (an element of cables.tags).")
_TAG_KIND = ("kind", "Kind of TAG (subject, country, organization, person, program...) when the parser knows it.")


def _tags_view(cols: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    details = _list_source(cols, "tag_details", "tag")
    tags = _list_source(cols, "tags", "tag")
    if details is not None and details.fields[0][0]:
        names = [f for f, _, _ in details.fields]
        tag_field = next((n for n in ("tag", "code", "value", "name") if n in names), names[0])
        details = _Source(details.column, tuple((f, "tag" if f == tag_field else a, d) for f, a, d in details.fields))
        sql = _unnest_select(details)
        if tags is not None:  # rows written before tag_details existed: their TAGS, kind unknown (NULL)
            sql += f"\nUNION ALL BY NAME\n{_unnest_select(tags, where='tag_details IS NULL')}"
        return sql, _keys_desc(*_columns_desc(details))
    if tags is not None:
        return _unnest_select(tags, extra=["CAST(NULL AS VARCHAR) AS kind"]), _keys_desc(_TAG, _TAG_KIND)
    return _empty_keyed([("tag", "VARCHAR", _TAG[1]), ("kind", "VARCHAR", _TAG_KIND[1])])


_RECIPIENT_LISTS: dict[str, tuple[str, ...]] = {
    "TO": ("to_recipients", "recipients_to", "to_addressees", "addressees_to", "to"),
    "INFO": ("info_recipients", "recipients_info", "info_addressees", "addressees_info", "info"),
}
_KIND = ("kind", "TO (action addressee) or INFO (information addressee).")
_RECIPIENT = ("recipient", "The addressee line as written (RI/PLAD precedence MCN).")


def _recipients_view(cols: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    combined = _list_source(cols, "recipients", "recipient") or _list_source(cols, "addressees", "recipient")
    if combined is not None:
        return _unnest_select(combined), _keys_desc(*_columns_desc(combined))
    parts: list[str] = []
    desc = _keys_desc(_KIND)
    for kind, candidates in _RECIPIENT_LISTS.items():
        src = next((s for s in (_list_source(cols, c, "recipient") for c in candidates) if s is not None), None)
        if src is not None:
            parts.append(_unnest_select(src, extra=[f"{_lit(kind)} AS kind"]))
            desc |= dict(_columns_desc(src))
    if parts:
        return "\nUNION ALL BY NAME\n".join(parts), desc
    return _empty_keyed([("kind", "VARCHAR", _KIND[1]), ("recipient", "VARCHAR", _RECIPIENT[1])])


_CITED_ID = ("cited_id", "Reference id of the cited cable (as resolved by the parser).")
_CITED = (
    ("cited_in_lake", "True when the cited cable is a row of cables."),
    ("cited_subject", "SUBJECT of the cited cable, when it is in the lake."),
    ("cited_sent_at", "When the cited cable was sent, when it is in the lake."),
    ("cited_origin", "Originator of the cited cable, when it is in the lake."),
    ("cited_classification", "Classification of the cited cable, when it is in the lake."),
)
_CITED_TYPES = ("BOOLEAN", "VARCHAR", "TIMESTAMP WITH TIME ZONE", "VARCHAR", "VARCHAR")


def _references_view(cols: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    rename = {"reference_id": "cited_id", "cable_id": "cited_id", "id": "cited_id"}
    src = _list_source(cols, "references", "cited_id", rename) or _list_source(cols, "reference_ids", "cited_id")
    if src is None or "cited_id" not in {a for _, a, _ in src.fields}:
        return _empty_keyed(
            [(_CITED_ID[0], "VARCHAR", _CITED_ID[1])] + [(n, t, d) for (n, d), t in zip(_CITED, _CITED_TYPES, strict=True)]
        )
    # the cited cable, by its id or (when the parser repaired a malformed id) its canonical id
    keys = ["reference_id"] + (["canonical_id"] if "canonical_id" in cols else [])
    by_key = " UNION ALL ".join(
        f"SELECT {k} AS key, reference_id, subject, sent_at, origin, classification, ingested_at FROM cables "
        f"WHERE {k} IS NOT NULL"
        for k in keys
    )
    latest = (
        f"SELECT * FROM ({by_key}) QUALIFY row_number() OVER (PARTITION BY key ORDER BY ingested_at DESC) = 1"
    )
    sql = (
        "SELECT e.*, c.reference_id IS NOT NULL AS cited_in_lake, c.subject AS cited_subject, "
        "c.sent_at AS cited_sent_at, c.origin AS cited_origin, c.classification AS cited_classification\n"
        f"FROM ({_unnest_select(src)}) AS e\nLEFT JOIN ({latest}) AS c ON c.key = e.cited_id"
    )
    return sql, _keys_desc(*_columns_desc(src)) | dict(_CITED)


def _paragraphs_view(cols: Mapping[str, Mapping[str, Any]]) -> tuple[str, dict[str, str]]:
    src = _list_source(cols, "paragraphs", "text")
    if src is None:
        return _empty_keyed([("text", "VARCHAR", "Text of the paragraph.")])
    return _unnest_select(src), _keys_desc(*_columns_desc(src))


DERIVED: tuple[DerivedView, ...] = (
    DerivedView("cable_tags", "One row per TAG of a cable, with its kind (from cables.tag_details).", _tags_view),
    DerivedView("cable_recipients", "One row per TO or INFO addressee of a cable.", _recipients_view),
    DerivedView(
        "cable_references",
        "One row per REF entry of a cable (an edge citing -> cited), with the cited cable joined when it is "
        "in the lake.",
        _references_view,
    ),
    DerivedView("cable_paragraphs", "One row per numbered paragraph of a cable body.", _paragraphs_view),
)

VIEWS: tuple[str, ...] = TABLES + tuple(v.name for v in DERIVED)

ORIGIN = "coalesce(origin_name, origin)"
"""A cable's post: its name (metadata or FM line), else the FM line as written."""
NEWEST_ROWS = 5_000
SUMMARY_SCHEMA = "summary"
SUMMARIES: dict[str, str] = {
    "cable_totals": f"""
SELECT count(*) AS cables, count(*) FILTER (WHERE len(dq_warnings) > 0) AS warned,
       count(DISTINCT {ORIGIN}) AS origins, count(*) FILTER (WHERE {ORIGIN} IS NULL) AS no_origin,
       strftime(min(sent_at), '%Y-%m-%d') AS first_sent, strftime(max(sent_at), '%Y-%m-%d') AS last_sent,
       count(decl_date) AS decl_dated, count(*) FILTER (WHERE sent_at IS NULL) AS undated
FROM cables""",
    "cables_per_month": """
SELECT strftime(date_trunc('month', sent_at), '%Y-%m') AS month, coalesce(classification, '(none)') AS classification,
       count(*) AS n
FROM cables WHERE sent_at IS NOT NULL GROUP BY ALL""",
    "cables_per_origin": f"SELECT {ORIGIN} AS origin, count(*) AS n FROM cables WHERE {ORIGIN} IS NOT NULL GROUP BY ALL",
    "cables_per_tag": "SELECT tag, mode(kind) AS kind, count(*) AS n FROM cable_tags WHERE tag IS NOT NULL GROUP BY tag",
    "decl_per_year": "SELECT year(decl_date) AS year, count(*) AS n FROM cables WHERE decl_date IS NOT NULL GROUP BY ALL",
    "warnings_per_rule": "SELECT rule, count(*) AS n FROM (SELECT unnest(dq_warnings) AS rule FROM cables) GROUP BY ALL",
    "quarantine_per_reason": (
        "SELECT reason, count(*) AS n FROM (SELECT unnest(reasons) AS reason FROM quarantine) GROUP BY ALL"
    ),
    "newest_cables": f"""
SELECT reference_id, sent_at, {ORIGIN} AS origin, classification, subject, tags FROM cables
ORDER BY cables.sent_at DESC NULLS LAST, reference_id LIMIT {NEWEST_ROWS}""",
}
"""Aggregates of ``cables`` and ``quarantine`` that dashboards read (``summary.<name>``). The catalog file
holds them as tables computed when it is built (so a dashboard reads a few hundred rows, not the lake);
a catalog built in memory (a stale file, ``--as-of``) has them as views of the same SQL. Their SQL is the
one definition either way."""


# -------------------------------------------------------------------------------------------- build / open


def _comment_columns(con: duckdb.DuckDBPyConnection, view: str, descriptions: Mapping[str, str]) -> None:
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = current_schema()",
            [view],
        ).fetchall()
    }
    for col, desc in descriptions.items():
        if col in present and desc:
            con.execute(f"COMMENT ON COLUMN {_q(view)}.{_q(col)} IS {_lit(desc)}")


def create_views(
    con: duckdb.DuckDBPyConnection, paths: LakePaths | None, version: Commit | None = None,
    only: Sequence[str] | None = None, materialize: bool = False,
) -> None:
    """Create every view in ``con`` (over lake version ``version``, default the current one); ``paths=None``
    makes them over no files (empty, typed). ``only``: replace just the views of these base tables (none of
    them ``cables``, which the derived views and the summaries read) and ``catalog_info``; the others are
    kept as they are. ``materialize``: the :data:`SUMMARIES` become tables (else views)."""
    if paths is not None and version is None:
        version = current_lake(paths.lake)  # one snapshot for every table (and one read of the commit record)
    files = {t: live_files(paths, t, version) if paths is not None else [] for t in TABLES}
    if paths is not None:  # views are bound when created: the relative paths must resolve now
        attach_store(con, paths)
        con.execute(search_path_sql(paths.root))
    for table in only if only is not None else TABLES:
        names = [lake_relative(paths.root, f) for f in files[table]] if paths is not None else []
        con.execute(f"CREATE OR REPLACE VIEW {_q(table)} AS\n{_base_view_sql(con, table, names)}")
        desc = str(declaration(table).get("description", ""))
        if desc:
            con.execute(f"COMMENT ON VIEW {_q(table)} IS {_lit(desc)}")
        _comment_columns(con, table, {c["name"]: str(c.get("description", "")) for c in declaration(table)["columns"]})
    cols = _cable_columns()
    for view in DERIVED if only is None else ():
        sql, descriptions = view.build(cols)
        con.execute(f"CREATE OR REPLACE VIEW {_q(view.name)} AS\n{sql}")
        con.execute(f"COMMENT ON VIEW {_q(view.name)} IS {_lit(view.description)}")
        _comment_columns(con, view.name, descriptions)
    if only is None:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {SUMMARY_SCHEMA}")
        kind = "TABLE" if materialize else "VIEW"
        for name, sql in SUMMARIES.items():
            con.execute(f"CREATE OR REPLACE {kind} {SUMMARY_SCHEMA}.{_q(name)} AS {sql}")
    con.execute(
        "CREATE OR REPLACE VIEW catalog_info AS SELECT "
        "current_setting('file_search_path') AS lake_root, "
        f"{_lit(str(declaration('cables')['version']))} AS cables_schema_version, "
        f"{_lit(_digest(paths.root, files) if paths else '')} AS files_digest"
    )
    con.execute(
        "COMMENT ON VIEW catalog_info IS 'Where this connection reads the lake from (its file_search_path: the "
        "views name files relative to the lake root), the schema version and a digest of the live files.'"
    )


def attach_store(con: duckdb.DuckDBPyConnection, paths: LakePaths) -> None:
    """Let ``con`` read a lake on an object store (its files are ``cablelake://`` paths; no extension)."""
    if is_remote(paths.lake) and not con.filesystem_is_registered("cablelake"):
        con.register_filesystem(fsspec_store(paths.lake))


def refresh(lake_root: Path | str, tables: Sequence[str] = TABLES, version: Commit | None = None) -> Path:
    """(Re)build ``cables.duckdb`` with one view per table (+ derived views) and swap it in atomically.

    ``tables``: the tables that changed since the catalog file was built (the caller knows it is otherwise
    current). Without ``cables`` among them (a run with nothing new adds only its ``runs`` row), the file is
    copied and only their views and ``catalog_info`` are replaced: no view of ``cables`` and no derived view
    is built again. ``version``: the lake version to build on (default: the current one)."""
    paths = LakePaths(Path(lake_root))
    paths.root.mkdir(parents=True, exist_ok=True)
    target = paths.catalog
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    only = [t for t in TABLES if t in tables] if "cables" not in tables and target.exists() else None
    if only is not None:
        shutil.copyfile(target, tmp)
    con = duckdb.connect(str(tmp))
    try:
        con.execute("SET TimeZone = 'UTC'")  # as readers have it: the summaries group months in UTC
        con.execute("BEGIN")  # one transaction: a few hundred COMMENTs would otherwise commit one by one
        create_views(con, paths, version, only=only, materialize=True)
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, target)
    return target


def _stale(paths: LakePaths) -> bool:
    """True when the catalog is missing or lists other files than the live ones (its paths are relative to
    the lake root, so a moved or copied lake keeps its catalog)."""
    if not paths.catalog.exists():
        return True
    try:
        con = duckdb.connect(str(paths.catalog), read_only=True)
    except duckdb.Error:
        return True
    try:
        info = con.execute("SELECT files_digest FROM catalog_info").fetchone()
        commit = current_lake(paths.lake)
        files = {t: live_files(paths, t, commit) for t in TABLES}
        return info is None or info[0] != _digest(paths.root, files)
    except duckdb.Error:
        return True
    finally:
        con.close()


def _in_memory(paths: LakePaths, version: Commit | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    create_views(con, paths, version)
    con.execute("SET TimeZone = 'UTC'")
    return con


def connect(lake_root: Path | str, read_only: bool = True, as_of: str | int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the lake's catalog (read-only by default, so dashboards never lock writers out), from any
    working directory: ``file_search_path`` is set to the lake root, which the views' paths are relative to.

    When the catalog file is missing or stale (files it does not list), the views are built
    in an in-memory database over the live files instead, and the file is left to the writer that
    refreshes it under the lake lock (``etl.pipeline.refresh_catalog``). A lake without a commit record
    (older layout, hand-made) has its catalog file rebuilt here. ``as_of`` (a lake version or a time, see
    :func:`etl.lake.read_as_of`) gives in-memory views over that version of the lake.
    """
    paths = LakePaths(Path(lake_root))
    if as_of is not None:
        return _in_memory(paths, read_as_of(paths.lake, as_of))
    if _stale(paths):
        if is_lake(paths.lake):
            return _in_memory(paths)
        if is_remote(paths.lake):
            require_lake(paths.lake)  # a prefix without a lake: say so rather than show it empty
        try:
            refresh(paths.root)
        except OSError:
            return _in_memory(paths)
    con = duckdb.connect(str(paths.catalog), read_only=read_only)
    attach_store(con, paths)
    con.execute(search_path_sql(paths.root))
    con.execute("SET TimeZone = 'UTC'")  # sent_at is UTC: group months and years in UTC, not local time
    return con


def describe_views(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None, list[tuple[str, str, str | None]]]]:
    """``[(view, comment, [(column, type, comment), ...]), ...]`` of the catalog's views, in catalog order."""
    order = {name: i for i, name in enumerate(VIEWS)}
    views = con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal AND schema_name = current_schema()"
    ).fetchall()
    out = []
    for name, comment in sorted(views, key=lambda v: (order.get(v[0], len(order)), v[0])):
        cols = con.execute(
            "SELECT column_name, data_type, comment FROM duckdb_columns() "
            "WHERE table_name = ? AND schema_name = current_schema() ORDER BY column_index",
            [name],
        ).fetchall()
        out.append((name, comment, [(c, t, d) for c, t, d in cols]))
    return out


def data_dictionary() -> str:
    """The data dictionary (Markdown) of the catalog's views, generated from the views themselves."""
    con = duckdb.connect(":memory:")
    try:
        create_views(con, None)
        views = [v for v in describe_views(con) if v[0] != "catalog_info"]
    finally:
        con.close()
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `cablelake dictionary` from schemas/*.json and etl/catalog.py: do not edit by hand. -->",
        "",
        "Views of the DuckDB catalog `lake/cables.duckdb` (open it with `cablelake sql`, `cablelake shell` or, "
        "from the lake folder, `duckdb -readonly cables.duckdb`: the views name files relative to the lake "
        "root). The same descriptions are in the catalog itself: "
        "`select * from duckdb_columns() where table_name = 'cables'`.",
        "",
    ]
    lines += [f"- [`{name}`](#{name}): {comment or ''}" for name, comment, _ in views]
    for name, comment, cols in views:
        lines += ["", f"## {name}", "", comment or "", "", "| column | type | description |", "|---|---|---|"]
        for col, ctype, desc in cols:
            text = (desc or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{col}` | `{ctype}` | {text} |")
    return "\n".join(lines) + "\n"
