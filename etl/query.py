"""The analysts' side of the CLI: run SQL on the catalog, print results, explain errors, a small shell.

Used by ``cablelake sql`` and ``cablelake shell`` (``etl/cli.py`` only wires the arguments).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import duckdb

from etl.catalog import LakeNotFoundError, connect, describe_views, require_lake, search_path_sql
from etl.lake import LakePaths, is_remote

FORMATS = ("table", "csv", "json", "parquet")


class QueryError(Exception):
    """A query failed; the message names the problem (and lists the views when a name is unknown)."""


def open_catalog(lake: Path | str, as_of: str | None = None) -> duckdb.DuckDBPyConnection:
    """Read-only connection to the lake's catalog (at lake version or time ``as_of``, default the current
    version); a clear error when there is no lake there or no such version."""
    root = Path(lake)
    try:
        require_lake(lake)
    except LakeNotFoundError as exc:
        raise QueryError(str(exc)) from exc
    try:
        con = connect(root, read_only=True, as_of=as_of)
    except (LookupError, ValueError) as exc:
        raise QueryError(f"--as-of {as_of}: {exc}") from exc
    from etl.search import register_sql

    register_sql(con, root)  # search('query') as a table in SQL
    return con


def views_overview(con: duckdb.DuckDBPyConnection, width: int = 100, only: Sequence[str] = ()) -> str:
    """``view(col, col, ...)`` per view, wrapped: what a user can query."""
    lines = []
    for name, comment, cols in describe_views(con):
        if only and name not in only:
            continue
        head = f"{name}: {comment}" if comment else name
        lines.append("  " + textwrap.shorten(head, width=width - 2, placeholder="…"))
        lines += textwrap.wrap(", ".join(c for c, _, _ in cols), width=width, initial_indent="      ",
                               subsequent_indent="      ")
    return "\n".join(lines)


def explain_error(con: duckdb.DuckDBPyConnection, exc: duckdb.Error, sql: str = "") -> str:
    """The DuckDB message, plus the views and their columns when a table or column name is unknown
    (only the views the query names, when it names some and the unknown name is a column)."""
    msg = str(exc).strip()
    if "QueryError: " in msg:  # a search('...') whose query is malformed: the search language's own message
        return "search(): " + msg.split("QueryError: ", 1)[1] + "\n(the search language: see `cablelake search --help`)"
    unknown_name = isinstance(exc, duckdb.CatalogException | duckdb.BinderException) or any(
        s in msg for s in ("does not exist", "not found in FROM clause", "Referenced column")
    )
    if not unknown_name:
        if isinstance(exc, duckdb.ParserException):
            msg += "\n(hint: see docs/queries.md for example queries; string literals take 'single quotes')"
        return msg
    named: list[str] = []
    if isinstance(exc, duckdb.BinderException):
        named = [v for v, _, _ in describe_views(con) if re.search(rf"\b{re.escape(v)}\b", sql, re.I)]
    which = "Columns of " + ", ".join(named) if named else "Views of the catalog and their columns"
    return f"{msg}\n\n{which}:\n{views_overview(con, only=named)}"


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
    """Execute ``sql`` (several statements allowed: the result is the last one's)."""
    try:
        return con.execute(sql)
    except duckdb.Error as exc:
        raise QueryError(explain_error(con, exc, sql)) from exc


def format_table(columns: list[str], rows: list[tuple[Any, ...]], max_width: int = 60) -> str:
    def cell(v: Any) -> str:
        s = "NULL" if v is None else str(v)
        s = s.replace("\n", "\\n")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    def numeric(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    cells = [[cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    right = [bool(rows) and all(numeric(r[i]) or r[i] is None for r in rows) for i in range(len(columns))]

    def line(vals: list[str], align: bool = True) -> str:
        return " | ".join(
            v.rjust(w) if align and r else v.ljust(w) for v, w, r in zip(vals, widths, right, strict=True)
        ).rstrip()

    out = [line(columns, align=False), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def write_result(
    cur: duckdb.DuckDBPyConnection,
    fmt: str,
    out: TextIO,
    *,
    output: str | None = None,
    max_width: int = 60,
    max_rows: int = 1000,
) -> str | None:
    """Write the result of ``cur`` as ``fmt``; returns a note for stderr (rows cut, file written) or None."""
    if cur.description is None:
        return None
    columns = [d[0] for d in cur.description]
    if fmt == "parquet":
        raise QueryError("parquet output is written by export_parquet()")
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            write_result(cur, fmt, fh, max_width=max_width, max_rows=0)
        return f"wrote {output}"
    if fmt == "table":
        rows = cur.fetchmany(max_rows + 1) if max_rows else cur.fetchall()
        cut = bool(max_rows) and len(rows) > max_rows
        rows = rows[:max_rows] if cut else rows
        out.write(format_table(columns, rows, max_width) + "\n")
        more = " (more not shown: --max-rows 0 shows all, --format csv exports all)" if cut else ""
        out.write(f"({len(rows)} row{'s' if len(rows) != 1 else ''}{more})\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(columns)
        while batch := cur.fetchmany(10_000):
            w.writerows(batch)
    elif fmt == "json":
        records = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
        json.dump(records, out, default=str, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        raise QueryError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return None


def export_parquet(con: duckdb.DuckDBPyConnection, sql: str, output: str | None) -> str:
    """Write the result of ``sql`` to ``output`` as zstd Parquet, streamed by DuckDB; returns a note."""
    import pyarrow.parquet as pq

    if not output:
        raise QueryError("--format parquet needs --output FILE")
    try:
        rel = con.sql(sql)
        if rel is None:
            raise QueryError("the query returns no result to write")
        rel.write_parquet(output, compression="zstd")
    except duckdb.Error as exc:
        raise QueryError(explain_error(con, exc, sql)) from exc
    return f"wrote {pq.ParquetFile(output).metadata.num_rows} rows to {output}"


# -------------------------------------------------------------------------------------------------- shell

_HELP = """Type SQL ending with ';' (several lines are fine). Commands:
  .tables            the views
  .schema [VIEW]     columns of every view (or of VIEW) with descriptions
  .mode table|csv|json
  .help              this text
  .quit              leave (or Ctrl-D)
Examples are in docs/queries.md; the data dictionary is docs/data-dictionary.md."""


def _schema(con: duckdb.DuckDBPyConnection, view: str | None) -> str:
    out = []
    for name, comment, cols in describe_views(con):
        if view and name != view:
            continue
        out.append(f"{name}: {comment or ''}")
        for col, ctype, desc in cols:
            out.append(f"  {col:<28} {ctype:<28} {desc or ''}")
    return "\n".join(out) if out else f"no view named {view!r}"


def repl(con: duckdb.DuckDBPyConnection, stdin: TextIO, stdout: TextIO, prompt: bool = True) -> int:
    """A small SQL shell over the catalog (used when the duckdb CLI is not installed)."""
    mode = "table"
    buf: list[str] = []
    interactive = prompt and stdin.isatty()
    if interactive:
        try:
            import readline  # noqa: F401  (line editing and history for input())
        except ImportError:
            pass
    stdout.write("cablelake shell (read-only). .help for help, .quit to leave.\n")
    while True:
        ps = "...> " if buf else "cablelake> "
        try:
            if interactive:
                line = input(ps)
            else:
                line = stdin.readline()
                if not line:
                    break
        except EOFError:
            break
        except KeyboardInterrupt:
            buf = []
            stdout.write("\n")
            continue
        text = line.strip()
        if not buf and text.startswith("."):
            cmd, _, arg = text.partition(" ")
            if cmd in (".quit", ".exit", ".q"):
                break
            elif cmd == ".help":
                stdout.write(_HELP + "\n")
            elif cmd == ".tables":
                stdout.write("  ".join(n for n, _, _ in describe_views(con)) + "\n")
            elif cmd == ".schema":
                stdout.write(_schema(con, arg.strip() or None) + "\n")
            elif cmd == ".mode" and arg.strip() in ("table", "csv", "json"):
                mode = arg.strip()
            else:
                stdout.write(f"unknown command {text!r}; .help lists them\n")
            continue
        buf.append(line.rstrip("\n"))
        if not text.endswith(";"):
            continue
        sql, buf = "\n".join(buf), []
        try:
            note = write_result(run_query(con, sql), mode, stdout)
            if note:
                stdout.write(note + "\n")
        except QueryError as exc:
            stdout.write(f"Error: {exc}\n")
        stdout.flush()
    return 0


def shell(lake: Path | str, *, use_cli: bool = True) -> int:
    """Open DuckDB's own shell on the catalog when the ``duckdb`` CLI is installed, else :func:`repl` (always
    for a lake on an object store: the catalog reads it through a filesystem only this process registers)."""
    con = open_catalog(lake)  # also (re)builds a missing or stale catalog
    exe = shutil.which("duckdb") if use_cli and not is_remote(lake) else None
    if exe:
        con.close()
        paths = LakePaths(Path(lake))  # the views' paths are relative to the lake root
        return subprocess.call([exe, "-readonly", "-cmd", search_path_sql(paths.root), str(paths.catalog)])
    try:
        return repl(con, sys.stdin, sys.stdout)
    finally:
        con.close()
