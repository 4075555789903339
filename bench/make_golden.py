"""Write tests/parse/golden/<ID>.json expected-field files for a stratified selection of corpus cables.

Each file holds only expected field values (never the cable text), keyed by corpus path + record index.
Run after reviewing the parser output; every file must then be checked by reading the cable.
``.venv/bin/python bench/make_golden.py [--only ID...]``
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "parse")]

from corpus_records import load_record  # noqa: E402
from golden_fields import project  # noqa: E402

from etl.parse import parse  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
OUT = REPO / "tests" / "parse" / "golden"


def selection() -> list[tuple[str, int]]:
    picks: list[tuple[str, int]] = []
    by_year: dict[str, list[Path]] = defaultdict(list)
    for p in sorted((CORPUS / "cablegate-html" / "cable").rglob("*.html")):
        by_year[p.parts[-3]].append(p)
    for _year, paths in sorted(by_year.items()):
        n = min(len(paths), 8)
        step = max(1, len(paths) // n)
        picks += [(str(p.relative_to(CORPUS)), 0) for p in paths[::step][:n]]
    for p in sorted((CORPUS / "cablegate-html-variants").glob("*.html")):
        if ".site-2010-12-13" not in p.name:
            picks.append((str(p.relative_to(CORPUS)), 0))
    picks += [(str(p.relative_to(CORPUS)), 0) for p in sorted((CORPUS / "raw-text").iterdir())]
    picks += [("cables-csv/cables-head-rows-1-37.csv", i) for i in range(0, 37, 2)]
    picks += [("jsonl/" + p.name, i) for p in sorted((CORPUS / "jsonl").glob("*.json")) for i in (0, 7)]
    picks += [(str(p.relative_to(CORPUS)), 0) for p in sorted((CORPUS / "plusd-html").glob("*.html"))]
    picks.append(("markdown/000_4d500f1337488d4e.txt", 0))
    return picks


def main(argv: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    names: set[str] = set()
    for rel, idx in selection():
        rec = load_record(CORPUS, rel, idx)
        row = parse(rec)
        rid = row["reference_id"] or Path(rel).stem
        fmt = rel.split("/")[0]
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", rid)
        if name in names:
            name = f"{name}.{fmt}"
        names.add(name)
        if argv and name not in argv:
            continue
        doc = {"corpus_path": rel, "record": idx, "format": fmt, "expected": project(row)}
        old = OUT / f"{name}.json"
        if old.exists():  # a regenerated file keeps its review note and known gaps, and must be re-checked
            prev = json.loads(old.read_text(encoding="utf-8"))
            doc.update({k: prev[k] for k in ("review", "known_gaps") if k in prev})
            doc["review"] = "REGENERATED - check by hand again; was: " + str(doc.get("review", ""))
        (OUT / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(len(names), "golden files in", OUT)


if __name__ == "__main__":
    main(sys.argv[1:])
