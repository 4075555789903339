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


def all_records(corpus: Path) -> list[tuple[str, Any]]:
    """Every cable record of the corpus as ``(label, record)``, read by etl.sources as a run reads them (reader
    error records left out)."""
    from etl.sources import discover, iter_records

    out: list[tuple[str, Any]] = []
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        for dump in discover([str(folder)]):
            for n, rec in enumerate(iter_records(dump)):
                if rec.error is None:
                    out.append((f"{folder.name}/{Path(dump.uri).relative_to(folder.resolve())}#{n}", rec))
    return out
