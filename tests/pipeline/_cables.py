"""Synthetic plain-text cables (our own invented text) for the lake and pipeline tests.

A plain module (not conftest) so that test files import it by a unique name: ``from _cables import ...``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample" / "dumps"
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
POSTS = ("MOSCOW", "PARIS", "VALLETTA", "TUNIS", "ROME", "MADRID", "ATHENS", "OSLO")


def cable_text(post: str, serial: int, year: int, *, paragraphs: int = 2, header: bool = True) -> str:
    """An invented telegram: routing header, banner, DTG, FM, E.O., TAGS, SUBJECT and numbered paragraphs."""
    yy = year % 100
    day = 1 + serial % 28
    month = MONTHS[serial % 12]
    lines = []
    if header:
        lines += [
            f"VZCZCXYZ{serial:04d}",
            "OO RUEHWEB",
            f"DE RUEHXX #{serial:04d} {day:02d}01341",
            "ZNY CCCCC ZZH",
            f"O {day:02d}1341Z {month} {yy:02d}",
            f"FM AMEMBASSY {post}",
            "TO RUEHC/SECSTATE WASHDC IMMEDIATE 5172",
        ]
    lines += [
        f"C O N F I D E N T I A L {post} {serial:06d}",
        "",
        "SIPDIS",
        "",
        f"E.O. 12958: DECL: 11/09/{year + 10}",
        "TAGS: PGOV PREL XX",
        f"SUBJECT: INVENTED TEST CABLE {serial} FROM {post}",
        "",
    ]
    for p in range(1, paragraphs + 1):
        lines += [f"{p}. (C) Invented paragraph {p} of test cable {serial}; it reports nothing real.", ""]
    lines.append("SIGNATURE")
    return "\n".join(lines) + "\n"


def cable_id(post: str, serial: int, year: int) -> str:
    return f"{year % 100:02d}{post}{serial}"


Maker = Callable[..., list[str]]


def many(n: int, start: int = 1) -> list[tuple[str, int, int]]:
    return [(POSTS[i % len(POSTS)], start + i, 2005 + i % 5) for i in range(n)]
