"""The reading room over real HTTP (``cablelake serve`` on 127.0.0.1): pages, escaping of hostile cable text,
hostile queries and paths (clear 4xx pages, never a 500 or a traceback), a publish while it runs."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from _search_lakes import HOSTILE_ID, telegram
from _server import Server

from etl.pipeline import run


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def names(self) -> set[str]:
        return {t for t, _ in self.tags}

    def attributes(self) -> set[str]:
        return {a for _, attrs in self.tags for a in attrs}

    def by_class(self, cls: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if cls in (a.get("class") or "").split()]


def assert_inert(html: str) -> None:
    """No markup from cable text got through: no script/img element, no event-handler attribute."""
    page = Tags(html)
    assert not page.names() & {"script", "img", "iframe", "object", "embed", "textarea"}, page.names()
    assert not [a for a in page.attributes() if a.lower().startswith("on")], page.attributes()


def search_then_read(server: Server) -> tuple[str, Tags]:
    """The design cable found by a search (with its TAG facet), then its page: REF B (MOSCOW 5190) is in the
    lake, a link; it is cited by the Paris cable, a backlink. Returns the cable page (html, parsed)."""
    status, html, _ = server.get("/?q=" + quote("darfur AND tag:PGOV"))
    page = Tags(html)
    assert status == 200 and [a["data-id"] for a in page.by_class("hit")] == ["07MOSCOW5349"]
    assert any(a.get("data-facet") == "tag" and a.get("data-value") == "KPKO" for a in page.by_class("facet-link"))
    status, html, _ = server.get("/cable/07MOSCOW5349")
    page = Tags(html)
    assert status == 200 and "RUSSIAN DFM SALTANOV ON DARFUR" in html
    assert [a["href"] for a in page.by_class("ref-link")] == ["/cable/07MOSCOW5190"]
    assert [a["href"] for a in page.by_class("backlink")] == ["/cable/08PARIS100"]
    return html, page


def test_pages(server: Server) -> None:
    status, html, headers = server.get("/")
    assert status == 200 and 'name="q"' in html
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    html, page = search_then_read(server)
    assert len(page.by_class("ref-missing")) == 1  # REF A (STATE 147667) is not in the lake: plain text
    assert [a.get("id") for a in page.by_class("para")] == ["p1", "p2", "p3"]
    assert any("comment" in (a.get("class") or "") for a in page.by_class("para"))
    assert "source_uri" in html and "run_id" in html and "Raw text" in html
    status, html, _ = server.get("/cable/07MOSCOW5190")
    assert status == 200 and [a["href"] for a in Tags(html).by_class("backlink")] == [
        "/cable/09TUNIS300", "/cable/07MOSCOW5349"]  # newest first
    assert 'class="box summary"' in html
    status, html, _ = server.get("/quarantine")
    assert status == 200 and 'data-total="1"' in html and "dtg_valid" in html
    status, html, _ = server.get("/quarantine?reason=dtg_valid")
    assert status == 200 and 'data-total="1"' in html
    status, html, _ = server.get("/dashboard/")
    assert status == 200 and "lake dashboard" in html
    status, js, headers = server.get("/dashboard/data.js")
    assert status == 200 and "CABLELAKE_DATA" in js and headers["content-type"].startswith("text/javascript")


def test_hostile_cable_is_escaped(server: Server) -> None:
    status, html, _ = server.get(f"/cable/{HOSTILE_ID}")
    assert status == 200
    assert_inert(html)
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html or "&lt;script&gt;alert(&#x27;xss&#x27;)" in html
    assert 'onmouseover=&#34;alert(1)&#34;' in html or "onmouseover=&quot;alert(1)&quot;" in html
    status, html, _ = server.get("/?q=" + quote("script onmouseover"))
    assert status == 200 and HOSTILE_ID in html
    assert_inert(html)
    status, html, _ = server.get("/?q=" + quote("tag:PHUM"))
    assert_inert(html)


HOSTILE_QUERIES = [
    '"unbalanced', "(darfur", "darfur)", "foo:bar", "sent:2007-13", "sent:2009..2001", "a*", "AND", "NOT",
    "x" * 5000, "<script>alert(1)</script>", '" onmouseover="alert(1)', "tag:\x00", "\x00", "😀" * 50,
    "((((((((((((((((((((a))))))))))))))))))))", " ".join(["w"] * 200), "id:" + "9" * 300, "%00", "sent:..",
    "origin:\"'><img src=x onerror=alert(1)>\"", "a" * 41 + "*",
]


@pytest.mark.parametrize("q", HOSTILE_QUERIES)
def test_hostile_queries(server: Server, q: str) -> None:
    status, html, _ = server.get("/?q=" + quote(q))
    assert status in (200, 400), status
    assert "Traceback" not in html
    assert_inert(html)
    if status == 400:
        assert 'id="query-error"' in html and "Cannot run this query" in html


HOSTILE_PATHS = [
    ("/cable/..%2F..%2F..%2Fetc%2Fpasswd", 404), ("/cable/%00", 404), ("/cable/" + quote("<script>"), 404),
    ("/cable/" + "A" * 5000, 404), ("/cable/07MOSCOW5349%27%20OR%201=1--", 404), ("/cable/", 404),
    ("/static/..%2F_app.py", 404), ("/static/../../etc/passwd", 404), ("/dashboard/..%2F..%2F_current.json", 404),
    ("/dashboard/../../../etc/passwd", 404), ("/nothing", 404), ("/?page=-5&q=darfur", 200),
    ("/?page=999999999999&q=darfur", 200), ("/?page=abc&q=darfur", 200), ("/?sort=%3Cx%3E&q=darfur", 400),
    ("/quarantine?page=-1", 200), ("/quarantine?page=zz", 200), ("/quarantine?reason=%27;drop%20table", 200),
]


@pytest.mark.parametrize(("path", "expect"), HOSTILE_PATHS)
def test_hostile_paths(server: Server, path: str, expect: int) -> None:
    status, html, _ = server.get(path)
    assert status == expect, (path, status)
    assert "Traceback" not in html and "root:" not in html
    assert_inert(html)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_read_only(server: Server, method: str) -> None:
    status, _, _ = server.get("/?q=darfur", method=method)
    assert status == 405


def test_publish_while_serving(tmp_path: Path) -> None:
    """A publish while the server runs: the next request sees the new cable and index, no restart."""
    from _search_lakes import search_lake

    lake = search_lake(tmp_path)
    srv = Server(lake)
    try:
        status, html, _ = srv.get("/?q=glaciers")
        assert status == 200 and 'data-total="0"' in html
        old = Tags(html)
        (tmp_path / "in" / "new.txt").write_text(telegram(
            "OSLO", 79, 2009, 7, 7, tags="SENV NO", subject="GLACIER WATCH", paragraphs=["Glaciers retreat."]))
        run([str(tmp_path / "in")], lake)
        status, html, _ = srv.get("/?q=glaciers")
        assert status == 200 and 'data-total="1"' in html and "09OSLO79" in html
        assert "".join(Tags(html).text) != "".join(old.text)
        assert srv.get("/cable/09OSLO79")[0] == 200
        status, html, _ = srv.get("/dashboard/data.js")
        assert status == 200 and "09OSLO79" in html  # the dashboard is rebuilt for the new version
    finally:
        err = srv.stop()
    assert "Traceback" not in err, err[-3000:]


def test_time_budget(lake_root: Path) -> None:
    """A request that passes the time budget is answered 503 with a message (here the budget is ~0)."""
    from starlette.testclient import TestClient

    from etl.web import create_app

    with TestClient(create_app(lake_root / "lake", budget=1e-9)) as client:
        res = client.get("/?q=darfur")
    assert res.status_code == 503 and "narrow the query" in res.text
