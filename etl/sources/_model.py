"""Data carried out of the sources stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dump:
    """One input given to a run: a file (possibly an archive) or a URL."""

    uri: str
    """The dump as the user named it (absolute local path or URL)."""
    sha256: str
    """Content hash of the dump's bytes (the manifest key)."""
    size: int
    local_path: str | None = None
    """Where the bytes are when ``uri`` is remote (a downloaded copy in the cache); ``None`` for local dumps."""
    error: str | None = None
    """Why a remote dump could not be fetched (then ``iter_records`` yields one error record)."""


@dataclass(frozen=True)
class Lineage:
    """Where a record was found. Every row of ``cables`` and ``quarantine`` carries it."""

    source_uri: str
    """The dump (file path or URL) as given to the run."""
    source_sha256: str
    """sha256 of the dump's bytes."""
    member: str | None
    """Path inside the archive, ``!``-joined for nested archives; ``None`` for a plain file."""
    location: str
    """Place inside the member/file: ``byte 1234``, ``row 17``, ``line 3``, ``record 5``, ``page``."""
    format: str
    """Detected format: ``cablegate-html``, ``text``, ``markdown``, ``csv``, ``jsonl``, ``plusd-html``, ``pdf``..."""
    encoding: str | None = None
    """Text encoding used to decode the bytes (``utf-8``, ``cp1252``...)."""


@dataclass
class RawRecord:
    """One cable as found in a dump.

    ``header`` and ``body`` are plain text (HTML entities decoded, markup removed, line ends ``\\n``).
    ``meta`` holds what the dump states *beside* the text (publisher metadata): keys among
    ``reference_id``, ``created`` (``YYYY-MM-DD HH:MM`` as published), ``created_precision``
    (``minute``/``hour``), ``released``, ``classification``, ``origin``, ``references``, ``subject``,
    ``partial`` ("1" for cablegate "partial extract" records).
    ``error`` is set (and text may be empty) when the record could not be read at all: the record then
    goes to quarantine with that reason.
    """

    lineage: Lineage
    header: str = ""
    body: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    raw: str = ""
    """The record as found (decoded), kept for quarantine; may be truncated for huge inputs."""
    error: str | None = None
    """``reason: detail`` when the reader could not produce a cable (unknown format, cut-off row...)."""
