"""Headless Chromium (Debian's package) for the dashboard tests: the DOM after scripts ran, screenshots.

Only ``file://`` pages are opened; background networking is off and every host name resolves to nothing,
so the browser cannot reach the network even if a page asked it to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
# headless, no network of its own: background services off, every host name resolves to nothing (IP
# literals too: a test that serves pages on 127.0.0.1 adds ", EXCLUDE 127.0.0.1" to the rule)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def chromium() -> str:
    """Path of the browser; skips the test when it is missing (fails when CI or CABLELAKE_REQUIRE_BROWSER)."""
    for c in CHROMIUM_CANDIDATES:
        found = shutil.which(c)
        if found:
            return found
    msg = "chromium is not installed (`make browser` installs Debian's package)"
    if os.environ.get("CABLELAKE_REQUIRE_BROWSER") or os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def _run(url: str, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="cablelake-chromium-") as profile:
        cmd = [chromium(), *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000", *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def dump_dom(page: Path, fragment: str = "") -> str:
    res = _run(page.resolve().as_uri() + fragment, "--dump-dom")
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 4200) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    res = _run(page.resolve().as_uri(), f"--screenshot={out.resolve()}", f"--window-size={width},{height}")
    assert res.returncode == 0 and out.exists() and out.stat().st_size > 10_000, res.stderr[-2000:]
    return out


class Dom(HTMLParser):
    """What the tests read from the rendered page: chart bars, KPI values, the cables table, body attrs."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.bars: dict[str, list[dict[str, str]]] = {}  # chart -> [{label, series, value}]
        self.hbars: dict[str, list[tuple[str, int]]] = {}  # chart -> [(label, value)] in order
        self.kpis: dict[str, int] = {}
        self.body: dict[str, str] = {}
        self.table_rows: list[str] = []  # ids of the rows of the cables table, in order
        self._chart: str | None = None
        self._depth = 0
        self._in_tbody = False
        self._row_th = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        if tag == "svg" and "data-chart" in a:
            self._chart = a["data-chart"]
            self.bars.setdefault(self._chart, [])
            self.hbars.setdefault(self._chart, [])
        if self._chart and tag == "rect" and "data-value" in a:
            if "data-series" in a:
                self.bars[self._chart].append(
                    {"label": a["data-label"], "series": a["data-series"], "value": a["data-value"]}
                )
            else:
                self.hbars[self._chart].append((a["data-label"], int(a["data-value"])))
        if tag == "li" and a.get("class") == "kpi":
            self.kpis[a["id"]] = int(a["data-value"])
        if tag == "tbody" and a.get("id") == "cables-body":
            self._in_tbody = True
        if self._in_tbody and tag == "th":
            self._row_th = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None
        if tag == "tbody":
            self._in_tbody = False
        if tag == "th":
            self._row_th = False

    def handle_data(self, data: str) -> None:
        if self._in_tbody and self._row_th:
            self.table_rows.append(data)
