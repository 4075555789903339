"""What a format reader knows about the bytes it reads: the dump, the member path, the limits."""

from __future__ import annotations

from dataclasses import dataclass

from etl.sources._limits import Limits
from etl.sources._model import Dump, Lineage, RawRecord

RAW_KEEP = 256 * 1024
"""Characters of ``raw`` kept on error records (quarantine rows stay small)."""


@dataclass(frozen=True)
class Context:
    """A readable thing inside a dump: the dump itself or one member of an archive in it."""

    dump: Dump
    member: str | None
    limits: Limits
    display_uri: str = ""
    """The dump URI with credentials removed (used in error messages)."""

    def lineage(self, location: str, fmt: str, encoding: str | None = None) -> Lineage:
        """Lineage of a record found at ``location`` in this member."""
        return Lineage(
            source_uri=self.display_uri or self.dump.uri,
            source_sha256=self.dump.sha256,
            member=self.member,
            location=location,
            format=fmt,
            encoding=encoding,
        )

    @property
    def where(self) -> str:
        """Human name of this member: ``uri`` or ``uri!member``."""
        uri = self.display_uri or self.dump.uri
        return f"{uri}!{self.member}" if self.member else uri

    def error(
        self,
        reason: str,
        detail: str,
        location: str,
        fmt: str,
        raw: str = "",
        encoding: str | None = None,
    ) -> RawRecord:
        """A reader-level failure as a record: ``error = "reason: detail"``."""
        return RawRecord(
            lineage=self.lineage(location, fmt, encoding),
            raw=raw[:RAW_KEEP],
            error=f"{reason}: {detail}",
        )

    def child(self, name: str) -> Context:
        """Context of a member ``name`` inside this one (``outer.zip!inner.tar!cable.html``)."""
        member = f"{self.member}!{name}" if self.member else name
        return Context(self.dump, member, self.limits, self.display_uri)
