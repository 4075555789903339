"""What tantivy's own work costs in a search-index build, by schema, with nothing else in the timing (issue 15).

The documents of the first ``--docs`` rows of a lake's ``cables`` files are made first (Parquet read, folding,
leads: the Python side). Then only tantivy's ``add_document``, ``commit`` and ``wait_merging_threads`` are timed,
for each variant in turn, ``--rounds`` times, alternating:

* ``full``: the index's real schema and documents (:func:`etl.search._index.build_schema`);
* ``body``: the body field alone, with positions (what phrase search over bodies needs, and nothing else);
* ``body-freq``: the body field alone without positions (no phrase search).

It prints the process CPU per document (tantivy's threads included) and the final segment count. Compare the
``body`` figure with the pipeline's own CPU per cable (``bench/search_bench.py`` prints it): it is the least an
index with phrase search over bodies can cost here.

    .venv/bin/python bench/search_build_parts.py LAKE [--docs 60000] [--rounds 2] [--heap BYTES] [--threads N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from etl.search import _index as ix  # noqa: E402


def _body_schema(positions: bool) -> Any:
    import tantivy as t

    b = t.SchemaBuilder()
    b.add_text_field("key", stored=True, tokenizer_name="raw")
    b.add_text_field("body", stored=False, tokenizer_name=ix.PROSE, index_option="position" if positions else "freq")
    return b.build()


def _documents(lake: str, limit: int) -> tuple[list[Any], list[Any], int]:
    """The real documents and the body-only ones of the first ``limit`` rows, and their bodies' bytes."""
    import tantivy as t

    state = ix.lake_state(lake)
    full: list[Any] = []
    body: list[Any] = []
    size = 0
    for rel in sorted(state.files):
        for first, batch in enumerate(ix._batches(state.store, rel)):
            prepared = ix._prepare(batch, rel, first)
            full += ix._documents(prepared)
            for key, text in zip(prepared.column("key").to_pylist(), prepared.column("body").to_pylist(), strict=True):
                d = t.Document()
                d.add_text("key", key)
                if text:
                    d.add_text("body", ix.prose_text(text))
                    size += len(text.encode())
                body.append(d)
            if len(full) >= limit:
                return full[:limit], body[:limit], size
    return full, body, size


def _build(schema: Any | None, docs: list[Any], heap: int, threads: int) -> tuple[float, int]:
    """CPU seconds of adding ``docs`` to a new index of ``schema`` (None: the real one), and its segments."""
    import tantivy as t

    where = Path(tempfile.mkdtemp(prefix="cablelake-build-parts-"))
    try:
        # (the body uses tantivy's built-in "default" analyzer, as the real index does: nothing to register)
        index = ix.create_index(where) if schema is None else ix._register(t.Index(schema, path=str(where)))
        cpu = time.process_time()
        writer = index.writer(heap, threads)
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        cpu = time.process_time() - cpu
        return cpu, len(list(where.glob("*.idx")))
    finally:
        shutil.rmtree(where, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lake")
    ap.add_argument("--docs", type=int, default=60_000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--heap", type=int, default=ix.WRITER_HEAP)
    ap.add_argument("--threads", type=int, default=0, help="tantivy's indexing threads (0: its default)")
    args = ap.parse_args(argv)
    full, body, size = _documents(args.lake, args.docs)
    n = len(full)
    print(f"{n:,} documents, {size / 2**20:,.0f} MiB of body text; heap {args.heap:,} bytes, threads {args.threads}")
    variants = {"full": None, "body": _body_schema(True), "body-freq": _body_schema(False)}
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, schema in variants.items():
            runs[name].append(_build(schema, full if schema is None else body, args.heap, args.threads))
    for name, got in runs.items():
        cpus = [c for c, _ in got]
        print(f"  {name:10} CPU {min(cpus):7.2f} s best, {statistics.median(cpus):7.2f} s median = "
              f"{1e6 * min(cpus) / n:6.0f} us a document (best); segments {[s for _, s in got]}")
    base = min(c for c, _ in runs["full"])
    for name in ("body", "body-freq"):
        print(f"  {name} / full = {min(c for c, _ in runs[name]) / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
