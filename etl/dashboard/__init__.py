"""Dashboard: a static HTML site over the lake (``cablelake dashboard``; nightly from the Airflow asset DAG).

:func:`build` writes ``index.html``, ``data.js`` (every figure as JSON in a script, so the page works from
``file://`` without fetching anything) and ``assets/`` (our own small SVG chart renderer, CSS). Nothing is
loaded from the network. The lake is read through its catalog, opened read-only.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

from etl.catalog import connect
from etl.dashboard._data import TABLE_CAP, collect
from etl.lake import LakePaths, remote_uri

__all__ = ["TABLE_CAP", "build", "default_out"]

log = logging.getLogger(__name__)
_ASSETS = Path(__file__).resolve().parent / "assets"
_COPIED = ("charts.js", "app.js", "style.css")


def default_out(lake: Path | str) -> Path:
    """``<lake>/_dashboard``; for a lake on an object store, in its local work folder (the store is not
    written, and a page opened from ``file://`` needs a disk)."""
    return LakePaths(Path(lake)).root / "_dashboard"


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def build(lake: Path | str, out: Path | str | None = None) -> Path:
    """Write the dashboard of ``lake`` into ``out`` (default :func:`default_out`); returns ``index.html``."""
    t0 = time.perf_counter()
    out_dir = Path(out) if out is not None else default_out(lake)
    con = connect(lake, read_only=True)
    try:
        data = collect(con, remote_uri(lake) or str(Path(lake).resolve()))
    finally:
        con.close()
    (out_dir / "assets").mkdir(parents=True, exist_ok=True)
    for name in _COPIED:
        shutil.copyfile(_ASSETS / name, out_dir / "assets" / name)
    payload = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c")  # harmless in JS strings; keeps "</script>" out of the file
    _write(out_dir / "data.js", f"window.CABLELAKE_DATA = {payload};\n")
    index = out_dir / "index.html"
    _write(index, (_ASSETS / "index.html").read_text(encoding="utf-8"))  # data.js is written first
    log.info("dashboard of %s -> %s in %.2fs", lake, index, time.perf_counter() - t0)
    return index
