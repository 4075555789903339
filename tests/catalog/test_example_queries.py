"""Every SQL block of docs/queries.md runs, and returns rows, on a lake built from the real corpus."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from etl import catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"
BLOCK = re.compile(r"^```sql\n(.*?)^```", re.S | re.M)


def example_queries() -> list[tuple[str, str]]:
    """(title, sql) of every ```sql block, titled by the nearest heading above it."""
    text = DOC.read_text(encoding="utf-8")
    out = []
    for m in BLOCK.finditer(text):
        heads = re.findall(r"^#+ (.+)$", text[: m.start()], re.M)
        out.append((f"{len(out) + 1:02d} {heads[-1] if heads else 'query'}", m.group(1).strip()))
    return out


QUERIES = example_queries()


def test_the_doc_has_the_promised_examples() -> None:
    titles = " ".join(t for t, _ in QUERIES)
    for topic in ("Top TAGS per year", "citing a given cable", "NOFORN share by post", "Quarantine reasons",
                  "Declassification due per year"):
        assert topic in titles


@pytest.mark.corpus
@pytest.mark.parametrize(("title", "sql"), QUERIES, ids=[t for t, _ in QUERIES])
def test_example_query_runs_on_the_corpus_lake(lake_from_corpus: Path, title: str, sql: str) -> None:
    con = catalog.connect(lake_from_corpus)
    try:
        t0 = time.perf_counter()
        rows = con.execute(sql).fetchall()
        elapsed = time.perf_counter() - t0
    finally:
        con.close()
    assert rows, f"{title}: no rows on the corpus lake"
    assert elapsed < 5, f"{title}: {elapsed:.2f}s"


def test_example_queries_run_on_an_empty_lake(tmp_path: Path) -> None:
    """The views exist and have their columns even before the first run."""
    con = catalog.connect(tmp_path)
    try:
        for _, sql in QUERIES:
            con.execute(sql).fetchall()
    finally:
        con.close()
