"""Open a dump's bytes (local file, or a cached download for URLs) and redact URLs for messages."""

from __future__ import annotations

import re
from typing import BinaryIO

from etl.sources._discover import is_remote
from etl.sources._limits import Limits
from etl.sources._model import Dump

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_SECRET_QUERY = re.compile(
    r"(?i)([?&](?:x-amz-[a-z-]*|signature|sig|token|access_token|key|api_key|apikey|password|secret|"
    r"x-goog-[a-z-]*|awsaccesskeyid)=)[^&#\s]*"
)


def redact(text: str) -> str:
    """Remove credentials from any URL in ``text`` (``user:pass@`` and signed query parameters)."""
    text = _USERINFO.sub(r"\1***@", text)
    return _SECRET_QUERY.sub(r"\1***", text)


def open_dump(dump: Dump, limits: Limits) -> BinaryIO:
    """A binary stream of the dump's bytes."""
    if is_remote(dump.uri):
        from etl.sources._remote import open_remote

        return open_remote(dump, limits)
    return open(dump.uri, "rb")
