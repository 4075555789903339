"""Containers: compressed streams (gzip, bz2, xz, zstd) and archives (tar, zip, 7z), nested.

Members are streamed, never extracted to disk; zip and 7z need random access, so when they are not a
seekable local file they are spooled to a temporary file (bounded by ``Limits.max_member_bytes``).
Member paths join with ``!`` (``outer.zip!inner.tar!cable.html``).

Hostile input is reported, never followed: members with absolute paths or ``..`` components, symbolic and
hard links, device files and FIFOs each give one ``unsafe_member`` error record and are not read.
Decompression is metered (:class:`Metered`): expanded bytes per member and per dump, the expansion ratio
and the nesting depth are bounded by :class:`~etl.sources._limits.Limits`; crossing one stops that member
with a ``bomb`` error record and the rest of the dump is still read.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, BinaryIO, cast

from etl.sources._context import BombError, Context
from etl.sources._model import RawRecord

_SUFFIXES = {"gzip": (".gz", ".tgz"), "bz2": (".bz2", ".tbz2", ".tbz"), "xz": (".xz", ".txz"), "zstd": (".zst", ".zstd")}
_COPY = 1024 * 1024
_SeekReader = Callable[[Context, BinaryIO, int], Iterator[RawRecord]]


class Counting(io.RawIOBase):
    """Read-through wrapper counting the bytes read (the compressed side, for the ratio check)."""

    def __init__(self, inner: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        if n:
            buffer[:n] = data
            self.count += n
            self._after_read(n)
        return n

    def _after_read(self, n: int) -> None:
        """Hook for subclasses, called with the size of every non-empty read."""


class Metered(Counting):
    """Read-through wrapper that enforces the expansion limits on a decompressed stream."""

    def __init__(self, inner: IO[bytes], source: Counting | None, ctx: Context) -> None:
        super().__init__(inner)
        self._source = source
        self._ctx = ctx

    def _after_read(self, n: int) -> None:
        lim = self._ctx.limits
        self._ctx.budget.add_bytes(n, lim)
        if self.count > lim.max_member_bytes:
            raise BombError(f"member expands past {lim.max_member_bytes} bytes")
        if self._source is not None and self.count > lim.ratio_grace_bytes:
            ratio = self.count / max(1, self._source.count)
            if ratio > lim.max_ratio:
                raise BombError(f"expansion ratio {ratio:.0f} > {lim.max_ratio:.0f}")


def read_container(ctx: Context, stream: BinaryIO, kind: str, depth: int) -> Iterator[RawRecord]:
    """Yield the records of every member of a container."""
    from etl.sources._read import read_stream

    try:
        if kind in _SUFFIXES:
            source = Counting(stream)
            inner = _decompressor(kind, cast(BinaryIO, io.BufferedReader(source, _COPY)))
            metered = io.BufferedReader(Metered(inner, source, ctx), _COPY)
            yield from read_stream(ctx.child(_stream_member_name(ctx, kind)), cast(BinaryIO, metered), depth + 1)
        elif kind == "tar":
            yield from _read_tar(ctx, stream, depth)
        elif kind == "zip":
            yield from _with_seekable(ctx, stream, kind, depth, _read_zip)
        elif kind == "7z":
            yield from _with_seekable(ctx, stream, kind, depth, _read_7z)
        else:  # pragma: no cover
            yield ctx.error("unknown_format", f"container {kind}: {ctx.where}", "byte 0", kind)
    except BombError as exc:
        yield ctx.error("bomb", f"{ctx.where}: {exc}", "byte ?", kind)
    except (OSError, EOFError, ValueError, tarfile.TarError, zipfile.BadZipFile, RuntimeError) as exc:
        from etl.sources._open import redact

        yield ctx.error("bad_archive", f"{ctx.where}: {type(exc).__name__}: {redact(str(exc))}", "byte ?", kind)


def _decompressor(kind: str, raw: BinaryIO) -> IO[bytes]:
    if kind == "gzip":
        import gzip

        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(raw, mode="rb")
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(raw, mode="rb")
    import zstandard  # optional dependency, imported only for .zst dumps

    return cast(IO[bytes], zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True))


def _stream_member_name(ctx: Context, kind: str) -> str:
    """Name of the single member of a compressed stream: the outer name without its suffix."""
    outer = posixpath.basename((ctx.member or ctx.dump.uri).split("!")[-1].split("?")[0]) or kind
    for suffix in _SUFFIXES[kind]:
        if outer.lower().endswith(suffix):
            stem = outer[: -len(suffix)]
            return stem + ".tar" if suffix.startswith(".t") and suffix != ".tar" and len(suffix) > 3 else stem
    return f"{outer}.{kind}-content" if outer else f"{kind}-content"


def unsafe_name(name: str) -> str | None:
    """Why an archive member name is unsafe (absolute path, ``..``, drive letter, NUL), or ``None``."""
    if not name:
        return "empty name"
    if "\x00" in name:
        return "NUL byte in name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    if ".." in norm.split("/"):
        return "'..' in path"
    return None


def _read_tar(ctx: Context, stream: BinaryIO, depth: int) -> Iterator[RawRecord]:
    from etl.sources._read import read_stream

    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for n, info in enumerate(tar, 1):
            if info.isdir():
                continue
            ctx.budget.add_member(ctx.limits)
            name = info.name
            child = ctx.child(name)
            location = f"member {n}"
            problem = unsafe_name(name)
            if problem is None and not info.isreg():
                kind = ("symlink" if info.issym() else "hard link" if info.islnk() else
                        "device file" if info.isdev() else "fifo" if info.isfifo() else f"type {info.type!r}")
                target = f" -> {info.linkname}" if info.issym() or info.islnk() else ""
                problem = f"{kind}{target}"
            if problem is not None:
                yield child.error("unsafe_member", f"{problem}: {child.where} (not read)", location, "tar")
                continue
            if info.size > ctx.limits.max_member_bytes:
                yield child.error("bomb", f"member of {info.size} bytes > {ctx.limits.max_member_bytes}", location, "tar")
                continue
            member = tar.extractfile(info)
            if member is None:  # pragma: no cover - regular files always have data
                continue
            metered = io.BufferedReader(Metered(member, None, ctx), _COPY)
            try:
                yield from read_stream(child, cast(BinaryIO, metered), depth + 1)
            except BombError as exc:
                yield child.error("bomb", f"{child.where}: {exc}", location, "tar")


def _with_seekable(ctx: Context, stream: BinaryIO, kind: str, depth: int, reader: _SeekReader) -> Iterator[RawRecord]:
    """Run ``reader`` on a seekable file: the dump itself when it is a local file, else a spooled copy."""
    raw = getattr(stream, "raw", None)
    target = getattr(raw, "_stream", None)
    if ctx.member is None and target is not None and hasattr(target, "seek") and target.seekable():
        target.seek(0)
        yield from reader(ctx, cast(BinaryIO, target), depth)
        return
    with tempfile.TemporaryFile(prefix="cablelake-") as spool:
        copied = 0
        while chunk := stream.read(_COPY):
            copied += len(chunk)
            if copied > ctx.limits.max_member_bytes:
                raise BombError(f"{kind} member larger than {ctx.limits.max_member_bytes} bytes")
            spool.write(chunk)
        spool.seek(0)
        yield from reader(ctx, cast(BinaryIO, spool), depth)


def _read_zip(ctx: Context, fileobj: BinaryIO, depth: int) -> Iterator[RawRecord]:
    from etl.sources._read import read_stream

    with zipfile.ZipFile(fileobj) as archive:
        for n, info in enumerate(archive.infolist(), 1):
            if info.is_dir():
                continue
            ctx.budget.add_member(ctx.limits)
            child = ctx.child(info.filename)
            location = f"member {n}"
            mode = info.external_attr >> 16
            problem = unsafe_name(info.filename)
            if problem is None and mode and (mode & 0o170000) not in (0, 0o100000):
                problem = "symlink" if (mode & 0o170000) == 0o120000 else f"special file (mode {oct(mode)})"
            if problem is None and info.flag_bits & 0x1:
                problem = "encrypted member"
            if problem is not None:
                yield child.error("unsafe_member", f"{problem}: {child.where} (not read)", location, "zip")
                continue
            lim = ctx.limits
            if info.file_size > lim.max_member_bytes or (
                info.file_size > lim.ratio_grace_bytes and info.file_size / max(1, info.compress_size) > lim.max_ratio
            ):
                yield child.error("bomb", f"declared {info.file_size} bytes from {info.compress_size}: {child.where}",
                                  location, "zip")
                continue
            try:
                with archive.open(info) as member:
                    metered = io.BufferedReader(Metered(cast(IO[bytes], member), None, ctx), _COPY)
                    yield from read_stream(child, cast(BinaryIO, metered), depth + 1)
            except BombError as exc:
                yield child.error("bomb", f"{child.where}: {exc}", location, "zip")
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
                yield child.error("bad_archive", f"{child.where}: {type(exc).__name__}: {exc}", location, "zip")


def _read_7z(ctx: Context, fileobj: BinaryIO, depth: int) -> Iterator[RawRecord]:
    import py7zr  # optional dependency, imported only for .7z dumps
    from py7zr.io import BytesIOFactory

    from etl.sources._read import read_stream

    with py7zr.SevenZipFile(fileobj, mode="r") as archive:
        if archive.needs_password():
            yield ctx.error("unsafe_member", f"encrypted 7z archive: {ctx.where} (not read)", "byte 0", "7z")
            return
        infos = archive.list()
        for n, info in enumerate(infos, 1):
            if info.is_directory:
                continue
            ctx.budget.add_member(ctx.limits)
            child = ctx.child(info.filename)
            location = f"member {n}"
            problem = unsafe_name(info.filename)
            if problem is None and (getattr(info, "is_symlink", False) or getattr(info, "is_junction", False)):
                problem = "symlink"
            if problem is not None:
                yield child.error("unsafe_member", f"{problem}: {child.where} (not read)", location, "7z")
                continue
            size = int(info.uncompressed or 0)
            if size > ctx.limits.max_member_bytes:
                yield child.error("bomb", f"member of {size} bytes > {ctx.limits.max_member_bytes}", location, "7z")
                continue
            ctx.budget.add_bytes(size, ctx.limits)
            factory = BytesIOFactory(ctx.limits.max_member_bytes)
            archive.reset()
            archive.extract(targets=[info.filename], factory=factory)
            product = factory.products.get(info.filename)
            data = b""
            if product is not None:
                product.seek(0)
                data = product.read()
            yield from read_stream(child, io.BytesIO(data), depth + 1)

