"""The reading room in headless Chromium, used as a person would: search, click a facet, open a cable,
follow a REF link, go back. Assertions are on the DOM; screenshots go to test-artifacts/web/."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from _search_lakes import HOSTILE_ID
from _server import ARTIFACTS, Server
from _webdriver import Browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    try:
        yield b
    finally:
        b.quit()


def hit_ids(b: Browser) -> list[str]:
    return [str(b.attr(el, "data-id")) for el in b.find_all("li.hit")]


def test_search_facet_cable_ref_back(server: Server, browser: Browser) -> None:
    b = browser
    b.get(server.base + "/")
    box = b.wait_for("#q")
    b.type(box, "darfur OR helicopters")
    b.click(b.find("#go"))
    b.wait_for("#summary")
    assert sorted(hit_ids(b)) == ["07MOSCOW5190", "07MOSCOW5349", "08PARIS100", "09TUNIS300"]
    assert b.attr(b.find("#summary"), "data-total") == "4"
    marks = [b.text(m).lower() for m in b.find_all("li.hit .snippet mark")]
    assert "darfur" in marks and "helicopters" in marks
    b.screenshot(ARTIFACTS / "1-search.png")

    # click the facet "tag PGOV": the query is narrowed, the hits follow
    facet = next(el for el in b.find_all("a.facet-link")
                 if b.attr(el, "data-facet") == "tag" and b.attr(el, "data-value") == "PGOV")
    b.click(facet)
    b.wait_for("#summary")
    assert parse_qs(urlparse(b.url).query)["q"] == ['(darfur OR helicopters) AND tag:"PGOV"']
    assert sorted(hit_ids(b)) == ["07MOSCOW5190", "07MOSCOW5349"]
    assert b.attr(b.find("#q"), "value") == '(darfur OR helicopters) AND tag:"PGOV"'
    b.screenshot(ARTIFACTS / "2-facet.png")

    # open a cable
    link = next(el for el in b.find_all("a.hit-link") if b.text(el) == "07MOSCOW5349")
    b.click(link)
    b.wait_for("#cable")
    assert b.url.endswith("/cable/07MOSCOW5349")
    assert "DARFUR" in b.text(b.find("h1"))
    assert [b.attr(p, "id") for p in b.find_all(".para")] == ["p1", "p2", "p3"]
    assert [b.text(m) for m in b.find_all(".para .pmark")] == ["(C)", "(C)", "(C)"]
    b.screenshot(ARTIFACTS / "3-cable.png")

    # follow the REF link to the cited cable, then its backlink list names where we came from
    b.click(b.find("a.ref-link"))
    b.wait_for("#cable")
    assert b.url.endswith("/cable/07MOSCOW5190")
    assert "07MOSCOW5349" in [b.text(el) for el in b.find_all("a.backlink")]
    assert b.find_all("#summary.box")
    b.screenshot(ARTIFACTS / "4-ref.png")

    # back: the first cable again, then the filtered search
    b.back()
    b.wait_for("#cable")
    assert b.url.endswith("/cable/07MOSCOW5349")
    b.back()
    b.wait_for("#summary")
    assert sorted(hit_ids(b)) == ["07MOSCOW5190", "07MOSCOW5349"]

    # a TAG link on the cable page filters the search
    b.get(server.base + "/cable/09TUNIS300")
    tag = next(el for el in b.find_all("a.chip.tag") if b.text(el) == "ETRD")
    b.click(tag)
    b.wait_for("#summary")
    assert hit_ids(b) == ["09TUNIS300"]


def test_hostile_cable_renders_as_text(server: Server, browser: Browser) -> None:
    b = browser
    b.get(server.base + f"/cable/{HOSTILE_ID}")
    b.wait_for("#cable")
    # the markup in the cable is shown as text, nothing of it ran or became an element
    assert b.js("return document.querySelectorAll('#cable script, #cable img, #cable textarea').length") == 0
    with pytest.raises(AssertionError, match="no such alert"):  # no script ran: no alert() dialog is open
        b._s("GET", "/alert/text")
    first = b.text(b.find("#p1 p"))
    assert "<script>alert('xss')</script>" in first and 'onmouseover="alert(1)"' in first
    b.screenshot(ARTIFACTS / "5-hostile.png")


def test_bad_query_message(server: Server, browser: Browser) -> None:
    b = browser
    b.get(server.base + "/")
    b.type(b.wait_for("#q"), '"heavy lift')
    b.click(b.find("#go"))
    err = b.wait_for("#query-error")
    assert "unbalanced quote" in b.text(err)
    b.get(server.base + "/quarantine")
    b.wait_for("#quarantine")
    assert b.attr(b.find("#q-summary"), "data-total") == "1"
    b.screenshot(ARTIFACTS / "6-quarantine.png")
