"""Parse stage: cable text -> fields (one key per column of ``schemas/cables.json``).

Public face:

* :func:`parse` - a :class:`etl.sources.RawRecord` -> ``dict`` of fields plus ``_problems``. Never raises.
* :func:`parse_text` - the same for a whole telegram given as text (header split off with :func:`split_cable`).
* :func:`split_cable` - ``text -> (routing header, body from the banner on)``.
* :func:`cable_found` - whether a parsed record showed a cable at all (else it is quarantined ``no_cable_found``).
* :data:`PARSER_VERSION`.

Everything else lives in private modules (``_dtg``, ``_decl``, ``_tags``, ``_header``, ``_body``...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from etl.parse._version import PARSER_VERSION

if TYPE_CHECKING:
    from etl.parse._layout import split_cable
    from etl.sources import RawRecord

__all__ = ["PARSER_VERSION", "cable_found", "parse", "parse_text", "split_cable"]

_CABLE_FIELDS = ("reference_id", "dtg", "origin", "banner_level", "eo_raw", "tags_raw", "transmission_id", "de_serial")


def __getattr__(name: str) -> Any:
    """:func:`split_cable`, imported when first asked for: the parser's modules compile their rules when
    loaded (about 0.1 s), which a run that parses nothing (it records only :data:`PARSER_VERSION`) skips."""
    if name == "split_cable":
        from etl.parse._layout import split_cable

        globals()[name] = split_cable
        return split_cable
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def cable_found(fields: Mapping[str, Any]) -> bool:
    """A parsed record showed a cable: an id, or one of its landmarks read (DTG, FM line, banner, E.O., TAGS,
    VZCZC, DE line). A SUBJECT line alone does not make a cable (memos have one)."""
    return any(fields.get(k) for k in _CABLE_FIELDS)


def parse(record: RawRecord) -> dict[str, Any]:
    """Fields of one raw record. Never raises: problems are listed under ``_problems``."""
    header = getattr(record, "header", "") or ""
    body = getattr(record, "body", "") or ""
    meta = getattr(record, "meta", None) or {}
    fmt = getattr(getattr(record, "lineage", None), "format", None)
    from etl.parse._core import parse_parts  # (loaded on the first call; see __getattr__)

    return parse_parts(header if isinstance(header, str) else "", body if isinstance(body, str) else "",
                       meta if isinstance(meta, Mapping) else {}, fmt if isinstance(fmt, str) else None)


def parse_text(text: str, meta: Mapping[str, str] | None = None, source_format: str | None = None) -> dict[str, Any]:
    """Fields of a whole telegram given as one text (routing header + body, anything around them)."""
    from etl.parse._core import parse_parts

    return parse_parts("", text if isinstance(text, str) else "", meta or {}, source_format)
