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


def _fail(message: str, code: int) -> int:
    """Write ``message`` (``cablelake <command>: why``) to standard error and give ``code``, the exit code."""
    sys.stderr.write(message + "\n")
    return code


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
    for f in s.get("failed_dumps") or []:
        out.write(f"  FAILED dump  {f['uri']}: {f['error']} (not ingested: the next run reads it again)\n")
    t = s["timings"]
    out.write("  time         " + ", ".join(f"{k} {v:.2f}s" for k, v in t.items()) + "\n")
    if s.get("quality_docs"):
        out.write(f"  data docs    {s['quality_docs']}\n")


def _missing_sources(sources: list[str]) -> list[str]:
    """Local sources that name nothing (a typo must not look like a quiet night with no new dumps)."""
    import glob

    from etl.sources._discover import is_remote

    missing = []
    for src in sources:
        path = os.path.expanduser(src)
        if is_remote(src):
            continue
        if any(ch in path for ch in "*?[") and glob.glob(path, recursive=True):
            continue
        if not os.path.exists(path):
            missing.append(src)
    return missing


def _run_failure(exc: Exception) -> int | None:
    """The exit code and message of a run that failed in a way the user must hear about (None: a bug, raise).
    Imported only once a run failed: a run with nothing to do must not load the stages it does not use."""
    from etl.lake import LakeLockedError, SchemaMismatchError
    from etl.pipeline import NothingToRefreshError, ReconciliationError
    from etl.validate import ThresholdExceeded

    if isinstance(exc, ReconciliationError):
        return _fail(f"cablelake: run cannot be trusted: {exc}", 3)
    if isinstance(exc, ThresholdExceeded):
        return _fail(f"cablelake: run failed its data-quality thresholds, nothing published: {exc}", 6)
    if isinstance(exc, LakeLockedError):
        return _fail(f"cablelake: {exc}", 4)
    if isinstance(exc, (SchemaMismatchError, NothingToRefreshError)):
        return _fail(f"cablelake: {exc}", 5)
    return None


def cmd_run(args: argparse.Namespace) -> int:
    from etl.pipeline import run

    if not args.sources and not args.replay_quarantine:
        sys.stderr.write("cablelake run: give dump files/directories (or --replay-quarantine)\n")
        return 2
    missing = _missing_sources(args.sources)
    for src in missing:
        sys.stderr.write(f"cablelake run: {src}: no such file or directory (or the glob matched nothing)\n")
    if args.sources and len(missing) == len(args.sources):
        return 2
    for item in args.limit or []:
        name, sep, value = item.partition("=")
        from etl.sources import Limits

        known = set(Limits.__dataclass_fields__)
        if not sep or name.strip() not in known:
            sys.stderr.write(f"cablelake run: --limit takes NAME=VALUE with NAME one of {sorted(known)}\n")
            return 2
        os.environ[f"CABLELAKE_LIMIT_{name.strip().upper()}"] = value.strip()
    try:
        summary = run(
            args.sources,
            args.lake,
            full_refresh=args.full_refresh,
            replay_quarantine=args.replay_quarantine,
            lock_timeout=args.lock_timeout,
            rehash=args.rehash,
        )
    except Exception as exc:
        code = _run_failure(exc)
        if code is None:
            raise
        return code
    if args.json:
        json.dump(summary.to_dict(), sys.stdout, default=str, indent=2)
        sys.stdout.write("\n")
    else:
        s = summary.to_dict()
        _print_summary(s)
        sys.stdout.write(
            f"  lake         v{s['lake_version']} ({s['operation']}): {s['lake_cables']} cables, "
            f"{s['lake_quarantine']} quarantined; {s['duplicates']} duplicate copies, {s['displaced']} displaced, "
            f"{s['replayed']} replayed\n"
        )
        if s["skipped"]:
            sys.stdout.write(f"  skipped      {len(s['skipped'])} dump(s) already ingested or repeated\n")
    return 0


def cmd_compact(args: argparse.Namespace) -> int:
    from etl.lake import LakeLockedError
    from etl.pipeline import compact_lake

    try:
        result = compact_lake(args.lake, threshold=args.threshold, lock_timeout=args.lock_timeout)
    except LakeLockedError as exc:
        return _fail(f"cablelake: {exc}", 4)
    merged = result["merged"]
    sys.stdout.write(
        f"lake v{result['version']}: " + (", ".join(f"{k} {n} files -> 1" for k, n in sorted(merged.items()))
                                          if merged else "nothing to compact") + "\n"
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from etl.lake import LakeLockedError, migrate

    try:
        result = migrate(args.lake)
    except LakeLockedError as exc:
        return _fail(f"cablelake: {exc}", 4)
    if not result["migrated"]:
        sys.stdout.write(f"{args.lake}: nothing to migrate (already a Delta lake, or no lake)\n")
        return 0
    rows = ", ".join(f"{t} {n}" for t, n in result["rows"].items())
    sys.stdout.write(f"{args.lake}: migrated to Delta tables at lake version {result['version']} ({rows}; "
                     f"{result['dumps']} dumps in the manifest)\n")
    return 0


def cmd_vacuum(args: argparse.Namespace) -> int:
    from etl.lake import LakeLockedError
    from etl.pipeline import vacuum_lake

    try:
        result = vacuum_lake(args.lake, keep_days=args.keep_days, dry_run=args.dry_run, lock_timeout=args.lock_timeout)
    except LakeLockedError as exc:
        return _fail(f"cablelake: {exc}", 4)
    verb = "would remove" if args.dry_run else "removed"
    sys.stdout.write(f"{args.lake}: {verb} {len(result['files'])} data files and {len(result['quality'])} "
                     f"_quality folders; time travel kept from lake version {result['kept_from']}\n")
    for name in [*result["files"], *result["quality"]] if args.verbose or args.dry_run else []:
        sys.stdout.write(f"  {name}\n")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from etl.query import QueryError, export_parquet, open_catalog, run_query, write_result

    if args.file:
        query = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    else:
        query = args.query
    if not query or not query.strip():
        sys.stderr.write("cablelake sql: give a QUERY or --file FILE (- reads standard input)\n")
        return 2
    try:
        con = open_catalog(args.lake, as_of=args.as_of)
        try:
            if args.format == "parquet":
                note: str | None = export_parquet(con, query, args.output)
            else:
                note = write_result(
                    run_query(con, query), args.format, sys.stdout,
                    output=args.output, max_width=args.max_width, max_rows=args.max_rows,
                )
        finally:
            con.close()
    except QueryError as exc:
        return _fail(f"cablelake sql: {exc}", 1)
    if note:
        sys.stderr.write(note + "\n")
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    from etl.query import QueryError, shell

    try:
        return shell(args.lake, use_cli=not args.builtin)
    except QueryError as exc:
        return _fail(f"cablelake shell: {exc}", 1)


def _no_lake(command: str, lake: str) -> str | None:
    """Why ``--lake`` names no lake to read (a missing folder, an object-store prefix where nothing was
    published, a store that does not answer), as ``cablelake <command>: ...``; None when it is a lake."""
    from etl.catalog import LakeNotFoundError, require_lake

    try:
        require_lake(lake)
    except LakeNotFoundError as exc:
        return f"cablelake {command}: {exc}"
    return None


def cmd_search(args: argparse.Namespace) -> int:
    import csv

    from etl.query import format_table
    from etl.search import QueryError, SearchUnavailable, search

    problem = _no_lake("search", args.lake)
    if problem:
        return _fail(problem, 1)
    try:
        res = search(args.lake, args.query, limit=args.limit, offset=args.offset, sort=args.sort,
                     facets=args.facets or args.format == "json")
    except QueryError as exc:
        return _fail(f"cablelake search: bad query: {exc}", 2)
    except SearchUnavailable as exc:
        return _fail(f"cablelake search: {exc}", 1)
    except OSError as exc:  # the lake went away, or its object store stopped answering, mid-search
        return _fail(f"cablelake search: cannot read the lake at {args.lake}: {exc}", 1)
    out = sys.stdout
    cols = ["reference_id", "sent_at", "origin", "subject", "score", "snippet"]
    if args.format == "json":
        json.dump({"query": res.query, "total": res.total, "offset": res.offset, "sort": res.sort,
                   "lake_version": res.version, "hits": [h.to_dict() for h in res.hits],
                   "facets": {k: [{"value": v, "count": n} for v, n in vals] for k, vals in res.facets.items()}},
                  out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    rows = [(h.reference_id, h.sent_at.date().isoformat() if h.sent_at else None, h.origin, h.subject,
             round(h.score, 3), h.snippet_marked()) for h in res.hits]
    if args.format == "csv":
        w = csv.writer(out)
        w.writerow(cols)
        w.writerows(rows)
        return 0
    out.write(format_table(cols, rows, max_width=args.max_width) + "\n")
    shown = f"{res.offset + 1}-{res.offset + len(res.hits)}" if res.hits else "none"
    out.write(f"({res.total} hit{'s' if res.total != 1 else ''}; showing {shown}; {res.seconds * 1000:.0f} ms)\n")
    for name, vals in res.facets.items():
        out.write(f"  {name}: " + ", ".join(f"{v} {n}" for v, n in vals[:12]) + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from etl.web import serve

    problem = _no_lake("serve", args.lake)
    if problem:
        return _fail(problem, 1)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(f"cablelake serve: note: listening on {args.host}, reachable from other machines\n")
    sys.stderr.write(f"reading room of {args.lake} on http://{args.host}:{args.port}/ (Ctrl-C stops it)\n")
    serve(args.lake, host=args.host, port=args.port)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import time

    from etl.dashboard import build

    problem = _no_lake("dashboard", args.lake)
    if problem:
        return _fail(problem, 1)
    t0 = time.perf_counter()
    index = build(args.lake, args.out)
    sys.stdout.write(f"dashboard written in {time.perf_counter() - t0:.2f}s: open {index.resolve().as_uri()}\n")
    return 0


def cmd_dictionary(args: argparse.Namespace) -> int:
    from etl.catalog import data_dictionary

    text = data_dictionary()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        sys.stderr.write(f"wrote {args.output}\n")
    else:
        sys.stdout.write(text)
    return 0


def build_parser() -> argparse.ArgumentParser:
    default_lake = os.environ.get("CABLELAKE_LAKE", "lake")  # read when the command runs, not at import
    p = argparse.ArgumentParser(prog="cablelake", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="ingest dumps into the lake and print a summary")
    r.add_argument("sources", nargs="*", help="dump files, directories, globs or URLs")
    r.add_argument("--lake", default=default_lake, help="lake directory (default ./lake or $CABLELAKE_LAKE)")
    r.add_argument("--json", action="store_true", help="print the run summary as JSON")
    r.add_argument(
        "--limit",
        action="append",
        metavar="NAME=VALUE",
        help="override a safety limit for hostile input, e.g. --limit max_depth=2 --limit max_record_bytes=16M "
        "(also $CABLELAKE_LIMIT_<NAME>; see README)",
    )
    r.add_argument(
        "--rehash", action="store_true",
        help="read and hash every local dump again instead of trusting the index of unchanged files (size, "
        "mtime, ctime, inode) that lets a rerun skip ingested dumps without reading them",
    )
    r.add_argument(
        "--full-refresh", action="store_true",
        help="ignore the manifest of ingested dumps: re-read every given dump and replace cables and "
        "quarantine with the result (also the way to migrate to an incompatible schema)",
    )
    r.add_argument(
        "--replay-quarantine", action="store_true",
        help="re-parse quarantined records and move those that now pass into cables",
    )
    r.add_argument(
        "--lock-timeout", type=float, default=None, metavar="SECONDS",
        help="wait this long for another run on the same lake to finish (default $CABLELAKE_LOCK_TIMEOUT or "
        "600; 0: refuse at once)",
    )
    r.set_defaults(func=cmd_run)

    c = sub.add_parser("compact", help="merge each lake partition's small files into one (atomic)")
    c.add_argument("--lake", default=default_lake, help="lake directory (default ./lake or $CABLELAKE_LAKE)")
    c.add_argument("--threshold", type=int, default=None, help="only partitions with more files than this")
    c.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS")
    c.set_defaults(func=cmd_compact)

    lake_help = "lake directory (default ./lake or $CABLELAKE_LAKE)"
    m = sub.add_parser("migrate", help="convert a lake of the former format (_current.json) to Delta tables, in place")
    m.add_argument("--lake", default=default_lake, help=lake_help)
    m.set_defaults(func=cmd_migrate)

    v = sub.add_parser("vacuum", help="delete files no kept lake version needs (and old _quality folders)")
    v.add_argument("--lake", default=default_lake, help=lake_help)
    v.add_argument("--keep-days", type=float, default=float(os.environ.get("CABLELAKE_KEEP_DAYS", "7")),
                   help="keep every lake version of the last D days readable (default $CABLELAKE_KEEP_DAYS or 7)")
    v.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")
    v.add_argument("--lock-timeout", type=float, default=None, metavar="SECONDS")
    v.set_defaults(func=cmd_vacuum)
    s = sub.add_parser(
        "sql", help="run SQL on the lake's DuckDB catalog (views: see `cablelake dictionary`)",
        description="Run SQL on the catalog's views (cables, cable_tags, cable_recipients, cable_references, "
        "cable_paragraphs, quarantine, runs). Examples: docs/queries.md.",
    )
    s.add_argument("query", nargs="?", help="SQL text")
    s.add_argument("--file", "-f", help="read the query from FILE (- for standard input)")
    s.add_argument("--lake", default=default_lake, help=lake_help)
    s.add_argument("--format", choices=["table", "csv", "json", "parquet"], default="table")
    s.add_argument("--output", "-o", help="write to FILE instead of standard output (needed for parquet)")
    s.add_argument("--max-width", type=int, default=60, help="truncate table cells to this width")
    s.add_argument("--max-rows", type=int, default=1000, help="rows shown by --format table (0: all)")
    s.add_argument(
        "--as-of", metavar="VERSION|TIMESTAMP",
        help="query the lake as it was at this lake version (runs.lake_version) or time (ISO 8601, UTC)",
    )
    s.set_defaults(func=cmd_sql)

    sh = sub.add_parser(
        "shell", help="interactive SQL on the catalog (DuckDB's shell when `duckdb` is installed, else a small one)"
    )
    sh.add_argument("--lake", default=default_lake, help=lake_help)
    sh.add_argument("--builtin", action="store_true", help="use cablelake's own shell even if `duckdb` exists")
    sh.set_defaults(func=cmd_shell)

    se = sub.add_parser(
        "search", help="full-text search of the cables (the lake's search index)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Search the lake's cables. The language:\n"
        "  words            all of them (stemmed: negotiations finds negotiated)\n"
        '  "a phrase"       the words in this order\n'
        "  A OR B, A AND B, NOT A, -A, ( )   boolean logic (AND is the default)\n"
        "  negotiat*        a prefix (at least 2 characters)\n"
        "  tag:PGOV  id:07MOSCOW5349  origin:\"Embassy Moscow\"  classification:SECRET  ref:07MOSCOW5112\n"
        "  subject:WORD  body:WORD  summary:WORD  comment:WORD\n"
        "  sent:2007  sent:2007-03  sent:2007-01..2007-12  sent:2009..\n"
        "Also in SQL: select * from search('tag:PGOV AND moscow') s join cables c using (reference_id)",
    )
    se.add_argument("query", help="the query, e.g. 'darfur AND tag:PGOV'")
    se.add_argument("--lake", default=default_lake, help=lake_help)
    se.add_argument("--limit", type=int, default=20, help="hits to print (default 20, at most 500)")
    se.add_argument("--offset", type=int, default=0, help="skip this many hits (paging)")
    se.add_argument("--sort", choices=["relevance", "date", "oldest"], default="relevance",
                    help="relevance (BM25), date (newest first) or oldest")
    se.add_argument("--format", choices=["table", "json", "csv"], default="table")
    se.add_argument("--facets", action="store_true", help="also print counts per year, classification, origin, TAG")
    se.add_argument("--max-width", type=int, default=50, help="truncate table cells to this width")
    se.set_defaults(func=cmd_search)

    sv = sub.add_parser("serve", help="the reading room: a local web app to search and read the lake (read-only)")
    sv.add_argument("--lake", default=default_lake, help=lake_help)
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    sv.set_defaults(func=cmd_serve)

    d = sub.add_parser("dashboard", help="write the static HTML dashboard of the lake (works offline)")
    d.add_argument("--lake", default=default_lake, help=lake_help)
    d.add_argument("--out", help="output folder (default <lake>/_dashboard; for a lake on an object store, in its "
                   "local work folder)")
    d.set_defaults(func=cmd_dashboard)

    dd = sub.add_parser("dictionary", help="print the data dictionary of the catalog's views (Markdown)")
    dd.add_argument("--output", "-o", help="write to FILE (docs/data-dictionary.md)")
    dd.set_defaults(func=cmd_dictionary)
    return p


class Terminated(SystemExit):
    """The run was asked to stop (SIGTERM): raised where it is, so that it unwinds as after Ctrl-C (the parse
    workers are stopped, the lake lock released; the lake keeps its last commit, the next run recovers)."""


def _terminate(signum: int, _frame: Any) -> None:
    raise Terminated(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    import signal
    import threading

    # (only as the process's own command, in its main thread: `serve`'s server installs its own when it starts)
    mine = threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    if mine:
        signal.signal(signal.SIGTERM, _terminate)
    try:
        rc: int = args.func(args)
    except BrokenPipeError:  # `cablelake sql ... | head`: the reader left, which is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        if mine:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
