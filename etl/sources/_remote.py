"""Remote dumps: http(s) downloads (retries with backoff, resume with ``Range``, size cap, checksum) and
object stores (``s3://``, ``gs://``) through fsspec, an optional dependency imported only for those URLs.

A remote dump is downloaded once into the cache (``$CABLELAKE_CACHE``, default ``~/.cache/cablelake``),
hashed while it streams, then read like a local file. A ``#sha256=<hex>`` fragment on the URL is checked
against the download. Credentials never leave this module: :attr:`Dump.uri` and every message carry the
redacted URL (:func:`etl.sources._open.redact`).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from etl.sources._limits import Limits
from etl.sources._model import Dump
from etl.sources._open import redact

_CHUNK = 1024 * 1024
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class DownloadError(OSError):
    """A remote dump could not be fetched (message already redacted)."""


def cache_dir() -> Path:
    """Download cache directory."""
    return Path(os.environ.get("CABLELAKE_CACHE") or Path.home() / ".cache" / "cablelake") / "downloads"


def remote_dump(uri: str, limits: Limits | None = None) -> Dump:
    """Fetch ``uri`` into the cache and describe it; a failure gives a :class:`Dump` with ``error`` set."""
    lim = limits if limits is not None else Limits.from_env()
    url, _, fragment = uri.partition("#")
    expected = fragment.removeprefix("sha256=").lower() if fragment.startswith("sha256=") else None
    shown = redact(url)
    target = cache_dir() / hashlib.sha256(url.encode()).hexdigest()[:32]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if url.lower().startswith(("http://", "https://")):
            digest, size = _download_http(url, target, lim)
        else:
            digest, size = _download_fsspec(url, target, lim)
    except DownloadError as exc:
        return Dump(uri=shown, sha256="", size=0, error=f"download_failed: {exc}")
    except OSError as exc:
        return Dump(uri=shown, sha256="", size=0, error=f"download_failed: {shown}: {redact(str(exc))}")
    if expected and digest != expected:
        return Dump(uri=shown, sha256=digest, size=size, local_path=str(target),
                    error=f"checksum_mismatch: {shown}: sha256 {digest} != expected {expected}")
    return Dump(uri=shown, sha256=digest, size=size, local_path=str(target))


def open_remote(dump: Dump, limits: Limits) -> BinaryIO:
    """Open the cached copy of a remote dump."""
    if dump.error:
        raise DownloadError(dump.error)
    if not dump.local_path:
        raise DownloadError(f"{dump.uri}: not downloaded (call discover())")
    return open(dump.local_path, "rb")


def _download_http(url: str, target: Path, lim: Limits) -> tuple[str, int]:
    """Download with retries; resume a partial ``.part`` file when the server honours ``Range``."""
    part = target.with_suffix(".part")
    shown = redact(url)
    last = ""
    for attempt in range(max(1, lim.http_retries)):
        if attempt:
            time.sleep(min(30.0, 0.2 * 2 ** (attempt - 1)))
        have = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"User-Agent": "cablelake", **({"Range": f"bytes={have}-"} if have else {})})
        try:
            with urllib.request.urlopen(request, timeout=lim.http_timeout) as response:  # noqa: S310 - http(s) only
                status = response.status
                mode = "ab" if (have and status == 206) else "wb"
                if mode == "wb":
                    have = 0
                length = response.headers.get("Content-Length")
                expected_total = have + int(length) if length else None
                if expected_total is not None and expected_total > lim.http_max_bytes:
                    raise DownloadError(f"{shown}: {expected_total} bytes > cap {lim.http_max_bytes}")
                with open(part, mode) as out:
                    while chunk := response.read(_CHUNK):
                        have += len(chunk)
                        if have > lim.http_max_bytes:
                            raise DownloadError(f"{shown}: more than {lim.http_max_bytes} bytes")
                        out.write(chunk)
                if expected_total is not None and have < expected_total:
                    raise OSError(f"short read: {have} of {expected_total} bytes")
            part.replace(target)
            return _hash(target), target.stat().st_size
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            if exc.code == 416 and have:  # range not satisfiable: our partial copy is complete or stale
                part.unlink(missing_ok=True)
                continue
            if exc.code not in _RETRY_STATUS:
                break
        except (urllib.error.URLError, OSError, TimeoutError, http.client.HTTPException) as exc:
            last = f"{type(exc).__name__}: {redact(str(getattr(exc, 'reason', exc)))}"
    raise DownloadError(f"{shown}: {last} after {max(1, lim.http_retries)} attempt(s)")


def _download_fsspec(url: str, target: Path, lim: Limits) -> tuple[str, int]:
    try:
        import fsspec  # optional: pip install fsspec s3fs / gcsfs
    except ImportError as exc:
        raise DownloadError(f"{redact(url)}: object-store URLs need fsspec (+ s3fs/gcsfs): {exc}") from exc
    part = target.with_suffix(".part")
    size = 0
    with fsspec.open(url, "rb") as src, open(part, "wb") as out:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            if size > lim.http_max_bytes:
                raise DownloadError(f"{redact(url)}: more than {lim.http_max_bytes} bytes")
            out.write(chunk)
    part.replace(target)
    return _hash(target), size


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
