"""Searching: open the index at the lake's version (repairing it when behind), run a query, facets, snippets."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.lake import remote_uri
from etl.search._index import (
    SCHEMA_VERSION,
    analyze,
    fold,
    index_dir,
    lake_version,
    open_index,
    read_meta,
    read_rows,
    sync,
)
from etl.search._query import QueryError, Translator, highlight_terms, parse

SORTS = ("relevance", "date", "oldest")
MAX_LIMIT = 500  # hits per call with snippets
MAX_IDS = 100_000  # hits per call without snippets (ids for SQL)
MAX_OFFSET = 10_000
FACETS: dict[str, tuple[str, int]] = {  # facet -> (fast field, how many values)
    "year": ("year", 60),
    "classification": ("f_class", 20),
    "origin": ("f_origin", 25),
    "tag": ("f_tag", 30),
}
SNIPPET_CHARS = 240
_SPACES = re.compile(r"\s+")
MAX_SNIPPET_TEXT = 30_000
_FIRST_PARA = re.compile(r"(?m)^\s*1\.\s")  # where the numbered paragraphs start (after TAGS, SUBJECT, REF)


class SearchUnavailable(RuntimeError):
    """The index does not match the lake and could not be brought up to date in time."""


@contextmanager
def _writer_lock(lake: Path | str, timeout: float) -> Iterator[None]:
    """The lake's writer lock (the index is written by the lake's one writer only)."""
    from etl.lake import lake_lock

    with lake_lock(lake, what="cablelake search (index catch-up)", timeout=timeout):
        yield


@dataclass
class Hit:
    reference_id: str
    score: float
    sent_at: datetime | None
    year: int | None
    origin: str | None
    classification: str | None
    subject: str | None
    tags: list[str]
    snippet: str = ""  # plain text fragment
    highlights: list[tuple[int, int]] = field(default_factory=list)  # [start, end) in snippet
    file: str = field(default="", repr=False)  # where the row is in the lake (lake-relative Parquet file)
    row: int = field(default=-1, repr=False)  # and its position in that file (not part of to_dict)

    def snippet_marked(self, left: str = "**", right: str = "**") -> str:
        """The snippet with the hit words between ``left`` and ``right``."""
        out, pos = [], 0
        for a, b in self.highlights:
            out += [self.snippet[pos:a], left, self.snippet[a:b], right]
            pos = b
        out.append(self.snippet[pos:])
        return "".join(out)

    def snippet_html(self) -> str:
        """The snippet as HTML: every character escaped, hit words in ``<mark>``."""
        out, pos = [], 0
        for a, b in self.highlights:
            out += [html.escape(self.snippet[pos:a]), "<mark>", html.escape(self.snippet[a:b]), "</mark>"]
            pos = b
        out.append(html.escape(self.snippet[pos:]))
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_id": self.reference_id,
            "score": round(self.score, 4),
            "sent_at": self.sent_at.isoformat() if self.sent_at else None,
            "origin": self.origin,
            "classification": self.classification,
            "subject": self.subject,
            "tags": self.tags,
            "snippet": self.snippet,
            "highlights": [list(h) for h in self.highlights],
        }


@dataclass
class SearchResult:
    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]]
    version: str
    seconds: float
    offset: int = 0
    sort: str = "relevance"


class Searcher:
    """A reader of one lake's index, reused across searches (the web app keeps one): it follows the lake's
    version, reloading the index when a publish moved it, and repairs the index when it is behind."""

    def __init__(self, lake: Path | str, *, repair: bool = True, wait: float = 30.0) -> None:
        self.lake: Path | str = remote_uri(lake) or Path(lake)  # (Path() would make s3://b/x s3:/b/x)
        self.repair = repair
        self.wait = wait
        self._index: Any = None
        self._version: str | None = None
        self._lock = threading.Lock()

    def current(self) -> tuple[Any, str]:
        """(index, version) matching the lake's current version."""
        with self._lock:
            version = lake_version(self.lake)
            if self._index is not None and version == self._version:
                return self._index, version
            deadline = time.monotonic() + self.wait
            problem = ""
            while True:
                path = index_dir(self.lake)
                index = open_index(path)
                meta = read_meta(index, path) if index is not None else {}
                version = lake_version(self.lake)
                if index is not None and meta.get("version") == version and meta.get("schema") == SCHEMA_VERSION:
                    self._index, self._version = index, version
                    return index, version
                if self.repair:
                    from etl.lake import LakeLockedError

                    try:
                        with _writer_lock(self.lake, timeout=0):
                            sync(self.lake)
                        continue
                    except LakeLockedError:
                        pass  # a writer is at work: it brings the index up to date itself
                    except OSError as exc:  # a lake this process cannot write: wait for its writer
                        problem = f" ({exc})"
                if time.monotonic() > deadline:
                    raise SearchUnavailable(
                        f"the search index of {self.lake} is at {meta.get('version') or 'nothing'} but the lake "
                        f"is at {version}{problem}; run `cablelake run` (or wait for the running one) to bring it "
                        "up to date"
                    )
                time.sleep(0.1)

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        offset: int = 0,
        sort: str = "relevance",
        facets: bool = True,
        snippets: bool = True,
    ) -> SearchResult:
        t0 = time.perf_counter()
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
        cap = MAX_LIMIT if snippets else MAX_IDS
        if not 0 <= limit <= cap:
            raise QueryError(f"limit must be between 0 and {cap}" + (" (without snippets)" if not snippets else ""))
        if not 0 <= offset <= MAX_OFFSET:
            raise QueryError(f"offset must be between 0 and {MAX_OFFSET}")
        tree = parse(query)
        index, version = self.current()
        import tantivy as t

        tr = Translator(index.schema, analyze, fold)
        q = t.Query.boolean_query(
            [(t.Occur.Must, tr.build(tree)), (t.Occur.Must, t.Query.term_query(index.schema, "kind", "cable"))]
        )
        searcher = index.searcher()
        n = max(limit, 1)  # tantivy wants a limit > 0: a count-only search asks for one hit and drops it
        if sort == "relevance":
            res = searcher.search(q, n, count=True, offset=offset)
        else:
            order = t.Order.Desc if sort == "date" else t.Order.Asc
            res = searcher.search(q, n, count=True, order_by_field="sent", offset=offset, order=order)
        hits = [self._hit(searcher, key, addr, sort) for key, addr in res.hits[:limit]]
        if snippets and hits:
            self._snippets(index, searcher, q, hits, tree)
        fac = self._facets(searcher, q) if facets else {}
        return SearchResult(query, int(res.count or 0), hits, fac, version, time.perf_counter() - t0, offset, sort)

    @staticmethod
    def _hit(searcher: Any, key: Any, addr: Any, sort: str) -> Hit:
        d = searcher.doc(addr)
        sent = d.get_first("sent")
        if isinstance(sent, datetime) and sent.tzinfo is None:
            sent = sent.replace(tzinfo=UTC)
        return Hit(
            reference_id=str(d.get_first("key")),
            score=float(key) if sort == "relevance" else 0.0,
            sent_at=sent,
            year=d.get_first("year"),
            origin=d.get_first("f_origin"),
            classification=d.get_first("f_class"),
            subject=d.get_first("subject"),
            tags=[str(x) for x in d.get_all("f_tag")],
            file=str(d.get_first("file") or ""),
            row=int(d.get_first("row") or 0),
        )

    def _snippets(self, index: Any, searcher: Any, q: Any, hits: list[Hit], tree: Any) -> None:
        """Cut each hit's snippet from its body, read from the lake by a point lookup (the row group of the
        file and row the index names; the index keeps no copy of the text).

        tantivy's snippet generator tokenizes all the text it is given, which costs milliseconds on a long
        cable: it is given a window around the first place a query word seems to be (found with a regex
        on the words' stems), and the whole text only when that finds nothing."""
        import tantivy as t

        gen = t.SnippetGenerator.create(searcher, q, index.schema, "body")
        gen.set_max_num_chars(SNIPPET_CHARS)
        near = _near_pattern(tree)

        def cut(text: str) -> tuple[str, list[tuple[int, int]]] | None:
            doc = t.Document()
            doc.add_text("body", text)
            snip = gen.snippet_from_doc(doc)
            if not snip.highlighted():
                return None
            frag = snip.fragment()
            return frag, _char_ranges(frag, [(r.start, r.end) for r in snip.highlighted()])

        bodies = self.rows(hits, ["body"])
        for h in hits:
            body = bodies.get((h.file, h.row), {}).get("body") or ""
            if not body:
                continue
            start = _FIRST_PARA.search(body)
            paras = body[start.start():] if start else body
            got = None
            if near is not None:  # else the query has no word of the text to show (TAG, id, date...)
                m = near.search(paras) or (near.search(body) if start else None)
                if m is not None:
                    text = m.string
                    a = max(0, m.start() - SNIPPET_CHARS // 2)
                    if a:  # start at a word
                        a = next((i + 1 for i in range(a, m.start()) if text[i].isspace()), m.start())
                    window = text[a: m.start() + 2 * SNIPPET_CHARS]
                    got = cut(window) or _regex_marks(window, near)  # prefixes: tantivy marks no word
                else:
                    got = cut(paras[:MAX_SNIPPET_TEXT])
            if got is not None:
                h.snippet, h.highlights = got
            else:  # no word of the query is in the text (a hit on the subject, a TAG...): the opening lines
                h.snippet = " ".join(paras[: SNIPPET_CHARS * 2].split())[:SNIPPET_CHARS]
            # snippets are for reading: collapse the telegram's line breaks (offsets move with them)
            h.snippet, h.highlights = _squeeze(h.snippet, h.highlights)

    def rows(self, hits: list[Hit], columns: list[str] | None = None) -> dict[tuple[str, int], dict[str, Any]]:
        """The lake rows of ``hits`` (``columns`` of them; all when None), by ``(file, row)``."""
        from etl.lake import LakePaths

        return read_rows(LakePaths(Path(self.lake)).lake, [(h.file, h.row) for h in hits if h.file], columns)

    @staticmethod
    def _facets(searcher: Any, q: Any) -> dict[str, list[tuple[str, int]]]:
        agg = {name: {"terms": {"field": fld, "size": size}} for name, (fld, size) in FACETS.items()}
        res = searcher.aggregate(q, agg)
        out: dict[str, list[tuple[str, int]]] = {}
        for name in FACETS:
            buckets = (res.get(name) or {}).get("buckets") or []
            vals = [(str(b["key"]) if not isinstance(b["key"], float) else str(int(b["key"])), int(b["doc_count"]))
                    for b in buckets]
            if name == "year":
                vals.sort()
            out[name] = vals
        return out


def _near_pattern(tree: Any) -> re.Pattern[str] | None:
    """A regex finding where the query's body words probably are: each word's stem (or prefix) at a word
    start, case-insensitive; None when the query has no such word (TAG, id, date queries...)."""
    stems: set[str] = set()
    for leaf in highlight_terms(tree):
        if leaf.field not in (None, "body"):
            continue
        words = [fold(leaf.text)] if leaf.op == "prefix" else analyze(leaf.text)
        for w in words:
            stems.add(w[:-1] if len(w) > 4 else w)  # stems may end otherwise in the text (polici: policy)
    if not stems:
        return None
    alts = "|".join(sorted((re.escape(w) for w in stems), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})", re.IGNORECASE)


def _regex_marks(text: str, near: re.Pattern[str]) -> tuple[str, list[tuple[int, int]]] | None:
    """The first SNIPPET_CHARS of ``text`` with the words ``near`` finds marked (whole words)."""
    frag = text[:SNIPPET_CHARS]
    marks = []
    for m in near.finditer(frag):
        end = m.end()
        while end < len(frag) and frag[end].isalnum():
            end += 1
        marks.append((m.start(), end))
    return (frag, marks) if marks else None


def _char_ranges(text: str, byte_ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """tantivy's highlight offsets count UTF-8 bytes; Python slices count characters."""
    raw = text.encode("utf-8")

    def char(b: int) -> int:
        return len(raw[: max(0, min(b, len(raw)))].decode("utf-8", errors="ignore"))

    return [(char(a), char(b)) for a, b in byte_ranges if b > a]


def _squeeze(text: str, ranges: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int]]]:
    """Runs of whitespace -> one space (ends trimmed), with the highlight ranges moved to match."""
    cuts: list[tuple[int, int]] = []  # (old offset where a run ends, characters removed up to there)
    removed = 0
    pieces: list[str] = []
    pos = 0
    for m in _SPACES.finditer(text):
        a, b = m.span()
        keep = 0 if a == 0 or b == len(text) else 1
        pieces += [text[pos:a], " " * keep]
        removed += (b - a) - keep
        cuts.append((b, removed))
        pos = b
    pieces.append(text[pos:])

    def moved(i: int) -> int:
        shift = 0
        for end, total in cuts:
            if end <= i:
                shift = total
            else:
                break
        return max(i - shift, 0)

    return "".join(pieces), [(moved(a), moved(b)) for a, b in ranges]


_SEARCHERS: dict[str, Searcher] = {}
_SEARCHERS_LOCK = threading.Lock()


def searcher_for(lake: Path | str) -> Searcher:
    """One :class:`Searcher` per lake per process."""
    key = remote_uri(lake) or str(Path(lake).resolve())
    with _SEARCHERS_LOCK:
        if key not in _SEARCHERS:
            _SEARCHERS[key] = Searcher(lake)
        return _SEARCHERS[key]


def search(lake: Path | str, query: str, **kwargs: Any) -> SearchResult:
    """Search the lake's cables (see ``etl.search`` for the language); raises QueryError on a bad query."""
    return searcher_for(lake).search(query, **kwargs)


def check(lake: Path | str) -> dict[str, Any]:
    """Is the index at the lake's version? ``{"lake": ..., "index": ..., "current": bool}``."""
    path = index_dir(lake)
    index = open_index(path)
    meta = read_meta(index, path) if index is not None else {}
    lv = lake_version(lake)
    current = meta.get("version") == lv and meta.get("schema") == SCHEMA_VERSION
    return {"lake": lv, "index": meta.get("version"), "docs": meta.get("docs"), "current": current}
