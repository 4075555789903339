"""``cablelake`` command line: the same stages as the nightly DAG, without a scheduler."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEFAULT_LAKE = os.environ.get("CABLELAKE_LAKE", "lake")


def _print_summary(s: dict[str, Any]) -> None:
    out = sys.stdout
    out.write(f"run {s['run_id']} -> {s['lake']}\n")
    out.write(f"  records in   {s['records_found']:>8}\n")
    out.write(f"  cables       {s['cables']:>8}\n")
    out.write(f"  quarantined  {s['quarantined']:>8}\n")
    if s["per_format"]:
        out.write("  per format:  " + ", ".join(f"{k} {v}" for k, v in sorted(s["per_format"].items())) + "\n")
    for reason, n in s["per_reason"].items():
        out.write(f"    quarantine reason {reason}: {n}\n")
    warnings = {k: v for k, v in s.get("per_rule", {}).items() if v.get("failed") and v.get("severity") == "warning"}
    for rule, st in warnings.items():
        out.write(f"    warning {rule}: {st['failed']}\n")
    t = s["timings"]
    out.write("  time         " + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()) + "\n")
    if s.get("quality_docs"):
        out.write(f"  data docs    {s['quality_docs']}\n")


def cmd_run(args: argparse.Namespace) -> int:
    from etl.pipeline import ReconciliationError, run

    try:
        summary = run(args.sources, args.lake)
    except ReconciliationError as exc:
        sys.stderr.write(f"cablelake: run cannot be trusted: {exc}\n")
        return 3
    if args.json:
        json.dump(summary.to_dict(), sys.stdout, default=str, indent=2)
        sys.stdout.write("\n")
    else:
        _print_summary(summary.to_dict())
    return 0


def _format_table(columns: list[str], rows: list[tuple[Any, ...]], max_width: int = 60) -> str:
    def cell(v: Any) -> str:
        s = "NULL" if v is None else str(v)
        s = s.replace("\n", "\\n")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[cell(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda vals: " | ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True))  # noqa: E731
    out = [line(columns), "-+-".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)


def cmd_sql(args: argparse.Namespace) -> int:
    import duckdb

    from etl.catalog import connect

    query = Path(args.file).read_text(encoding="utf-8") if args.file else args.query
    if not query:
        sys.stderr.write("cablelake sql: give a QUERY or --file FILE\n")
        return 2
    con = connect(args.lake, read_only=True)
    try:
        try:
            cur = con.execute(query)
        except duckdb.Error as exc:
            sys.stderr.write(f"cablelake sql: {exc}\n")
            return 1
        if cur.description is None:
            return 0
        columns = [d[0] for d in cur.description]
        if args.format == "table":
            sys.stdout.write(_format_table(columns, cur.fetchall(), args.max_width) + "\n")
        elif args.format == "csv":
            import csv

            w = csv.writer(sys.stdout)
            w.writerow(columns)
            w.writerows(cur.fetchall())
        elif args.format == "json":
            rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
            json.dump(rows, sys.stdout, default=str, indent=2)
            sys.stdout.write("\n")
        elif args.format == "parquet":
            import pyarrow.parquet as pq

            if not args.output:
                sys.stderr.write("cablelake sql: --format parquet needs --output FILE\n")
                return 2
            pq.write_table(cur.to_arrow_table(), args.output, compression="zstd")
            sys.stdout.write(f"wrote {args.output}\n")
    finally:
        con.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cablelake", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="ingest dumps into the lake and print a summary")
    r.add_argument("sources", nargs="+", help="dump files, directories, globs or URLs")
    r.add_argument("--lake", default=DEFAULT_LAKE, help="lake directory (default ./lake or $CABLELAKE_LAKE)")
    r.add_argument("--json", action="store_true", help="print the run summary as JSON")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("sql", help="run a SQL query against the lake's DuckDB catalog")
    s.add_argument("query", nargs="?", help="SQL text")
    s.add_argument("--file", "-f", help="read the query from FILE")
    s.add_argument("--lake", default=DEFAULT_LAKE)
    s.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    s.add_argument("--output", "-o", help="output file (for --format parquet)")
    s.add_argument("--max-width", type=int, default=60, help="truncate table cells to this width")
    s.set_defaults(func=cmd_sql)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    rc: int = args.func(args)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
