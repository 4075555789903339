"""Quality configuration: thresholds and rule parameters of the validate stage.

Defaults are generous; override them from a JSON or TOML file (``QualityConfig.load(path)`` or
``$CABLELAKE_QUALITY_CONFIG``) and/or single environment variables::

    CABLELAKE_MAX_QUARANTINE_SHARE=0.2       # share of rows the validate stage may quarantine
    CABLELAKE_MAX_RULE_SHARE=0.3             # default per-rule max failure share
    CABLELAKE_ARCHIVE_FIRST_YEAR=1960        # sent_at must lie in [first, last]
    CABLELAKE_ARCHIVE_LAST_YEAR=2011
    CABLELAKE_THRESHOLD_MIN_ROWS=50          # thresholds apply to runs of at least this many rows

A file may hold the keys of :class:`QualityConfig` at top level or under ``[quality]``; ``rule_max_share``
maps rule names to their own limit (``{"tags_known": 0.9}``).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_FILE = "CABLELAKE_QUALITY_CONFIG"
_ENV_KEYS = {
    "CABLELAKE_MAX_QUARANTINE_SHARE": ("max_quarantine_share", float),
    "CABLELAKE_MAX_RULE_SHARE": ("max_rule_share", float),
    "CABLELAKE_ARCHIVE_FIRST_YEAR": ("archive_first_year", int),
    "CABLELAKE_ARCHIVE_LAST_YEAR": ("archive_last_year", int),
    "CABLELAKE_THRESHOLD_MIN_ROWS": ("threshold_min_rows", int),
}


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds (checked by :func:`etl.validate.check_thresholds`) and suite parameters."""

    max_quarantine_share: float = 0.5
    """Largest share of input rows the validate stage may reject."""
    max_rule_share: float = 0.5
    """Default largest failure share of any single rule (error or warning)."""
    threshold_min_rows: int = 50
    """Shares over a handful of rows say nothing about a dump: thresholds apply from this many rows on."""
    rule_max_share: Mapping[str, float] = field(default_factory=dict)
    """Per-rule overrides of ``max_rule_share``."""
    archive_first_year: int = 1960
    """First year of the archive span (rule sent_at_in_archive)."""
    archive_last_year: int = 2011
    """Last year of the archive span."""
    data_docs: bool = True
    """Build GX Data Docs under the quality dir."""
    result_list_cap: int = 1000
    """Unexpected values/indices kept per rule in the written result JSON and Data Docs (all are used)."""

    def limit_for(self, rule: str) -> float:
        """The max failure share of ``rule``."""
        return float(self.rule_max_share.get(rule, self.max_rule_share))

    def suite_parameters(self) -> dict[str, Any]:
        """Values for the ``{"$PARAMETER": name}`` placeholders of the suites."""
        return {"archive_first_year": self.archive_first_year, "archive_last_year": self.archive_last_year}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> QualityConfig:
        """Build from a mapping (top-level keys or a ``quality`` section); unknown keys are an error."""
        section = data.get("quality", data)
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ValueError(f"unknown quality config keys: {sorted(unknown)}")
        values = dict(section)
        if "rule_max_share" in values:
            values["rule_max_share"] = {str(k): float(v) for k, v in values["rule_max_share"].items()}
        return cls(**values)

    @classmethod
    def load(cls, path: str | Path | None = None, env: Mapping[str, str] | None = None) -> QualityConfig:
        """Defaults, then the file (``path`` or ``$CABLELAKE_QUALITY_CONFIG``, JSON or TOML), then env vars."""
        env = os.environ if env is None else env
        path = path or env.get(ENV_FILE)
        config = cls()
        if path:
            p = Path(path)
            text = p.read_text(encoding="utf-8")
            data = tomllib.loads(text) if p.suffix.lower() == ".toml" else json.loads(text)
            config = cls.from_mapping(data)
        overrides = {attr: conv(env[key]) for key, (attr, conv) in _ENV_KEYS.items() if env.get(key)}
        return replace(config, **overrides) if overrides else config
