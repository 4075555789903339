"""Stages flow one way: etl.search comes after the catalog and before the pipeline, the web app and the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

ETL = Path(__file__).resolve().parents[2] / "etl"
LATER = ("etl.pipeline", "etl.web", "etl.cli", "etl.query", "etl.dashboard")
MAY_IMPORT_SEARCH = ("pipeline", "web", "cli.py", "query.py")


def imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_search_imports_nothing_later() -> None:
    for f in (ETL / "search").glob("*.py"):
        bad = {m for m in imports(f) if m.startswith(LATER)}
        assert not bad, (f.name, bad)


def test_only_later_stages_import_search() -> None:
    for f in ETL.rglob("*.py"):
        rel = f.relative_to(ETL)
        if rel.parts[0] in ("search",) or rel.parts[0] in MAY_IMPORT_SEARCH:
            continue
        assert not {m for m in imports(f) if m.startswith("etl.search")}, rel
        assert "from etl import search" not in f.read_text(encoding="utf-8"), rel


def test_web_is_imported_by_the_cli_only() -> None:
    for f in ETL.rglob("*.py"):
        rel = f.relative_to(ETL)
        if rel.parts[0] in ("web",) or rel.name == "cli.py":
            continue
        assert not {m for m in imports(f) if m.startswith("etl.web")}, rel
