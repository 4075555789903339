"""Record readers, one module per dump format. Each exposes ``read(ctx, stream, head) -> Iterator[RawRecord]``.

Modules are imported lazily by :func:`reader_for` so optional heavy dependencies (pypdf) load only when a
dump of that format shows up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord

Reader = Callable[[Context, BinaryIO], Iterator[RawRecord]]

_MODULES = {
    "cablegate-html": "cablegate_html",
    "plusd-html": "plusd_html",
    "html": "cablegate_html",
    "text": "text",
    "markdown": "text",
    "csv": "csv",
    "jsonl": "jsonl",
    "pdf": "pdf",
}


def reader_for(fmt: str) -> Reader | None:
    """The ``read`` function for a detected format, or ``None`` when there is no reader for it."""
    module = _MODULES.get(fmt)
    if module is None:
        return None
    mod = importlib.import_module(f"etl.sources._formats.{module}")
    reader: Reader = getattr(mod, "read_markdown" if fmt == "markdown" else "read")
    return reader
