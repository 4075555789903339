"""``iter_records``: open a dump, walk its containers, detect each file's format, stream its records.

Nothing here raises for bad input: every problem becomes a :class:`RawRecord` with ``error`` set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from etl.sources._context import BombError, Context
from etl.sources._detect import detect_container, detect_format
from etl.sources._limits import Limits
from etl.sources._model import Dump, RawRecord
from etl.sources._streams import with_head


def iter_records(dump: Dump, limits: Limits | None = None) -> Iterator[RawRecord]:
    """Stream every record of ``dump`` (a file or URL from :func:`~etl.sources.discover`).

    ``limits`` defaults to :meth:`Limits.from_env`. Records come in file order; archives are walked
    member by member without extracting to disk (except 7z and zip read from a non-seekable source,
    which are spooled to a temporary file).
    """
    lim = limits if limits is not None else Limits.from_env()
    from etl.sources._open import open_dump, redact

    ctx = Context(dump=dump, member=None, limits=lim, display_uri=redact(dump.uri))
    if dump.error:
        reason, _, detail = dump.error.partition(": ")
        yield ctx.error(reason, detail, "byte 0", "unknown")
        return
    try:
        stream = open_dump(dump, lim)
    except OSError as exc:
        yield ctx.error("unreadable", f"{ctx.where}: {redact(str(exc))}", "byte 0", "unknown")
        return
    with stream:
        yield from read_stream(ctx, stream, depth=0)


def read_stream(ctx: Context, stream: BinaryIO, depth: int) -> Iterator[RawRecord]:
    """Detect what ``stream`` holds and yield its records (recursing into containers)."""
    try:
        head, buffered = with_head(stream, max(ctx.limits.sniff_bytes, 512))
    except (OSError, EOFError, ValueError) as exc:
        yield ctx.error("unreadable", f"{ctx.where}: {exc}", "byte 0", "unknown")
        return
    container = detect_container(head)
    if container is not None:
        if depth >= ctx.limits.max_depth:
            yield ctx.error("too_deep", f"{container} nested deeper than {ctx.limits.max_depth} levels",
                            "byte 0", container)
            return
        from etl.sources._archive import read_container

        yield from read_container(ctx, buffered, container, depth)
        return
    fmt = detect_format(head)
    yield from read_format(ctx, buffered, fmt)


def read_format(ctx: Context, stream: BinaryIO, fmt: str) -> Iterator[RawRecord]:
    """Run the reader of ``fmt`` over ``stream``; unknown/empty/binary content gives one error record."""
    if fmt in ("unknown", "binary", "empty"):
        reason = {"unknown": "unknown_format", "binary": "binary_content", "empty": "empty_file"}[fmt]
        yield ctx.error(reason, ctx.where, "byte 0", "unknown")
        return
    from etl.sources._formats import reader_for

    try:
        reader = reader_for(fmt)
    except ImportError as exc:
        yield ctx.error("missing_dependency", f"{fmt}: {exc}", "byte 0", fmt)
        return
    if reader is None:  # pragma: no cover - every detected format has a reader
        yield ctx.error("unknown_format", ctx.where, "byte 0", "unknown")
        return
    try:
        yield from reader(ctx, stream)
    except BombError as exc:
        yield ctx.error("bomb", f"{ctx.where}: {exc}", "byte ?", fmt)
    except (OSError, EOFError, ValueError, UnicodeError, MemoryError) as exc:
        # a reader met a stream failure (truncated compressed data, I/O error): report and stop this member
        from etl.sources._open import redact

        yield ctx.error("read_failed", f"{ctx.where}: {type(exc).__name__}: {redact(str(exc))}", "byte ?", fmt)
