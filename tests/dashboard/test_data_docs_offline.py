"""Great Expectations' Data Docs render styled offline: headless Chromium, every host name resolving to
nothing, opens the index and a validation page of a real run; the page's scripts, Bootstrap styles and the
Font Awesome font come from the packaged copies, and Chromium's network log shows no http(s) request.

(Beside the dashboard's browser tests: the same Chromium harness, ``_browser.py``.)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from _browser import _run, screenshot

from etl.pipeline import run
from etl.validate._docs import external_resources

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

# Appended to a copy of a page: records what loaded into <body data-probe="...">, read back with --dump-dom.
_PROBE = """<script>
(async () => {
  const probe = {};
  const d = document.createElement("div"); d.className = "d-none"; document.body.appendChild(d);
  probe.bootstrap_css = getComputedStyle(d).display === "none";
  probe.jquery = typeof window.jQuery === "function";
  probe.bootstrap_js = !!(window.jQuery && jQuery.fn.tooltip && jQuery.fn.modal);
  probe.bootstrap_table = !!(window.jQuery && jQuery.fn.bootstrapTable);
  probe.datepicker = !!(window.jQuery && jQuery.fn.datepicker);
  probe.vega = typeof window.vegaEmbed === "function" && typeof window.vega === "object";
  const faces = await document.fonts.load('900 16px "Font Awesome 6 Free"');
  probe.font_awesome = faces.length > 0 && document.fonts.check('900 16px "Font Awesome 6 Free"');
  document.body.setAttribute("data-probe", JSON.stringify(probe));
})();
</script>"""


def _probe(page: Path, netlog: Path) -> dict[str, bool]:
    """Open a probed copy of ``page`` (same folder, so its relative links hold) and read the probe back."""
    probed = page.with_name("probed-" + page.name)
    probed.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    res = _run(probed.resolve().as_uri(), "--dump-dom", f"--log-net-log={netlog}")
    probed.unlink()
    assert res.returncode == 0, res.stderr[-2000:]
    start = res.stdout.find("data-probe=")
    assert start > 0, f"the probe did not run\n{res.stdout[:2000]}"
    quoted = res.stdout[start + len("data-probe=") :].split(">", 1)[0].strip().strip('"')
    return dict(json.loads(quoted.replace("&quot;", '"')))


def _requests(netlog: Path) -> list[str]:
    """The network URLs the page asked for: URL_REQUEST_START_JOB events of Chromium's network log made on a
    page's behalf. Chromium's own background services (network time, component updater, account check)
    are left out by their initiator ("not an origin"); their attempts go nowhere either, as every host
    name resolves to nothing."""
    log = json.loads(netlog.read_text(encoding="utf-8", errors="replace"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    jobs = [e.get("params", {}) for e in log["events"] if e["type"] == start_job]
    return [
        p["url"] for p in jobs if "url" in p and p.get("initiator") != "not an origin" and not p["url"].startswith("file:")
    ]


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Data Docs of a real run of the sample dumps, moved to another folder with its shared assets
    (as a copied lake would be): relative links only."""
    lake = tmp_path_factory.mktemp("docs") / "lake"
    run([str(REPO / "sample" / "dumps")], lake)
    moved = tmp_path_factory.mktemp("moved") / "_quality"
    shutil.copytree(lake / "_quality", moved)
    (site,) = moved.rglob("data_docs")  # _quality/<run>/<shard>-<part>/data_docs: the parse worker's chunk
    return site


def test_pages_name_no_external_resource(docs: Path) -> None:
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) >= 2
    for page in pages:
        assert external_resources(page.read_text(encoding="utf-8")) == [], page
    quality = next(folder for folder in docs.parents if folder.name == "_quality")  # one copy for every run
    assert (quality / "_docs_assets" / "bootstrap@4.3.1" / "LICENSE").exists()


@pytest.mark.parametrize("which", ["index", "validation"])
def test_data_docs_render_styled_with_the_network_off(docs: Path, which: str, tmp_path: Path) -> None:
    page = docs / "index.html" if which == "index" else next((docs / "validations").rglob("*.html"))
    netlog = tmp_path / "netlog.json"
    probe = _probe(page, netlog)
    assert probe == dict.fromkeys(
        ("bootstrap_css", "jquery", "bootstrap_js", "bootstrap_table", "datepicker", "vega", "font_awesome"), True
    )
    assert _requests(netlog) == []
    shot = screenshot(page, ARTIFACTS / f"data-docs-{which}.png", height=1600)
    assert shot.stat().st_size > 20_000


def test_the_network_log_sees_a_cdn_request(tmp_path: Path) -> None:
    """The check above can fail: a page that loads from a CDN shows the attempt in the network log."""
    page = tmp_path / "cdn.html"
    page.write_text(
        '<html><head><link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/vega@5"></head><body></body></html>',
        encoding="utf-8",
    )
    netlog = tmp_path / "netlog.json"
    res = _run(page.as_uri(), "--dump-dom", f"--log-net-log={netlog}")
    assert res.returncode == 0
    assert "https://cdn.jsdelivr.net/npm/vega@5" in _requests(netlog)
