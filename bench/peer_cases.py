"""Score the field rules on a local file of hard cases (input fragment -> expected value). Fetches nothing.

Usage: ``.venv/bin/python bench/peer_cases.py CASES.jsonl [--show]``

One JSON object a line: ``{"field": F, "input": TEXT, "expected": VALUE}``, optional ``"year"`` (the cable's
year, for REF items without one) and ``"reference_id"`` (the cable's own id, dropped from its references).
Fields and what is compared:

* ``classified_by`` - the name on the Classified By line (a string; a list: its first name; ``[]``: none);
* ``references`` - the cable ids of the REF block, in order (a list of ids);
* ``tags`` - the clean tags of the TAGS line (a list);
* ``summary``, ``signer`` (a string; a list: its first name), ``subject``, ``canonical_id`` - strings.

Strings are compared with runs of whitespace collapsed; ``--show`` prints every case that differs.
"""

from __future__ import annotations

import collections
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from etl.parse import _body, _ids, _paras, _refs, _tags, _vocab  # noqa: E402


def _refs_of(case: dict[str, Any]) -> list[str]:
    block = _body.find_references(case["input"])
    refs = _refs.parse_references(block, case.get("year"), case.get("reference_id"))
    return [str(r["reference_id"]) for r in refs if r["kind"] == "cable"]


def _tags_of(case: dict[str, Any]) -> list[str]:
    raw = _body.find_tags(case["input"])
    return [d["tag"] for d in _vocab.fix_tags(_tags.split_tags(raw))] if raw else []


FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "classified_by": lambda c: _paras.classified_by(c["input"])[0],
    "references": _refs_of,
    "tags": _tags_of,
    "summary": lambda c: _paras.summary(c["input"]),
    "signer": lambda c: _paras.signature(c["input"]),
    "subject": lambda c: _body.find_subject(c["input"])[1],
    "canonical_id": lambda c: _ids.canonical_id(c["input"]),
}


def _norm(value: Any, field: str) -> Any:
    if field in ("classified_by", "signer") and isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return " ".join(value.split()) or None
    if isinstance(value, list):
        return [_norm(v, field) for v in value]
    return value


def main(argv: list[str]) -> int:
    show = "--show" in argv
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) != 1:
        print(__doc__)
        return 2
    stats: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for n, line in enumerate(Path(paths[0]).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        field = case.get("field")
        if field not in FIELDS:
            print(f"{paths[0]}:{n}: unknown field {field!r} (one of {', '.join(FIELDS)})", file=sys.stderr)
            stats["?"]["skipped"] += 1
            continue
        try:
            got = _norm(FIELDS[field](case), field)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed case, the scoring goes on
            got = f"error: {type(exc).__name__}: {exc}"
        want = _norm(case.get("expected"), field)
        ok = got == want
        stats[field]["agree" if ok else "differ"] += 1
        if show and not ok:
            print(f"{paths[0]}:{n} {field}: got {got!r}, expected {want!r}")
    print(f"{'field':15} {'agree':>6} {'of':>6} {'%':>6}")
    total = agree = 0
    for field, c in sorted(stats.items()):
        k = c["agree"] + c["differ"]
        if k:
            print(f"{field:15} {c['agree']:6} {k:6} {100 * c['agree'] / k:6.1f}")
        total += k
        agree += c["agree"]
    if total:
        print(f"{'all':15} {agree:6} {total:6} {100 * agree / total:6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
