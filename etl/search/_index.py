"""The search index the lake keeps: ``<lake>/_search/``, a tantivy index of the ``cables`` view.

What is indexed: prose fields (subject, body, summary, comment) as their words are written, lower-cased and
ASCII-folded (tantivy's built-in ``default`` analyzer, one compiled chain, on text folded first by
:func:`prose_text`); English stemming is applied when searching, not when indexing: a query word is matched by
every form of it the index holds (:func:`forms`: the terms with the word's stem, found in the term dictionary
by the prefix they share), so ``negotiations`` still finds ``negotiated``. Stemming every token of every body
was ~55 % of the index build's CPU (tantivy's en_stem: 361 vs 157 us per cable for subject and body on
30,000 bench cables); the forms of a query word cost a term-dictionary walk and stemming a few hundred terms.
Exact fields (ids, TAGS, origin, classification, cited ids) are whole values, case-folded; the date sent
(fast field, for ranges and sorting) and the year; raw-valued fast fields for facets. Only what a hit list
shows is stored (id, subject, date, origin, classification, TAGS) plus where the row lives in the lake
(``file``, ``row``): snippets and the cable page read the body/row back from that Parquet file by a point
lookup (one small row group), so the index holds no copy of the text. Summary and comment are indexed
without positions: their words are in the body too, and phrases there are searched as all-the-words.

Documents are made a batch at a time: the rows of a Parquet file are read as Arrow columns, exact values
folded per distinct value, the columns turned into Python lists once; per cable only tantivy's ``add_*``
calls remain.

Consistency. Every cable document carries ``file``, the lake-relative path of the Parquet file holding its
row (files are immutable: a name is never reused for other bytes), and one ``meta`` document records the
lake version the index reflects and the live files of ``cables`` at that version (with their row counts).
:func:`sync` compares that file list with the lake's current one (the add/remove actions between the two
versions) and, in one tantivy commit, deletes the documents of removed files, adds the rows of added files
and rewrites the meta document. A tantivy commit is atomic, so the recorded version, its file list and the
documents always move together: a process killed at any moment leaves the previous commit, and the next
:func:`sync` (the pipeline runs one after every publish and in its crash recovery) catches up from there.
A search opens the index only when the recorded version is the lake's (see ``etl.search._search``), so the
``file``/``row`` of every hit name the lake's current files.

The lake is read through its commit record (version and live files, :func:`lake_state`) and its Parquet
files (:func:`etl.lake.iter_file`, :func:`read_rows`).
"""

from __future__ import annotations

import bisect
import json
import logging
import re
import shutil
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl import catalog

log = logging.getLogger(__name__)

INDEX_DIR = "_search"
SCHEMA_VERSION = "cablelake-search/8"
META_KEY = "__meta__"
PROSE = "default"  # tantivy's built-in: simple tokens, long ones dropped, lower case (no stemming)
STEM = "en_stem"  # the same plus the English stemmer: what relates a query word to the forms the index holds
# ASCII folding is applied to the text before (prose_text(), on non-ASCII text only, with tantivy's own
# folding filter): a built-in analyzer is one compiled chain, ~15 % cheaper per token than the same filters
# plus ascii_fold registered from Python (boxed, one dynamic call per filter and token); the body's tokens
# are most of the index build.
MAX_FORMS = 256  # forms of one query word searched at most (the most frequent first)
EXACT = "exact_fold"  # the whole value, lowercase, ASCII folding
BATCH_ROWS = 2_000
WRITER_HEAP = 128_000_000
"""tantivy's indexing budget (all threads). The pipeline syncs in its own process after the workers, and the
sync is that process's peak. Against 256 MB: 50k rows, sync alone 757 vs 818 MiB and in the pipeline 764 vs
843; 251k rows, 1,121 vs 1,427 MiB (different runs); 100k rows, one merge's mapped segments spiked it to 1,091
vs 954 MiB (a smaller heap makes more segments to merge)."""
ONE_THREAD_ROWS = 50_000
"""An update adding at most this many rows indexes them in one thread, into one segment: tantivy's merge
policy merges a level of its smallest segments once it holds 8, so a nightly that made one segment per
indexing thread would fill it twice as fast (and each merge re-reads every segment of that level)."""
READ_THREADS = 4  # row groups read at once by a point lookup (pyarrow decodes without the GIL)
OPEN_FILES = 256  # Parquet footers kept open for point lookups (files are immutable: safe to cache)

LEAD_CHARS = 480
"""Characters of a cable's snippet lead kept in the index (stored, not searched): its summary, or when it has
none the opening of its numbered paragraphs. A hit whose lead holds a query word (or, for a query without words
of the text, any hit) gets its snippet from the index alone, with no read of the lake (see
``etl.search._search``). 480 is what the opening-lines snippet needs (twice SNIPPET_CHARS); the lead adds ~5 %
of the cables' Parquet size to the index on real text (lz4 in tantivy's doc store)."""
_FIRST_PARA = re.compile(r"\n\s*1\.\s")  # (a literal first character: ~7x faster than the same with (?m)^)
_FIRST_PARA_AT_0 = re.compile(r"\s*1\.\s")


def first_para(body: str) -> int | None:
    """Where the numbered paragraphs start (after TAGS, SUBJECT, REF): the start of the first line from which
    blank space then ``1.`` and a space follow, as ``(?m)^\\s*1\\.\\s`` finds it; None when there is none."""
    if _FIRST_PARA_AT_0.match(body):
        return 0
    m = _FIRST_PARA.search(body)
    return m.start() + 1 if m else None


_LEAD_KINDS = {b"S": ("summary", True), b"s": ("summary", False), b"P": ("opening", True), b"p": ("opening", False)}


def snippet_lead(summary: str | None, body: str | None) -> bytes | None:
    """The lead stored for a cable: one byte saying what it is (``S``/``P``: the whole summary/paragraphs,
    lower case: cut at ``LEAD_CHARS``) and the text, UTF-8; None when the cable has neither."""
    if summary:
        kind, text = "S", summary
    elif body:
        start = first_para(body)
        kind, text = "P", body[start:] if start is not None else body
    else:
        return None
    if len(text) > LEAD_CHARS:
        kind, text = kind.lower(), text[:LEAD_CHARS]
    return (kind + text).encode("utf-8")


def split_lead(raw: bytes | None) -> tuple[str, str, bool] | None:
    """A stored lead as (``"summary"`` or ``"opening"``, its text, whether the text is whole)."""
    if not raw:
        return None
    kind, whole = _LEAD_KINDS[raw[:1]]
    return kind, raw[1:].decode("utf-8"), whole


# the columns a document is built from
DOC_COLUMNS = ["reference_id", "canonical_id", "plusd_id", "subject", "body", "summary", "comment", "tags", "origin",
               "origin_name", "banner_post", "classification", "sent_at", "year", "references"]


def lake_version(lake: Path | str) -> str:
    """The lake's current version, as the index records it: the one seam onto the lake's storage.

    A lake with a commit record gives its version number; a hand-made lake without one (older layout,
    tests' synthetic lakes) gives a digest of its live Parquet files, so that changing them is seen too.
    """
    from etl.lake import LakePaths

    paths = LakePaths(Path(lake))
    commit = catalog.lake_commit(lake)  # (a missing folder or an object-store prefix without a lake: an error)
    if commit is not None:
        return f"v{commit.token()}"
    files = {t: [Path(f) for f in catalog.live_files(paths, t)] for t in ("cables",)}
    stamp = {t: [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in fs] for t, fs in files.items()}
    import hashlib

    return "files:" + hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LakeState:
    """One version of the lake as the index sees it: its version and the live files of ``cables``."""

    version: str
    files: dict[str, int]  # lake-relative path -> rows
    store: str  # where those paths are read from (the lake's folder or URI)

    @property
    def rows(self) -> int:
        return sum(self.files.values())


def lake_state(lake: Path | str) -> LakeState:
    """The lake's current version and its ``cables`` files, read from one commit record."""
    from etl.lake import LakePaths, is_lake, read_current

    paths = LakePaths(Path(lake))
    if is_lake(paths.lake):
        commit = read_current(paths.lake)
        return LakeState(f"v{commit.token()}", {f.path: f.rows for f in commit.files("cables")}, paths.lake)
    files = {Path(f).resolve().relative_to(paths.root.resolve()).as_posix(): pq.read_metadata(f).num_rows
             for f in catalog.live_files(paths, "cables")}
    return LakeState(lake_version(lake), files, str(paths.root))


def index_dir(lake: Path | str) -> Path:
    """``<lake>/_search``; for a lake on an object store, in its local work folder (tantivy needs a disk)."""
    from etl.lake import LakePaths

    return LakePaths(Path(lake)).root / INDEX_DIR


# ------------------------------------------------------------------------------------------ schema


def fold(text: str) -> str:
    """Normalizer of exact fields, the same on both sides: NFKD, accents dropped, lower case, spaces squeezed."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


FOLD = "ascii_fold"  # (not a field's tokenizer) the whole text, ASCII-folded: what prose_text() applies


def _analyzers() -> dict[str, Any]:
    import tantivy as t

    def plain() -> Any:  # the same filters as tantivy's built-in "default" (tokenizer/mod.rs)
        return t.TextAnalyzerBuilder(t.Tokenizer.simple()).filter(t.Filter.remove_long(40)).filter(t.Filter.lowercase())

    stem = plain().filter(t.Filter.stemmer("english")).build()  # = tantivy's en_stem
    exact = t.TextAnalyzerBuilder(t.Tokenizer.raw()).build()  # values are folded by fold() before
    folding = t.TextAnalyzerBuilder(t.Tokenizer.raw()).filter(t.Filter.ascii_fold()).build()
    return {PROSE: plain().build(), STEM: stem, EXACT: exact, FOLD: folding}


_ANALYZERS: dict[str, Any] = {}


def analyzers() -> dict[str, Any]:
    if not _ANALYZERS:
        _ANALYZERS.update(_analyzers())
    return _ANALYZERS


def prose_text(text: str) -> str:
    """``text`` as the prose fields are given it: ASCII-folded by tantivy's folding filter (ASCII text, nearly
    every cable, is returned as it is; case is kept, the analyzer lower-cases)."""
    if text.isascii():
        return text
    folded = analyzers()[FOLD].analyze(text)
    return str(folded[0]) if folded else text


def words(text: str) -> list[str]:
    """The words of ``text`` as the prose fields index them (:func:`prose_text`, then ``default``)."""
    return list(analyzers()[PROSE].analyze(prose_text(text)))


def stems(terms: list[str]) -> list[str]:
    """The English stem of each word of ``terms`` (words as :func:`words` makes them), in one call."""
    if not terms:
        return []
    got = list(analyzers()[STEM].analyze(" ".join(terms)))
    if len(got) == len(terms):  # a word is one token again (letters and digits only)
        return got
    return [next(iter(analyzers()[STEM].analyze(w)), w) for w in terms]  # pragma: no cover (never seen)


def analyze(text: str) -> list[str]:
    """The stems of the words of ``text``."""
    return stems(words(text))


def walk_prefix(stem: str) -> str:
    """The prefix every word with English stem ``stem`` starts with: the English Snowball stemmer changes at
    most the last character of a stem against the word it comes from (happy -> happi, hoping -> hope,
    possibility -> possibl), except y -> ie (dying -> die, vying -> vie); never the first one. The shorter
    the prefix, the more of the term dictionary :func:`forms` walks."""
    reach = 2 if stem.endswith("ie") else 1
    return stem[: max(len(stem) - reach, 1)]


def forms(searcher: Any, field: str, word: str) -> list[str]:
    """The terms of prose ``field`` in the index that have ``word``'s stem (``word`` as :func:`words` makes
    it): the forms a query word matches (``negotiations``: negotiate, negotiated, negotiating...), the most
    frequent first, at most ``MAX_FORMS``. Found by walking the term dictionary from the prefix every word of
    that stem starts with (:func:`walk_prefix`), then stemming what the walk found."""
    stem = stems([word])[0]
    prefix = walk_prefix(stem)
    terms = [str(term) for term, _ in searcher.terms_with_prefix(field, prefix)]
    return [term for term, s in zip(terms, stems(terms), strict=True) if s == stem][:MAX_FORMS]


def build_schema() -> Any:
    import tantivy as t

    b = t.SchemaBuilder()
    b.add_text_field("key", stored=True, tokenizer_name="raw")  # reference_id, the document key
    b.add_text_field("kind", tokenizer_name="raw")  # "cable" or "meta"
    b.add_text_field("file", stored=True, tokenizer_name="raw", index_option="basic")  # Parquet file of the row
    b.add_integer_field("row", stored=True)  # the row's position in that file
    b.add_text_field("meta", stored=True, tokenizer_name="raw")
    b.add_text_field("subject", stored=True, tokenizer_name=PROSE)
    b.add_text_field("body", stored=False, tokenizer_name=PROSE)
    b.add_bytes_field("lead", stored=True, indexed=False)  # what snippets are cut from first (snippet_lead)
    for name in ("summary", "comment"):  # their words are in the body too: no positions (no phrases) here
        b.add_text_field(name, stored=False, tokenizer_name=PROSE, index_option="freq")
    for name in ("id", "tag", "origin", "classification", "ref"):
        b.add_text_field(name, stored=False, tokenizer_name=EXACT, index_option="basic")
    # raw values for facets and display
    b.add_text_field("f_tag", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("f_origin", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("f_class", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_date_field("sent", stored=True, indexed=True, fast=True)
    b.add_integer_field("year", stored=True, indexed=True, fast=True)
    return b.build()


def _register(index: Any) -> Any:
    # only the exact analyzer: registering PROSE would replace tantivy's compiled "default" by a boxed copy
    index.register_tokenizer(EXACT, analyzers()[EXACT])
    return index


def create_index(path: Path) -> Any:
    """A new, empty index at ``path`` (tokenizers registered)."""
    import tantivy as t

    path.mkdir(parents=True, exist_ok=True)
    return _register(t.Index(build_schema(), path=str(path), reuse=False))


def open_index(path: Path) -> Any | None:
    """The tantivy index at ``path`` (tokenizers registered), None when there is none or it is unreadable."""
    import tantivy as t

    if not (path / "meta.json").exists():
        return None
    try:
        return _register(t.Index.open(str(path)))
    except (OSError, ValueError) as exc:
        log.warning("search index at %s unreadable: %s", path, exc)
        return None


VERSION_NOTE = "lake_version.json"
"""A lake commit that leaves the ``cables`` files as they were (a run with nothing new adds only its ``runs``
row) moves the index to the new lake version by this note beside it, not by a tantivy commit (which syncs
a new segment to disk): ``{"version": <new>, "base": <version of the index's last commit>}``. It counts only
while the index's last commit is at ``base``; a lost or torn note makes the index look behind, and the next
sync writes it again."""


def read_meta(index: Any, path: Path | None = None) -> dict[str, Any]:
    """The meta document of the index's last commit ({} when there is none); given the index's ``path``,
    with the lake version its :data:`VERSION_NOTE` moved it to (and that commit's version as ``base``)."""
    import tantivy as t

    index.reload()
    searcher = index.searcher()
    res = searcher.search(t.Query.term_query(index.schema, "key", META_KEY), 1)
    if not res.hits:
        return {}
    doc = searcher.doc(res.hits[0][1])
    try:
        meta: dict[str, Any] = json.loads(doc.get_first("meta") or "{}")
    except ValueError:
        return {}
    if path is None:
        return meta
    try:
        note = json.loads((path / VERSION_NOTE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return meta
    if isinstance(note, dict) and meta.get("version") and note.get("base") == meta["version"]:
        return {**meta, "version": note.get("version"), "base": meta["version"]}
    return meta


# -------------------------------------------------------------------------------------------- documents


def _column(table: pa.Table, name: str) -> pa.Array:
    col = table.column(name)
    return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col


def fold_array(values: pa.Array) -> pa.Array:
    """:func:`fold` of each string (None stays None), computed once per distinct value."""
    distinct = pc.unique(values)
    folded = pa.array([None if v is None else fold(v) for v in distinct.to_pylist()], pa.string())
    return pc.take(folded, pc.index_in(values, value_set=distinct))


def _fold_lists(lists: pa.Array, child: str | None = None) -> pa.Array:
    """:func:`fold` of every string of a list column (of the struct field ``child`` for a list of structs)."""
    values = lists.values if child is None else lists.values.field(child)
    return pa.ListArray.from_arrays(lists.offsets, fold_array(values), mask=lists.is_null())


def _prepare(batch: pa.Table, rel: str, first_row: int) -> pa.Table:
    """The columns documents are made of: exact values folded (once per distinct value), the row's file and
    position added."""
    cls = _column(batch, "classification")
    head = pc.list_element(pc.split_pattern(pc.fill_null(cls, ""), "//", max_splits=1), 0)
    return pa.table({
        "key": _column(batch, "reference_id"),
        "file": pa.repeat(rel, batch.num_rows).cast(pa.string()) if batch.num_rows else pa.array([], pa.string()),
        "row": pa.array(range(first_row, first_row + batch.num_rows), pa.int64()),
        **{n: _column(batch, n) for n in ("subject", "body", "summary", "comment", "tags", "origin_name", "year")},
        "id1": fold_array(_column(batch, "reference_id")),
        "id2": fold_array(_column(batch, "canonical_id")),
        "id3": fold_array(_column(batch, "plusd_id")),
        "tags_f": _fold_lists(_column(batch, "tags")),
        "origin": _column(batch, "origin"),
        "origin1": fold_array(_column(batch, "origin")),
        "origin2": fold_array(_column(batch, "origin_name")),
        "origin3": fold_array(_column(batch, "banner_post")),
        "cls": cls,
        "cls_f": fold_array(cls),
        "cls_head_f": fold_array(head),
        "refs_f": _fold_lists(_column(batch, "references"), "reference_id"),
        "sent": _column(batch, "sent_at"),
    })


def _batches(store: str, rel: str) -> Iterator[pa.Table]:
    """The document columns of one ``cables`` file, about ``BATCH_ROWS`` rows at a time (row groups are small:
    a DuckDB query per row group would cost more than its documents)."""
    from etl.lake import iter_file
    from etl.schema import cables_schema

    parts: list[pa.Table] = []
    for part in iter_file(store, rel, cables_schema(), columns=DOC_COLUMNS, batch_rows=BATCH_ROWS):
        parts.append(part)
        if sum(t.num_rows for t in parts) >= BATCH_ROWS:
            yield pa.concat_tables(parts)
            parts = []
    if parts:
        yield pa.concat_tables(parts)


def _documents(prepared: pa.Table) -> Iterator[Any]:
    """One tantivy document per row of a batch from :func:`_prepare`: columns to Python lists once, then only
    the ``add_*`` calls per cable (building JSON for tantivy to parse cost more)."""
    import tantivy as t

    c = {name: prepared.column(name).to_pylist() for name in prepared.column_names}
    for i, key in enumerate(c["key"]):
        d = t.Document()
        d.add_text("key", key)
        d.add_text("kind", "cable")
        d.add_text("file", c["file"][i])
        d.add_integer("row", c["row"][i])
        for name in ("subject", "body", "summary", "comment"):
            text = c[name][i]
            if text:
                d.add_text(name, prose_text(text))
        lead = snippet_lead(c["summary"][i], c["body"][i])
        if lead is not None:
            d.add_bytes("lead", lead)
        for name, values in (("id", {c["id1"][i], c["id2"][i], c["id3"][i]}), ("tag", c["tags_f"][i] or ()),
                             ("f_tag", c["tags"][i] or ()), ("ref", c["refs_f"][i] or ()),
                             ("origin", {c["origin1"][i], c["origin2"][i], c["origin3"][i]})):
            for v in values:
                if v:
                    d.add_text(name, v)
        origin = c["origin_name"][i] or c["origin"][i]
        if origin:
            d.add_text("f_origin", origin)
        if c["cls"][i]:
            d.add_text("f_class", c["cls"][i])
            for v in {c["cls_f"][i], c["cls_head_f"][i]}:
                if v:
                    d.add_text("classification", v)
        sent = c["sent"][i]
        if isinstance(sent, datetime):
            d.add_date("sent", sent if sent.tzinfo else sent.replace(tzinfo=UTC))
        if c["year"][i] is not None:
            d.add_integer("year", int(c["year"][i]))
        yield d


def file_documents(store: str, rel: str) -> Iterator[list[Any]]:
    """The documents of the rows of one ``cables`` file, a batch at a time, in file order."""
    first = 0
    for batch in _batches(store, rel):
        yield list(_documents(_prepare(batch, rel, first)))
        first += batch.num_rows


# ------------------------------------------------------------------------------------ point lookups


@dataclass
class _OpenFile:
    pf: pq.ParquetFile
    starts: list[int]  # the first row of each row group
    leaves: dict[str, list[int]]  # column -> its Parquet (leaf) column indices
    local: str | None = None  # the file's path on this machine (None on an object store)
    lock: threading.Lock = field(default_factory=threading.Lock)  # one read of the shared reader at a time

    def read(self, group: int, columns: list[str], threads: bool = True) -> pa.Table:
        """Row group ``group``'s ``columns``; ``threads``: decode its columns in Arrow's threads (for a lone
        read: several reads at once are already one per thread, and Arrow's pool would only oversubscribe).

        A local file is read through a reader of its own per read, made from the footer parsed once: the hits
        of a search often sit in one file, and one shared reader, which is not made for concurrent reads, let
        them be read one at a time (19 body row groups of one file: 49-54 ms, 36-41 ms with a reader each).
        On an object store opening a reader is a request: there the shared one is used, one read at a time."""
        indices = [i for c in columns for i in self.leaves.get(c, [])]  # resolved once per file, not per read
        out: pa.Table
        if self.local is not None:
            try:
                own = _SPARES.take(self.local, self.pf.metadata)
            except OSError:  # gone since its footer was read (a vacuum): the shared reader still has it open
                own = None
            if own is not None:
                try:
                    out = own.reader.read_row_group(group, column_indices=indices, use_threads=threads)
                finally:
                    _SPARES.give(self.local, own)
                return out
        with self.lock:
            out = self.pf.reader.read_row_group(group, column_indices=indices, use_threads=threads)
        return out


class _Spares:
    """Readers of local Parquet files not in use, kept for the next read (opening one from a parsed footer
    costs ~0.4 ms, as much as reading a row group's summary): at most ``size`` in all (16), the least
    recently returned closed first, so that open files stay bounded."""

    def __init__(self, size: int = READ_THREADS * 4) -> None:
        self.size = size
        self._free: OrderedDict[int, tuple[str, pq.ParquetFile]] = OrderedDict()
        self._lock = threading.Lock()
        self._n = 0

    def take(self, path: str, metadata: Any) -> pq.ParquetFile:
        with self._lock:
            for key, (where, reader) in reversed(self._free.items()):
                if where == path:
                    del self._free[key]
                    return reader
        return pq.ParquetFile(path, metadata=metadata)

    def give(self, path: str, reader: pq.ParquetFile) -> None:
        with self._lock:
            self._n += 1
            self._free[self._n] = (path, reader)
            old = [self._free.popitem(last=False)[1][1] for _ in range(len(self._free) - self.size)]
        for r in old:
            r.close()


_SPARES = _Spares()


class _Footers:
    """Open Parquet files by lake-relative path, the most recently used kept (their footers parsed once)."""

    def __init__(self, size: int = OPEN_FILES) -> None:
        self.size = size
        self._files: OrderedDict[tuple[str, str], _OpenFile] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: str, rel: str) -> _OpenFile:
        key = (store, rel)
        with self._lock:
            got = self._files.get(key)
            if got is not None:
                self._files.move_to_end(key)
                return got
        from etl.lake._store import Location

        loc = Location.of(store)
        pf = pq.ParquetFile(loc.fs.open_input_file(loc.path(rel)))
        starts, n = [], 0
        for i in range(pf.metadata.num_row_groups):
            starts.append(n)
            n += pf.metadata.row_group(i).num_rows
        leaves: dict[str, list[int]] = {}
        for i in range(pf.metadata.num_columns):
            leaves.setdefault(pf.metadata.schema.column(i).path.split(".")[0], []).append(i)
        opened = _OpenFile(pf, starts, leaves, None if loc.remote else loc.path(rel))
        with self._lock:
            self._files[key] = opened
            while len(self._files) > self.size:
                self._files.popitem(last=False)
        return opened


_FOOTERS = _Footers()
_READERS = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="cablelake-rows")


def read_rows(store: str, places: Iterable[tuple[str, int]], columns: list[str] | None = None
              ) -> dict[tuple[str, int], dict[str, Any]]:
    """The rows at ``(file, row)`` places (as the index names them) as dicts of ``columns`` (all the cables
    columns when None; ``year`` from the file's partition folder, columns a file lacks as None). Only the
    row groups holding them are read (``ROW_GROUP_ROWS`` rows each, see etl.lake), several at once."""
    from etl.lake._delta import partition_of
    from etl.schema import cables_schema

    names = list(columns) if columns is not None else list(cables_schema().names)
    wanted: dict[tuple[str, int], list[int]] = {}
    for rel, row in places:
        group = bisect.bisect_right(_FOOTERS.get(store, rel).starts, row) - 1
        wanted.setdefault((rel, group), []).append(row)

    def read(rel: str, group: int, rows: list[int]) -> list[dict[str, Any]]:
        f = _FOOTERS.get(store, rel)
        table = f.read(group, names, threads=len(wanted) == 1)
        picked: list[dict[str, Any]] = table.take(pa.array([r - f.starts[group] for r in rows], pa.int64())).to_pylist()
        return picked

    jobs = {key: _READERS.submit(read, *key, rows) for key, rows in wanted.items()}
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for (rel, group), job in jobs.items():
        year = partition_of(rel)
        for row, values in zip(wanted[(rel, group)], job.result(), strict=True):
            full = dict.fromkeys(names)
            full.update(values)
            if "year" in full and year is not None:
                full["year"] = year
            out[(rel, row)] = full
    return out


def _meta_doc(meta: dict[str, Any]) -> Any:
    import tantivy as t

    d = t.Document()
    d.add_text("key", META_KEY)
    d.add_text("kind", "meta")
    d.add_text("meta", json.dumps(meta))
    return d


# ------------------------------------------------------------------------------------------------- sync


@dataclass
class SyncResult:
    version: str
    operation: str  # "current" (nothing to do), "update", "rebuild"
    added: int = 0
    deleted: int = 0
    docs: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: "all" threads, "python" (this thread)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _indexed_files(index: Any | None, meta: dict[str, Any]) -> dict[str, int] | None:
    """The files the index's last commit reflects (None: no usable index, rebuild)."""
    files = meta.get("files") if index is not None and meta.get("schema") == SCHEMA_VERSION else None
    if not isinstance(files, dict):
        return None
    return {str(k): int(v) for k, v in files.items()}


def sync(lake: Path | str, *, rebuild: bool = False, heap: int = WRITER_HEAP, threads: int = 0) -> SyncResult:
    """Bring ``<lake>/_search`` to the lake's current version (see the module doc); the caller must be the
    only writer of the lake (the pipeline calls it under the lake lock).

    ``rebuild`` (or an index that is missing, unreadable or of another schema) indexes everything anew.
    """
    t0 = time.perf_counter()
    root = Path(lake)
    path = index_dir(root)
    index = None if rebuild else open_index(path)
    meta: dict[str, Any] = {}
    if index is not None:
        try:
            meta = read_meta(index, path)
        except (OSError, ValueError) as exc:
            log.warning("search index at %s unreadable (%s): rebuilding", path, exc)
            index = None
    have = _indexed_files(index, meta)
    phases: dict[str, float] = {}
    mark = time.perf_counter()
    cpu0, py0 = time.process_time(), time.thread_time()  # (tantivy indexes in its own threads)

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(now - mark, 3)
        mark = now

    state = lake_state(root)
    if have is not None and meta.get("version") != state.version and have == state.files:
        from etl.lake._store import atomic_write_text  # the same cables files: the documents stand, the
        # version moves on
        atomic_write_text(path / VERSION_NOTE,
                          json.dumps({"version": state.version, "base": meta.get("base", meta.get("version"))}))
        meta["version"] = state.version
    if have is not None and meta.get("version") == state.version:
        return SyncResult(state.version, "current", docs=int(meta.get("docs", 0)), seconds=time.perf_counter() - t0)
    operation = "update"
    if have is None:
        operation = "rebuild"
        if path.exists():
            shutil.rmtree(path)
        index = create_index(path)
        have = {}
    assert index is not None
    # files are immutable: a file in both lists holds the same rows; the others are the add/remove actions
    # of the commits between the index's version and the lake's
    drop = sorted(set(have) - set(state.files))
    add = sorted(set(state.files) - set(have))
    phase("open")
    small = operation == "update" and sum(state.files[f] for f in add) <= ONE_THREAD_ROWS
    writer = index.writer(heap, threads or (1 if small else 0))
    try:
        if operation == "rebuild":
            writer.delete_all_documents()
        for rel in drop:
            writer.delete_documents_by_term("file", rel)
        for rel in add:
            added = 0
            for batch in file_documents(state.store, rel):
                for doc in batch:
                    writer.add_document(doc)
                added += len(batch)
            if added != state.files[rel]:
                raise RuntimeError(f"search index: {rel} should hold {state.files[rel]} rows but {added} were read")
        phase("read+add")
        writer.delete_documents_by_term("key", META_KEY)
        docs = state.rows
        writer.add_document(_meta_doc({"schema": SCHEMA_VERSION, "version": state.version, "docs": docs,
                                       "files": state.files, "synced_at": datetime.now(UTC).isoformat()}))
        writer.commit()
        phase("commit")
        writer.wait_merging_threads()
        phase("merge")
    except BaseException:
        writer.rollback()
        raise
    index.reload()
    have_now = _count_cables(index)
    if have_now != docs:  # never expected: the file lists went wrong somewhere, so start over rather than lie
        log.warning("search index holds %d cables, the lake %d: rebuilding", have_now, docs)
        if operation != "rebuild":
            return sync(root, rebuild=True, heap=heap, threads=threads)
        raise RuntimeError(f"search index rebuilt with {have_now} cables but the lake has {docs}")
    _gc(index, path)
    phase("gc")
    res = SyncResult(state.version, operation, added=sum(state.files[f] for f in add),
                     deleted=sum(have[f] for f in drop), docs=docs,
                     seconds=round(time.perf_counter() - t0, 3), phases=phases,
                     cpu={"all": round(time.process_time() - cpu0, 3), "python": round(time.thread_time() - py0, 3)})
    log.info("search index %s", res.to_dict())
    return res


def _count_cables(index: Any) -> int:
    import tantivy as t

    res = index.searcher().search(t.Query.term_query(index.schema, "kind", "cable"), 1, count=True)
    return int(res.count or 0)


def _gc(index: Any, path: Path) -> None:
    """Drop files of old commits and of writers killed mid-way (tantivy keeps them until asked)."""
    try:
        w = index.writer(15_000_000, 1)
        w.garbage_collect_files()
        w.wait_merging_threads()
    except (OSError, ValueError, RuntimeError) as exc:  # a reader never depends on it
        log.warning("search index gc at %s: %s", path, exc)



def index_ids(lake: Path | str) -> set[str]:
    """The ids of every cable document of the index (for tests and checks)."""
    import tantivy as t

    index = open_index(index_dir(lake))
    if index is None:
        return set()
    index.reload()
    s = index.searcher()
    res = s.search(t.Query.term_query(index.schema, "kind", "cable"), max(s.num_docs, 1), count=False)
    return {str(s.doc(a).get_first("key")) for _, a in res.hits}
