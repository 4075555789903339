"""Which fields the corpus golden files pin, and how a parsed row is projected onto them (JSON-able)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

GOLDEN_FIELDS = (
    "reference_id", "canonical_id", "dtg", "sent_at", "sent_at_source", "precedence", "origin", "origin_name",
    "classification", "banner_level", "banner_post", "banner_serial", "banner_section", "caveats", "eo", "decl_raw",
    "decl_kind", "decl_date", "tags", "subject", "transmission_id", "de_serial", "security_word", "to_first",
    "info_count", "reference_ids", "classified_by_name", "classification_reason_section", "classification_reasons",
    "paragraph_count", "first_mark", "signature", "redaction_count", "is_partial", "has_summary",
)


def project(row: dict[str, Any]) -> dict[str, Any]:
    def j(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M")
        if isinstance(v, date):
            return v.isoformat()
        return v

    to = row.get("to_addressees") or []
    paras = row.get("paragraphs") or []
    extra = {
        "to_first": to[0]["address"] if to else None,
        "info_count": len(row.get("info_addressees") or []),
        "reference_ids": [r["reference_id"] for r in row.get("references") or [] if r["reference_id"]],
        "paragraph_count": len(paras),
        "first_mark": paras[0]["portion_mark"] if paras else None,
        "has_summary": bool(row.get("summary")),
    }
    return {f: j(extra[f] if f in extra else row.get(f)) for f in GOLDEN_FIELDS}
