"""Searching: open the index at the lake's version (repairing it when behind), run a query, facets, snippets."""

from __future__ import annotations

import html
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.lake import remote_uri
from etl.search._index import (
    SCHEMA_VERSION,
    analyze,
    first_para,
    fold,
    forms,
    index_dir,
    lake_version,
    open_index,
    read_meta,
    read_rows,
    split_lead,
    sync,
    words,
)
from etl.search._query import QueryError, Translator, highlight_terms, parse

SORTS = ("relevance", "date", "oldest")
MAX_LIMIT = 500  # hits per call with snippets
MAX_IDS = 100_000  # hits per call without snippets (ids for SQL)
MAX_OFFSET = 10_000
FORMS_KEPT = 4_096  # query words whose forms a searcher keeps (per lake version)
FACETS: dict[str, tuple[str, int]] = {  # facet -> (fast field, how many values)
    "year": ("year", 60),
    "classification": ("f_class", 20),
    "origin": ("f_origin", 25),
    "tag": ("f_tag", 30),
}
SNIPPET_CHARS = 240
LEAD_CONTEXT = 40  # characters a cut lead must hold after a match for its snippet to be cut from the lead
CACHE_RESULTS = 256  # results a searcher keeps per lake version (see Searcher)
CACHE_HITS = 20_000  # and hits in them at most (a result of 500 hits weighs 25 of 20)
_SPACES = re.compile(r"\s+")
MAX_SNIPPET_TEXT = 30_000
_FACETING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cablelake-facets")


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


def cache_size() -> int:
    """Results a searcher keeps per lake version (``$CABLELAKE_SEARCH_CACHE``, default 256; 0: none)."""
    try:
        return max(0, int(os.environ.get("CABLELAKE_SEARCH_CACHE", "") or CACHE_RESULTS))
    except ValueError:
        return CACHE_RESULTS


class Searcher:
    """A reader of one lake's index, reused across searches (the web app keeps one): it follows the lake's
    version, reloading the index when a publish moved it, and repairs the index when it is behind.

    It keeps the results of its last ``cache`` searches (of up to ``MAX_LIMIT`` hits; ``CACHE_HITS`` hits in
    all) at the lake's current version: a page asked again (back, reload, a facet removed, the id lookups of
    cable pages) is not searched nor read again. A new version empties it: a result is never served across
    versions."""

    def __init__(self, lake: Path | str, *, repair: bool = True, wait: float = 30.0, cache: int | None = None) -> None:
        self.lake: Path | str = remote_uri(lake) or Path(lake)  # (Path() would make s3://b/x s3:/b/x)
        self.repair = repair
        self.wait = wait
        self.cache = cache_size() if cache is None else cache
        self._index: Any = None
        self._version: str | None = None
        self._lock = threading.Lock()
        self._results: OrderedDict[tuple[Any, ...], SearchResult] = OrderedDict()
        self._results_version: str | None = None
        self._results_hits = 0
        self._results_lock = threading.Lock()
        self._forms: OrderedDict[tuple[str, str, str], list[str]] = OrderedDict()  # (version, field, word)

    def forms(self, searcher: Any, version: str, fld: str, word: str) -> list[str]:
        """The forms of ``word`` in prose field ``fld`` at ``version`` (see :func:`etl.search._index.forms`),
        the last ``FORMS_KEPT`` words' kept (a version's terms never change; a short stem walks many terms)."""
        key = (version, fld, word)
        with self._results_lock:
            got = self._forms.get(key)
            if got is not None:
                self._forms.move_to_end(key)
                return got
        got = forms(searcher, fld, word)
        with self._results_lock:
            if self._forms and next(iter(self._forms))[0] != version:
                self._forms.clear()
            self._forms[key] = got
            while len(self._forms) > FORMS_KEPT:
                self._forms.popitem(last=False)
        return got

    def cached(self, version: str, key: tuple[Any, ...]) -> SearchResult | None:
        with self._results_lock:
            if version != self._results_version:
                return None
            got = self._results.get(key)
            if got is not None:
                self._results.move_to_end(key)
            return got

    def remember(self, version: str, key: tuple[Any, ...], result: SearchResult) -> None:
        if not self.cache:
            return
        with self._results_lock:
            if version != self._results_version:
                self._results.clear()
                self._results_hits = 0
                self._results_version = version
            old = self._results.pop(key, None)
            self._results_hits += len(result.hits) - (len(old.hits) if old is not None else 0)
            self._results[key] = result
            while len(self._results) > self.cache or (self._results_hits > CACHE_HITS and len(self._results) > 1):
                self._results_hits -= len(self._results.popitem(last=False)[1].hits)

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

    def at(self) -> Snapshot:
        """The index at the lake's current version, checked once: every search of one snapshot sees the same
        version (a page that searches several times checks the lake once; see ``etl.web``)."""
        index, version = self.current()
        return Snapshot(self, index, version)

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
        """Search at the lake's current version (see :meth:`Snapshot.search`)."""
        t0 = time.perf_counter()
        _check(limit, offset, sort, snippets)
        tree = parse(query)  # a bad query costs no version check
        return self.at().run(query, tree, limit, offset, sort, facets=facets, snippets=snippets, t0=t0)

    def rows(self, hits: list[Hit], columns: list[str] | None = None) -> dict[tuple[str, int], dict[str, Any]]:
        """The lake rows of ``hits`` (``columns`` of them; all when None), by ``(file, row)``."""
        from etl.lake import LakePaths

        return read_rows(LakePaths(Path(self.lake)).lake, [(h.file, h.row) for h in hits if h.file], columns)


def _check(limit: int, offset: int, sort: str, snippets: bool) -> None:
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
    cap = MAX_LIMIT if snippets else MAX_IDS
    if not 0 <= limit <= cap:
        raise QueryError(f"limit must be between 0 and {cap}" + (" (without snippets)" if not snippets else ""))
    if not 0 <= offset <= MAX_OFFSET:
        raise QueryError(f"offset must be between 0 and {MAX_OFFSET}")


class Snapshot:
    """The index at one lake version (from :meth:`Searcher.at`): searches without checking the lake again."""

    def __init__(self, owner: Searcher, index: Any, version: str) -> None:
        self.owner = owner
        self.index = index
        self.version = version
        self.searcher = index.searcher()

    def rows(self, hits: list[Hit], columns: list[str] | None = None) -> dict[tuple[str, int], dict[str, Any]]:
        """The lake rows of ``hits`` (see :meth:`Searcher.rows`)."""
        return self.owner.rows(hits, columns)

    def search(self, query: str, *, limit: int = 20, offset: int = 0, sort: str = "relevance", facets: bool = True,
               snippets: bool = True) -> SearchResult:
        """The hits of ``query`` (:mod:`etl.search._query`'s language) at this version; raises QueryError."""
        t0 = time.perf_counter()
        _check(limit, offset, sort, snippets)
        return self.run(query, parse(query), limit, offset, sort, facets=facets, snippets=snippets, t0=t0)

    def run(self, query: str, tree: Any, limit: int, offset: int, sort: str, *, facets: bool, snippets: bool,
            t0: float) -> SearchResult:
        key = (query, limit, offset, sort, facets, snippets)
        kept = self.owner.cached(self.version, key)
        if kept is not None:
            return replace(kept, seconds=time.perf_counter() - t0)
        res = self._run(query, tree, limit, offset, sort, facets=facets, snippets=snippets, t0=t0)
        if limit <= MAX_LIMIT:  # (not the id lists of SQL: up to 100,000 hits)
            self.owner.remember(self.version, key, res)
        return res

    def _run(self, query: str, tree: Any, limit: int, offset: int, sort: str, *, facets: bool, snippets: bool,
             t0: float) -> SearchResult:
        import tantivy as t

        index, searcher = self.index, self.searcher
        tr = Translator(index.schema, words, lambda fld, w: self.owner.forms(searcher, self.version, fld, w), fold)
        q = t.Query.boolean_query(
            [(t.Occur.Must, tr.build(tree)), (t.Occur.Must, t.Query.term_query(index.schema, "kind", "cable"))]
        )
        # the facets (tantivy aggregations over every hit, which run the query again) are counted in another
        # thread from the start: tantivy leaves the GIL, so a search waits for the slower of the facets and
        # the hits with their snippets (pyarrow reads, which leave the GIL too), not for their sum
        counting = _FACETING.submit(self._facets, searcher, q) if facets else None
        n = max(limit, 1)  # tantivy wants a limit > 0: a count-only search asks for one hit and drops it
        if sort == "relevance":
            res = searcher.search(q, n, count=True, offset=offset)
        else:
            order = t.Order.Desc if sort == "date" else t.Order.Asc
            res = searcher.search(q, n, count=True, order_by_field="sent", offset=offset, order=order)
        docs = [(key, searcher.doc(addr)) for key, addr in res.hits[:limit]]
        hits = [self._hit(d, key, sort) for key, d in docs]
        if snippets and hits:
            self._snippets(index, searcher, q, hits, [d.get_first("lead") for _, d in docs], tree)
        fac = counting.result() if counting is not None else {}
        return SearchResult(query, int(res.count or 0), hits, fac, self.version, time.perf_counter() - t0, offset,
                            sort)

    @staticmethod
    def _hit(d: Any, key: Any, sort: str) -> Hit:
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

    def _snippets(self, index: Any, searcher: Any, q: Any, hits: list[Hit], leads: list[bytes | None],
                  tree: Any) -> None:
        """Cut each hit's snippet from its lead, stored in the index, or else from its body, read from the lake
        by a point lookup (the row group of the file and row the index names).

        The lead (``etl.search._index.snippet_lead``) is the cable's summary (its own precis, a paragraph of
        its body), or when it has none the opening of its paragraphs, up to ``LEAD_CHARS``. A hit whose lead
        holds a query word, or any hit of a query without words of the text (TAG, id, date...: the lead's
        opening lines), costs no read; the others are cut from the body's paragraphs, read from the lake (a
        row group's body column: ~2 MB of text to decode, the most expensive part of a search).

        tantivy's snippet generator tokenizes all the text it is given, which costs milliseconds on a long
        cable: it is given a window around the first place a query word seems to be (found with a regex on the
        words' stems), and the whole text only when that finds nothing."""
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

        def around(m: re.Match[str]) -> tuple[str, list[tuple[int, int]]] | None:
            assert near is not None
            text = m.string
            a = max(0, m.start() - SNIPPET_CHARS // 2)
            if a:  # start at a word
                a = next((i + 1 for i in range(a, m.start()) if text[i].isspace()), m.start())
            window = text[a: m.start() + 2 * SNIPPET_CHARS]
            return cut(window) or _regex_marks(window, near)  # prefixes: tantivy marks no word

        from_body, from_summary = [], []
        for h, raw in zip(hits, leads, strict=True):
            lead = split_lead(raw)
            got: tuple[str, list[tuple[int, int]]] | None = None
            if lead is not None:
                kind, text, whole = lead
                if near is None:  # no word to show (TAG, id, date...): the lead's opening lines
                    got = (_opening(text), [])
                else:  # a match too near the end of a cut lead may lack its context: the rest of the text has it
                    m = near.search(text)
                    if m is not None and (whole or m.end() + LEAD_CONTEXT <= len(text)):
                        got = around(m)
                    elif kind == "summary" and not whole:
                        from_summary.append(h)
                        continue
            if got is None:
                from_body.append(h)
            else:  # snippets are for reading: collapse the telegram's line breaks (offsets move with them)
                h.snippet, h.highlights = _squeeze(*got)
        # a summary cut in the lead is read whole (its column is ~15x cheaper to read than the body's); on an
        # object store, where each read is a request whatever its size, the body is read with it at once
        remote = remote_uri(self.owner.lake) is not None
        read = self.rows(from_summary, ["summary", "body"] if remote else ["summary"]) if from_summary else {}
        for h in from_summary:
            summary = read.get((h.file, h.row), {}).get("summary") or ""
            m = near.search(summary) if near is not None else None
            got = around(m) if m is not None else None
            if got is None:
                from_body.append(h)
            else:
                h.snippet, h.highlights = _squeeze(*got)
        unread = [h for h in from_body if (h.file, h.row) not in read or not remote]
        bodies = {**read, **self.rows(unread, ["body"])} if unread else read
        for h in from_body:
            body = bodies.get((h.file, h.row), {}).get("body") or ""
            if not body:
                continue
            start = first_para(body)
            paras = body[start:] if start is not None else body
            got = None
            if near is not None:  # else the query has no word of the text to show (TAG, id, date...)
                m = near.search(paras) or (near.search(body) if start else None)
                got = around(m) if m is not None else cut(paras[:MAX_SNIPPET_TEXT])
            if got is not None:
                h.snippet, h.highlights = got
            else:  # no word of the query is in the text (a hit on the subject, a TAG...): the opening lines
                h.snippet = _opening(paras)
            h.snippet, h.highlights = _squeeze(h.snippet, h.highlights)

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


def _opening(text: str) -> str:
    """The first ``SNIPPET_CHARS`` of ``text``, its whitespace runs squeezed."""
    return " ".join(text[: SNIPPET_CHARS * 2].split())[:SNIPPET_CHARS]


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
