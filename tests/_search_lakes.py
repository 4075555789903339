"""A small lake for the search and reading-room tests: the bundled sample plus invented telegrams with known
words, TAGS, origins, classifications, dates and REF links (one cites another, so links and backlinks
exist), and one hostile cable whose text holds markup and attribute-breaking quotes."""

from __future__ import annotations

import shutil
from pathlib import Path

from etl.pipeline import run

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample" / "dumps"
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
BANNERS = {"C": "C O N F I D E N T I A L", "S": "S E C R E T", "U": "UNCLAS"}
HOSTILE_ID = "08PARIS100"
HOSTILE_SUBJECT = 'QUOTES " ONMOUSEOVER=ALERT(9) AND <B>TAGS</B>'
HOSTILE_LINE = "<script>alert('xss')</script> \" onmouseover=\"alert(1)\" ' onfocus='alert(2)' </textarea><img src=x>"


def telegram(post: str, serial: int, year: int, month: int, day: int, *, level: str = "C", tags: str = "PGOV PREL",
             subject: str, paragraphs: list[str], refs: list[str] = (), noforn: bool = False) -> str:  # type: ignore[assignment]
    yy = year % 100
    mark = {"C": "C", "S": "S", "U": "SBU"}[level]
    lines = [
        f"VZCZCXYZ{serial:04d}",
        "OO RUEHWEB",
        f"DE RUEHXX #{serial:04d} {day:02d}01341",
        "ZNY CCCCC ZZH",
        f"O {day:02d}1341Z {MONTHS[month - 1]} {yy:02d}",
        f"FM AMEMBASSY {post}",
        "TO RUEHC/SECSTATE WASHDC IMMEDIATE 5172",
        f"{BANNERS[level]} {post} {serial:06d}",
        "",
    ]
    if noforn:
        lines += ["NOFORN", ""]
    lines += ["SIPDIS", "", f"E.O. 12958: DECL: {month:02d}/{day:02d}/{year + 10}" if level != "U" else "E.O. 12958: N/A",
              f"TAGS: {tags}", f"SUBJECT: {subject}", ""]
    if refs:
        lines += ["REF: " + "\n     ".join(f"{chr(65 + i)}. {r}" for i, r in enumerate(refs)), ""]
    for i, p in enumerate(paragraphs, 1):
        lines += [f"{i}. ({mark}) {p}", ""]
    lines.append(f"{post}SIGNATURE")
    return "\n".join(lines) + "\n"


CABLES: dict[str, str] = {
    "07MOSCOW5190": telegram(
        "MOSCOW", 5190, 2007, 10, 25, tags="PGOV PREL SU RS", subject="SUDAN: RUSSIA WEIGHS HEAVY LIFT HELICOPTERS",
        paragraphs=["Summary: Moscow is weighing a request for heavy lift helicopters for Sudan. End summary.",
                    "The Ministry of Defense said negotiations on the helicopters continue."],
    ),
    "06ATHENS2001": telegram(
        "ATHENS", 2001, 2006, 3, 14, level="S", tags="PREL MARR GR", subject="GREEK NAVY AND THE OLYMPIC SECURITY PLAN",
        paragraphs=["The navy negotiated a new security plan with the café owners of Piraeus.",
                    "Comment: the plan is credible. End comment."], noforn=True,
    ),
    "09TUNIS300": telegram(
        "TUNIS", 300, 2009, 12, 2, level="U", tags="ECON ETRD TS", subject="TUNISIA OLIVE OIL EXPORTS",
        paragraphs=["Olive oil exports rose; the ministry negotiates with Brussels.",
                    "Darfur was not discussed."], refs=["07 MOSCOW 5190"],
    ),
    HOSTILE_ID: telegram(
        "PARIS", 100, 2008, 1, 9, tags="PHUM FR", subject=HOSTILE_SUBJECT,
        paragraphs=[HOSTILE_LINE, "Second paragraph mentions Darfur and olive oil."], refs=["07 MOSCOW 5349"],
    ),
}


def write_dumps(folder: Path, cables: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in SAMPLE.iterdir():
        shutil.copy(f, folder / f.name)
    for rid, text in (CABLES if cables is None else cables).items():
        (folder / f"{rid}.txt").write_text(text, encoding="utf-8")
    return folder


def search_lake(root: Path) -> Path:
    """Dumps under ``root/in``, the lake (with its index) at ``root/lake``."""
    lake = root / "lake"
    run([str(write_dumps(root / "in"))], lake)
    return lake
