"""Locate one record of the corpus for a golden file: cablegate pages via the local slicer, other formats via
etl.sources (record index within the file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cablegate_page import read_cablegate_page


def load_record(corpus: Path, rel: str, index: int) -> Any:
    path = corpus / rel
    if rel.startswith("cablegate-html/"):
        return read_cablegate_page(path)
    from etl.sources import discover, iter_records

    records = [r for d in discover([str(path)]) for r in iter_records(d)]
    return records[index]
