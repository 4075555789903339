"""``search('query')`` inside SQL: a table macro over a Python function of the catalog connection.

DuckDB's Python API has scalar UDFs but no Python table functions, so the UDF returns the hits as one
list of structs and a temporary table macro unnests it::

    select c.reference_id, c.subject, s.score
    from search('tag:PGOV AND moscow') s join cables c using (reference_id)
    order by s.rank

``search(q)`` gives up to :data:`SQL_LIMIT` hits; ``search(q, n)`` up to ``n`` (at most :data:`SQL_MAX`).
Columns: ``reference_id``, ``rank`` (1 = best), ``score`` (BM25; 0 with ``sort := 'date'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etl.search._query import QueryError
from etl.search._search import searcher_for

SQL_LIMIT = 10_000
SQL_MAX = 100_000
_UDF = "__cablelake_search"
_TYPE = "STRUCT(reference_id VARCHAR, rank INTEGER, score DOUBLE)[]"


def register_sql(con: Any, lake: Path | str) -> None:
    """Define ``search(query [, n] [, sort := 'relevance'|'date'|'oldest'])`` on ``con`` (temporary)."""
    searcher = searcher_for(lake)

    def run(query: str, n: int, sort: str) -> list[dict[str, Any]]:
        if query is None:
            return []
        if n is None or not 1 <= int(n) <= SQL_MAX:
            raise QueryError(f"search(query, n): n must be between 1 and {SQL_MAX}")
        res = searcher.search(query, limit=int(n), sort=sort or "relevance", facets=False, snippets=False)
        return [{"reference_id": h.reference_id, "rank": i, "score": h.score} for i, h in enumerate(res.hits, 1)]

    con.create_function(_UDF, run, ["VARCHAR", "BIGINT", "VARCHAR"], _TYPE, side_effects=True)
    con.execute(
        f"CREATE OR REPLACE TEMP MACRO search(q, n := {SQL_LIMIT}, sort := 'relevance') AS TABLE "
        f"SELECT h.reference_id, h.rank, h.score FROM (SELECT unnest({_UDF}(q, n, sort)) AS h)"
    )
