"""PDF prints of cables (wkhtmltopdf renderings of cable pages): the text layer, read with pypdf.

pypdf is an optional dependency imported only when a PDF shows up. The text of all pages, joined with
newlines, goes into ``body`` (``header = ""``: the parser splits). Pilcrows alone on a line are joined to
their paragraph. ``partial = "1"`` when the print says "This record is a partial extract of the original
cable". A PDF without a text layer (a scan) or that pypdf cannot read gives an error record.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord
from etl.sources._streams import read_one_record
from etl.sources._text import normalize_newlines, strip_paragraph_pilcrows

FORMAT = "pdf"
_PARTIAL = "This record is a partial extract of the original cable"


def read(ctx: Context, stream: BinaryIO) -> Iterator[RawRecord]:
    """Yield the one cable printed in a PDF."""
    location = "record 1"
    data = read_one_record(ctx, stream, "PDF", location, FORMAT)
    if isinstance(data, RawRecord):
        yield data
        return
    try:
        import pypdf
    except ImportError:
        yield ctx.error("missing_dependency", "pypdf is needed to read PDF dumps (pip install pypdf)", location, FORMAT)
        return
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken files; never crash the run
        yield ctx.error("bad_pdf", f"{ctx.where}: {type(exc).__name__}: {exc}", location, FORMAT)
        return
    text = normalize_newlines("\n".join(p.rstrip("\n") for p in pages))
    if not text.strip():
        yield ctx.error("no_text_layer", f"{ctx.where}: PDF has no extractable text ({len(pages)} pages)",
                        location, FORMAT)
        return
    meta = {"partial": "1"} if _PARTIAL in text[:2000] else {}
    yield RawRecord(
        lineage=ctx.lineage(location, FORMAT, "utf-8"),
        header="",
        body=strip_paragraph_pilcrows(text),
        meta=meta,
        raw=text,
    )
