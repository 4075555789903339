"""A minimal cablegate-HTML page slicer for the parse tests (independent of etl.sources)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

_PRE = re.compile(r"<code><pre>(.*?)</pre></code>", re.S)
_CELL = re.compile(r"<td>\s*<a href='[^']*'[^>]*>([^<]*)</a>\s*</td>", re.S)
_LINK = re.compile(r"<a\b[^>]*>(.*?)</a>", re.S)


@dataclass
class Rec:
    """Duck-typed stand-in for etl.sources.RawRecord (header, body, meta)."""

    header: str = ""
    body: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def _plain(block: str) -> str:
    block = _LINK.sub(lambda m: "" if m.group(1) == "\u00b6" else m.group(1), block)
    return block.replace("&#x000A;", "\n")


def read_cablegate_page(path: Path) -> Rec:
    """Slice a cablegate page: metadata table cells, and the one or two <code><pre> blocks."""
    page = path.read_text(encoding="utf-8", errors="replace")
    start = page.find("<table class='cable'>")
    end = page.find("</table>", start)
    cells = [html.unescape(c).strip() for c in _CELL.findall(page[start:end])] if start >= 0 else []
    meta: dict[str, str] = {}
    if len(cells) >= 5:
        meta = {"reference_id": cells[0], "created": cells[1], "created_precision": "hour",
                "released": cells[2], "classification": cells[3], "origin": cells[4]}
    blocks = _PRE.findall(page)
    header, body = ("", _plain(blocks[-1])) if len(blocks) == 1 else (_plain(blocks[0]), _plain(blocks[-1]))
    if header.startswith("This record is a partial extract"):
        meta["partial"] = "1"
    return Rec(header=header, body=body, meta=meta)
