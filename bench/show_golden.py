"""Print what a golden file pins beside the cable it pins it for: the record's metadata, header and body text.

For the hand review of tests/parse/golden: ``.venv/bin/python bench/show_golden.py 07MOSCOW5349 [...]``
(the cable text comes from ../shared/corpus, never from the parser).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "parse")]

from corpus_records import load_record  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
GOLDEN = REPO / "tests" / "parse" / "golden"


def show(name: str) -> None:
    doc = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    rec = load_record(CORPUS, doc["corpus_path"], doc["record"])
    print(f"===== {name}: {doc['corpus_path']} record {doc['record']} ({doc['format']})")
    print("----- metadata from the dump:")
    for k, v in (getattr(rec, "meta", None) or {}).items():
        print(f"  {k}: {v!r}")
    header = getattr(rec, "header", "") or ""
    body = getattr(rec, "body", "") or getattr(rec, "text", "") or ""
    if header:
        print("----- header text:")
        print(header)
    print("----- body text:")
    print(body)
    print("----- golden expected:")
    print(json.dumps(doc["expected"], indent=1, ensure_ascii=False))


if __name__ == "__main__":
    for n in sys.argv[1:]:
        show(n.removesuffix(".json"))
