"""Containers (archives and compressed streams). Phase-1 stub: reported, not yet opened."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import Context
from etl.sources._model import RawRecord


def read_container(ctx: Context, stream: BinaryIO, kind: str, depth: int) -> Iterator[RawRecord]:
    """Yield the records inside a container (not implemented yet: one error record)."""
    yield ctx.error("unsupported_container", f"{kind} not supported yet: {ctx.where}", "byte 0", kind)
