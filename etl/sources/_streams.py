"""Small stream helpers: put sniffed bytes back in front of a stream, read with a size cap."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO

from etl.sources._model import RawRecord

if TYPE_CHECKING:
    from etl.sources._context import Context


class Prepended(io.RawIOBase):
    """A read-only stream that yields ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        return n


def with_head(stream: BinaryIO, sniff: int) -> tuple[bytes, BinaryIO]:
    """Read up to ``sniff`` bytes for detection; return them and a stream that still starts with them."""
    head = read_exactly(stream, sniff)
    buffered = io.BufferedReader(Prepended(head, stream), buffer_size=1024 * 1024)
    return head, buffered


def read_exactly(stream: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes unless the stream ends first (streams may return short reads)."""
    chunks: list[bytes] = []
    missing = size
    while missing > 0:
        chunk = stream.read(missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def read_bounded(stream: BinaryIO, limit: int) -> tuple[bytes, bool]:
    """Read a whole stream but at most ``limit`` bytes. Returns ``(data, complete)``.

    ``complete`` is False when the stream had more than ``limit`` bytes (the rest is drained unread).
    """
    data = read_exactly(stream, limit + 1)
    if len(data) <= limit:
        return data, True
    while stream.read(1024 * 1024):
        pass
    return data[:limit], False


def read_one_record(ctx: Context, stream: BinaryIO, what: str, location: str, fmt: str) -> bytes | RawRecord:
    """The whole of a stream that holds one record (a page, a PDF, a JSON array), or, when it is larger than
    ``ctx.limits.max_record_bytes``, a ``record_too_large`` error record naming ``what`` and ``location``."""
    data, complete = read_bounded(stream, ctx.limits.max_record_bytes)
    if complete:
        return data
    return ctx.error("record_too_large", f"{what} larger than {ctx.limits.max_record_bytes} bytes", location, fmt)
