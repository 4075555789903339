"""Reader limits: the guard rails against bombs, giant lines and runaway archives.

Every limit has a safe default and can be overridden from the environment (``CABLELAKE_LIMIT_<NAME>``,
e.g. ``CABLELAKE_LIMIT_MAX_EXPANDED_BYTES=20000000000``) or by passing a :class:`Limits` to
:func:`etl.sources.iter_records` (the CLI builds one from its ``--limit NAME=VALUE`` options through
:meth:`Limits.with_overrides`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

_ENV_PREFIX = "CABLELAKE_LIMIT_"


@dataclass(frozen=True)
class Limits:
    """Bounds applied while opening dumps and reading records."""

    max_expanded_bytes: int = 16 * 1024**3
    """Total bytes decompressed out of one dump (all members, all nesting levels)."""
    max_member_bytes: int = 4 * 1024**3
    """Bytes decompressed out of one member / one compressed stream."""
    max_ratio: float = 200.0
    """Largest expansion ratio (expanded / compressed) tolerated once a stream exceeds ``ratio_grace_bytes``."""
    ratio_grace_bytes: int = 8 * 1024**2
    """Expanded bytes allowed before the ratio check starts (tiny files compress very well)."""
    max_depth: int = 4
    """How many archives/compressed streams may be nested inside each other."""
    max_members: int = 1_000_000
    """Members read out of one dump (all archives together)."""
    max_record_bytes: int = 64 * 1024**2
    """Largest single record (HTML page, CSV row, JSON line, text cable) read into memory."""
    sniff_bytes: int = 64 * 1024
    """Bytes looked at to detect a format."""
    http_timeout: float = 60.0
    """Seconds of silence tolerated on an HTTP connection."""
    http_retries: int = 5
    """Attempts for one HTTP download (with exponential backoff)."""
    http_max_bytes: int = 8 * 1024**3
    """Largest download accepted."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults overridden by ``CABLELAKE_LIMIT_<NAME>`` variables (invalid values are ignored)."""
        env = os.environ if environ is None else environ
        values = {
            f.name: env[_ENV_PREFIX + f.name.upper()]
            for f in fields(cls)
            if _ENV_PREFIX + f.name.upper() in env
        }
        return cls().with_overrides(values, strict=False)

    def with_overrides(self, values: Mapping[str, str | int | float], strict: bool = True) -> Limits:
        """A copy with some limits changed, e.g. from ``--limit max_depth=2`` (``k`` ``M`` ``G`` suffixes ok)."""
        kinds = {f.name: f.type for f in fields(self)}
        changes: dict[str, int | float] = {}
        for name, raw in values.items():
            key = name.strip().lower()
            if key not in kinds:
                if strict:
                    raise ValueError(f"unknown limit {name!r}; known: {', '.join(sorted(kinds))}")
                continue
            try:
                number = _number(raw)
                changes[key] = float(number) if kinds[key] in (float, "float") else int(number)
            except ValueError:
                if strict:
                    raise
        return replace(self, **changes)  # type: ignore[arg-type]


_SUFFIX = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _number(raw: str | int | float) -> float:
    if isinstance(raw, int | float):
        return float(raw)
    text = raw.strip().lower().removesuffix("b").replace("_", "")
    factor = 1
    if text and text[-1] in _SUFFIX:
        factor = _SUFFIX[text[-1]]
        text = text[:-1]
    return float(text) * factor


DEFAULT_LIMITS = Limits()
