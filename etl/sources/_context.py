"""What a format reader knows about the bytes it reads: the dump, the member path, the limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from etl.sources._limits import Limits
from etl.sources._model import Dump, Lineage, RawRecord

RAW_KEEP = 256 * 1024
"""Characters of ``raw`` kept on error records (quarantine rows stay small)."""


class BombError(Exception):
    """A limit of :class:`Limits` was crossed while expanding a dump (zip/gzip bomb, too many members)."""


@dataclass
class Budget:
    """Running totals for one dump, checked against :class:`Limits`."""

    expanded: int = 0
    members: int = 0

    def add_bytes(self, n: int, limits: Limits) -> None:
        self.expanded += n
        if self.expanded > limits.max_expanded_bytes:
            raise BombError(f"more than {limits.max_expanded_bytes} bytes expanded from one dump")

    def add_member(self, limits: Limits) -> None:
        self.members += 1
        if self.members > limits.max_members:
            raise BombError(f"more than {limits.max_members} members in one dump")


@dataclass(frozen=True)
class Context:
    """A readable thing inside a dump: the dump itself or one member of an archive in it."""

    dump: Dump
    member: str | None
    limits: Limits
    display_uri: str = ""
    """The dump URI with credentials removed (used in error messages)."""
    budget: Budget = field(default_factory=lambda: Budget())
    """Counters shared by every member of one dump (expanded bytes, members)."""

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
        return Context(self.dump, member, self.limits, self.display_uri, self.budget)
