"""Search stage: the full-text index the lake keeps (``<lake>/_search/``, tantivy) and its query language.

After the catalog, before the apps: it reads the lake through its version and the ``cables`` view only.

* :func:`sync` brings the index to the lake's current version (the pipeline calls it after every publish
  and in crash recovery, under the lake lock); incremental: adds new cables, replaces cables whose kept
  copy changed, deletes removed ones, in one atomic tantivy commit that also records the version.
* :func:`search` runs a query and returns hits (id, date, origin, subject, score, snippet with highlights),
  the total and facets (counts per year, classification, origin and TAG over all hits). A search opens the
  index only at the lake's version; an index left behind by a crash is caught up first.
* :func:`parse` and :class:`QueryError`: the language (words, "phrases", AND/OR/NOT, parentheses, word*,
  tag:PGOV, origin:"Embassy Moscow", classification:SECRET, id:07MOSCOW5349, ref:ID, sent:2007-01..2007-12).
"""

from etl.search._index import SyncResult, index_dir, index_ids, lake_version, sync
from etl.search._query import FIELDS, QueryError, parse
from etl.search._search import (
    SORTS,
    Hit,
    Searcher,
    SearchResult,
    SearchUnavailable,
    Snapshot,
    check,
    search,
    searcher_for,
)
from etl.search._sql import register_sql

__all__ = [
    "FIELDS",
    "SORTS",
    "Hit",
    "QueryError",
    "SearchResult",
    "SearchUnavailable",
    "Searcher",
    "Snapshot",
    "SyncResult",
    "check",
    "index_dir",
    "index_ids",
    "lake_version",
    "parse",
    "register_sql",
    "search",
    "searcher_for",
    "sync",
]
