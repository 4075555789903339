"""The search index the lake keeps: ``<lake>/_search/``, a tantivy index of the ``cables`` view.

What is indexed: prose fields (subject, body, summary, comment) with English stemming and ASCII folding;
exact fields (ids, TAGS, origin, classification, cited ids) as whole values, case-folded; the date sent
(fast field, for ranges and sorting) and the year; raw-valued fast fields for facets. The fields a hit
list shows are stored, and the body, zstd-compressed (snippets are cut from it: reading it back from the
Parquet files through the catalog cost 100+ ms per page of hits). Summary and comment are indexed without
positions: their words are in the body too, and phrases there are searched as all-the-words.

Consistency. Every cable document carries ``fp``, a fingerprint of its row (id, run, source copy, parser
version), and one ``meta`` document records the lake version the index reflects. :func:`sync` compares the
``(reference_id, fp)`` pairs of the ``cables`` view with the index's ``fp`` values and, in one tantivy
commit, deletes what the lake no longer has (removed cables, replaced copies), adds what it lacks, and
rewrites the meta document. A tantivy commit is atomic, so the recorded version and the documents always
move together: a process killed at any moment leaves the previous commit, and the next :func:`sync`
(the pipeline runs one after every publish and in its crash recovery) catches up from the diff. A search
opens the index only when the recorded version is the lake's (see ``etl.search._search``).

The lake is read through two seams only: :func:`lake_version` (the lake's current version) and the
``cables`` view of the DuckDB catalog.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from etl import catalog

log = logging.getLogger(__name__)

INDEX_DIR = "_search"
SCHEMA_VERSION = "cablelake-search/4"
META_KEY = "__meta__"
PROSE = "en_fold"  # English: simple tokens, long ones dropped, lowercase, ASCII folding, Porter stemmer
EXACT = "exact_fold"  # the whole value, lowercase, ASCII folding
BATCH_ROWS = 2_000
WRITER_HEAP = 256_000_000

# fingerprint of a cable row: changes when the lake keeps another copy or re-parses it
FP_SQL = (  # 63 bits, a BIGINT: tantivy deletes by an i64 term reliably (not by a u64 past 2**63)
    "CAST(hash(reference_id, run_id, source_sha256, source_uri, source_member, source_location, parser_version, "
    "ingested_at) >> 1 AS BIGINT)"
)
# the columns a document is built from
DOC_SQL = (
    "reference_id, canonical_id, plusd_id, subject, body, summary, comment, tags, origin, origin_name, "
    "banner_post, classification, sent_at, year, [r.reference_id for r in coalesce(\"references\", [])] AS refs, "
    f"{FP_SQL} AS fp"
)


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


def _analyzers() -> dict[str, Any]:
    import tantivy as t

    prose = (
        t.TextAnalyzerBuilder(t.Tokenizer.simple())
        .filter(t.Filter.remove_long(40))
        .filter(t.Filter.lowercase())
        .filter(t.Filter.ascii_fold())
        .filter(t.Filter.stemmer("english"))
        .build()
    )
    exact = t.TextAnalyzerBuilder(t.Tokenizer.raw()).build()  # values are folded by fold() before
    return {PROSE: prose, EXACT: exact}


_ANALYZERS: dict[str, Any] = {}


def analyzers() -> dict[str, Any]:
    if not _ANALYZERS:
        _ANALYZERS.update(_analyzers())
    return _ANALYZERS


def analyze(text: str) -> list[str]:
    """The prose analyzer's tokens of ``text`` (what a word of a query must be turned into)."""
    return list(analyzers()[PROSE].analyze(text))


def build_schema() -> Any:
    import tantivy as t

    b = t.SchemaBuilder()
    b.add_text_field("key", stored=True, tokenizer_name="raw")  # reference_id, the document key
    b.add_text_field("kind", tokenizer_name="raw")  # "cable" or "meta"
    b.add_integer_field("fp", indexed=True, fast=True)
    b.add_text_field("meta", stored=True, tokenizer_name="raw")
    b.add_text_field("subject", stored=True, tokenizer_name=PROSE)
    b.add_text_field("body", stored=False, tokenizer_name=PROSE)
    b.add_bytes_field("body_z", stored=True)  # the body, zstd: what snippets are cut from
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
    for name, analyzer in analyzers().items():
        index.register_tokenizer(name, analyzer)
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


def read_meta(index: Any) -> dict[str, Any]:
    """The meta document of the index's last commit ({} when there is none)."""
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
    return meta


# -------------------------------------------------------------------------------------------- documents


def _doc(row: dict[str, Any]) -> Any:
    import tantivy as t

    d = t.Document()
    rid = row["reference_id"]
    d.add_text("key", rid)
    d.add_text("kind", "cable")
    d.add_integer("fp", int(row["fp"]))
    for name in ("subject", "body", "summary", "comment"):
        if row.get(name):
            d.add_text(name, row[name])
    if row.get("body"):
        d.add_bytes("body_z", pack(row["body"]))
    for v in {rid, row.get("canonical_id"), row.get("plusd_id")}:
        if v:
            d.add_text("id", fold(v))
    for tag in row.get("tags") or []:
        if tag:
            d.add_text("tag", fold(tag))
            d.add_text("f_tag", tag)
    for v in {row.get("origin"), row.get("origin_name"), row.get("banner_post")}:
        if v:
            d.add_text("origin", fold(v))
    origin = row.get("origin_name") or row.get("origin")
    if origin:
        d.add_text("f_origin", origin)
    cls = row.get("classification")
    if cls:
        d.add_text("f_class", cls)
        for v in {cls, cls.split("//")[0]}:
            d.add_text("classification", fold(v))
    for ref in row.get("refs") or []:
        if ref:
            d.add_text("ref", fold(ref))
    sent = row.get("sent_at")
    if isinstance(sent, datetime):
        d.add_date("sent", sent if sent.tzinfo else sent.replace(tzinfo=UTC))
    if row.get("year") is not None:
        d.add_integer("year", int(row["year"]))
    return d


_PACKERS = threading.local()


def pack(text: str) -> bytes:
    """A stored body: zstd (about 45 % of the text on real cables; tantivy's own lz4 store keeps about 63 %). One
    compressor per thread: making one costs more than compressing a cable."""
    c = getattr(_PACKERS, "c", None)
    if c is None:
        import zstandard

        c = _PACKERS.c = zstandard.ZstdCompressor(level=1)  # level 3 packs 1 % smaller, 1.5x slower
    out: bytes = c.compress(text.encode("utf-8"))
    return out


def unpack(blob: bytes | None) -> str:
    if not blob:
        return ""
    import zstandard

    return zstandard.ZstdDecompressor().decompress(blob).decode("utf-8")


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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def index_fps(index: Any) -> set[int]:
    """The ``fp`` of every cable document of the index's last commit."""
    import tantivy as t

    index.reload()
    searcher = index.searcher()
    n = searcher.num_docs
    if n == 0:
        return set()
    q = t.Query.term_query(index.schema, "kind", "cable")
    res = searcher.search(q, n, count=False)
    return {int(v) for v in searcher.fast_field_values("fp", [a for _, a in res.hits]) if v is not None}


def _lake_pairs(con: Any) -> pa.Table:
    return con.sql(f"SELECT reference_id, run_id, {FP_SQL} AS fp FROM cables").to_arrow_table()


def _rows_for(con: Any, fps: set[int], runs: set[str]) -> Iterator[list[dict[str, Any]]]:
    """The document columns of the rows whose fingerprint is in ``fps``, in batches (filtered on run_id
    first, which lets Parquet statistics skip the row groups of other runs)."""
    if not fps:
        return
    con.register("__search_fps", pa.table({"fp": pa.array(sorted(fps), pa.int64())}))
    con.register("__search_runs", pa.table({"run_id": pa.array(sorted(runs), pa.string())}))
    try:
        reader = con.sql(
            f"SELECT {DOC_SQL} FROM cables WHERE run_id IN (SELECT run_id FROM __search_runs) "
            f"AND {FP_SQL} IN (SELECT fp FROM __search_fps)"
        ).to_arrow_reader(BATCH_ROWS)
        for batch in reader:
            yield batch.to_pylist()
    finally:
        con.unregister("__search_fps")
        con.unregister("__search_runs")


def _snapshot(lake: Path) -> tuple[str, Any]:
    """(version, catalog connection) of one and the same lake version (retried if a publish slips between)."""
    for _ in range(20):
        before = lake_version(lake)
        con = catalog.connect(lake, read_only=True)
        if lake_version(lake) == before:
            return before, con
        con.close()
        time.sleep(0.05)
    raise RuntimeError(f"the lake at {lake} keeps changing; cannot index a stable version")


def sync(lake: Path | str, *, rebuild: bool = False, heap: int = WRITER_HEAP, threads: int = 0) -> SyncResult:
    """Bring ``<lake>/_search`` to the lake's current version (see the module doc); the caller must be the
    only writer of the lake (the pipeline calls it under the lake lock).

    ``rebuild`` (or an index that is missing, unreadable or of another schema) indexes everything anew.
    """
    t0 = time.perf_counter()
    root = Path(lake)
    path = index_dir(root)
    index = None if rebuild else open_index(path)
    meta = {}
    if index is not None:
        try:
            meta = read_meta(index)
        except (OSError, ValueError) as exc:
            log.warning("search index at %s unreadable (%s): rebuilding", path, exc)
            index = None
        if meta.get("schema") != SCHEMA_VERSION:
            index = None
    phases: dict[str, float] = {}
    mark = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(now - mark, 3)
        mark = now

    version, con = _snapshot(root)
    try:
        if index is not None and meta.get("version") == version:
            return SyncResult(version, "current", docs=int(meta.get("docs", 0)), seconds=time.perf_counter() - t0)
        operation = "update"
        if index is None:
            operation = "rebuild"
            if path.exists():
                shutil.rmtree(path)
            index = create_index(path)
            have: set[int] = set()
        else:
            have = index_fps(index)
        phase("open")
        pairs = _lake_pairs(con)
        fps = pairs.column("fp").to_pylist()
        want = set(fps)
        add = want - have
        drop = have - want
        runs = {r for r, f in zip(pairs.column("run_id").to_pylist(), fps, strict=True) if f in add}
        phase("diff")
        writer = index.writer(heap, threads)
        try:
            if operation == "rebuild":
                writer.delete_all_documents()
            for fp in drop:
                writer.delete_documents_by_term("fp", fp)
            added = 0
            for batch in _rows_for(con, add, runs):
                for row in batch:
                    writer.add_document(_doc(row))
                added += len(batch)
            if added != len(add):
                raise RuntimeError(f"search index: {len(add)} rows to add but the catalog gave {added}")
            phase("read+add")
            writer.delete_documents_by_term("key", META_KEY)
            docs = len(want)
            writer.add_document(_meta_doc({"schema": SCHEMA_VERSION, "version": version, "docs": docs,
                                           "synced_at": datetime.now(UTC).isoformat()}))
            writer.commit()
            phase("commit")
            writer.wait_merging_threads()
            phase("merge")
        except BaseException:
            writer.rollback()
            raise
    finally:
        con.close()
    index.reload()
    have_now = _count_cables(index)
    if have_now != docs:  # never expected: the diff went wrong somewhere, so start over rather than lie
        log.warning("search index holds %d cables, the lake %d: rebuilding", have_now, docs)
        if operation != "rebuild":
            return sync(root, rebuild=True, heap=heap, threads=threads)
        raise RuntimeError(f"search index rebuilt with {have_now} cables but the lake has {docs}")
    _gc(index, path)
    phase("gc")
    res = SyncResult(version, operation, added=len(add), deleted=len(drop), docs=docs,
                     seconds=round(time.perf_counter() - t0, 3), phases=phases)
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
