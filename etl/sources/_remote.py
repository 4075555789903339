"""Remote dumps (http(s), s3, gs). Phase-1 stub."""

from __future__ import annotations

from typing import BinaryIO

from etl.sources._limits import Limits
from etl.sources._model import Dump


def remote_dump(uri: str) -> Dump:
    """A :class:`Dump` for a URL (not implemented yet)."""
    raise NotImplementedError("remote dumps are not supported yet")


def open_remote(dump: Dump, limits: Limits) -> BinaryIO:
    """Open a remote dump (not implemented yet)."""
    raise OSError("remote dumps are not supported yet")
