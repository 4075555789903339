"""The search language: a case table of queries -> tree (or the error a person reads), then of queries ->
the cables they find on a small lake of known cables."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.search import QueryError, parse, search

PARSES = [
    ("darfur", "darfur"),
    ("Darfur peacekeeping", "(Darfur AND peacekeeping)"),
    ("darfur AND sudan", "(darfur AND sudan)"),
    ("darfur OR sudan", "(darfur OR sudan)"),
    ("a b OR c", "((a AND b) OR c)"),
    ("a (b OR c)", "(a AND (b OR c))"),
    ("NOT darfur", "NOT darfur"),
    ("-darfur sudan", "(NOT darfur AND sudan)"),
    ("anti-war", "anti-war"),  # a hyphen inside a word is not NOT
    ('"heavy lift"', '"heavy lift"'),
    ('subject:"heavy lift" body:sudan', '(subject:"heavy lift" AND body:sudan)'),
    ("negotiat*", "negotiat*"),
    ("tag:PGOV", "tag:PGOV"),
    ("TAG:pgov", "tag:pgov"),
    ("tags:PGOV", "tag:PGOV"),  # alias
    ('origin:"Embassy Moscow"', 'origin:"Embassy Moscow"'),
    ("classification:SECRET", "classification:SECRET"),
    ("class:SECRET", "classification:SECRET"),
    ("id:07MOSCOW5349", "id:07MOSCOW5349"),
    ("ref:07MOSCOW5190", "ref:07MOSCOW5190"),
    ("sent:2007", "sent:[2007-01-01..2008-01-01)"),
    ("sent:2007-02", "sent:[2007-02-01..2007-03-01)"),
    ("sent:2007-12", "sent:[2007-12-01..2008-01-01)"),
    ("sent:2008-02-29", "sent:[2008-02-29..2008-03-01)"),
    ("sent:2007-01..2007-12", "sent:[2007-01-01..2008-01-01)"),
    ("sent:2009..", "sent:[2009-01-01..)"),
    ("sent:..2006-06", "sent:[..2006-07-01)"),
    ("year:2005..2006", "sent:[2005-01-01..2007-01-01)"),
    ("and or not", "(and AND or AND not)"),  # lower case: words
    ("  darfur  ", "darfur"),
]


@pytest.mark.parametrize(("text", "tree"), PARSES)
def test_parse(text: str, tree: str) -> None:
    assert str(parse(text)) == tree


ERRORS = [
    ("", "empty query"),
    ("   ", "empty query"),
    ('"heavy lift', "unbalanced quote"),
    ('darfur "', "unbalanced quote"),
    ("(darfur OR sudan", "unbalanced parenthesis"),
    ("darfur)", "unbalanced parenthesis"),
    ("((a)", "unbalanced parenthesis"),
    ("()", "empty parentheses"),
    ("foo:bar", "unknown field 'foo'"),
    ("note: this", "unknown field 'note'"),
    ("tag:", "has no value"),
    ("tag: PGOV", "has no value"),
    ("tag:(PGOV OR PREL)", "not a group"),
    ("darfur AND", "AND at character 8 has nothing after it"),
    ("OR darfur", "OR at character 1 has nothing before it"),
    ("darfur OR", "has nothing after it"),
    ("NOT", "NOT at character 1 has nothing after it"),
    ("sent:2007-13", "not a real date"),
    ("sent:2007-02-30", "not a real date"),
    ("sent:yesterday", "not a date"),
    ("sent:2008..2007", "ends before it starts"),
    ("sent:..", "needs at least one end"),
    ('sent:"2007"', "a date is not quoted"),
    ("2007-01..2007-12", "needs a field"),
    ("a*", "at least 2 characters"),
    ("*", "at least 2 characters"),
    ("ne*go", "only a trailing *"),
    ('""', "empty phrase"),
    ("x" * 1001, "query too long"),
    (" ".join(["w"] * 65), "too many terms"),
    ("(" * 20 + "a" + ")" * 20, "nested too deeply"),
    ("a\x00b", "NUL"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_malformed_queries_get_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=None) as err:
        parse(text)
    assert message in str(err.value), str(err.value)


# query -> the ids it finds on the test lake (07MOSCOW5349, 08VALLETTA412, 09PORTLOUIS77 from the sample;
# 07MOSCOW5190, 06ATHENS2001, 09TUNIS300, 08PARIS100 invented: see tests/_search_lakes.py)
FINDS = [
    ("darfur", {"07MOSCOW5349", "09TUNIS300", "08PARIS100"}),
    ("Darfur", {"07MOSCOW5349", "09TUNIS300", "08PARIS100"}),
    ("darfur AND tag:PGOV", {"07MOSCOW5349"}),
    ("darfur NOT tag:PGOV", {"09TUNIS300", "08PARIS100"}),
    ("darfur -tag:PGOV -tag:PHUM", {"09TUNIS300"}),
    ("helicopters", {"07MOSCOW5190"}),
    ("helicopter", {"07MOSCOW5190"}),  # stemming: singular finds plural
    ("negotiations", {"07MOSCOW5190", "06ATHENS2001", "09TUNIS300"}),  # negotiated, negotiates
    ("negotiat*", {"07MOSCOW5190", "06ATHENS2001", "09TUNIS300"}),
    ("cafe", {"06ATHENS2001"}),  # ASCII folding: café
    ('"heavy lift"', {"07MOSCOW5349", "07MOSCOW5190"}),
    ('"lift heavy"', set()),
    ('"olive oil"', {"09TUNIS300", "08PARIS100"}),
    ('subject:"olive oil"', {"09TUNIS300"}),
    ("subject:sudan", {"07MOSCOW5190"}),
    ("body:saltanov", {"07MOSCOW5349"}),
    ("summary:helicopters", {"07MOSCOW5190"}),
    ('summary:"heavy lift"', {"07MOSCOW5190"}),  # summary has no positions: all the words
    ("comment:credible", {"06ATHENS2001"}),
    ("tag:PGOV", {"07MOSCOW5349", "07MOSCOW5190", "09PORTLOUIS77"}),
    ("tag:pgov", {"07MOSCOW5349", "07MOSCOW5190", "09PORTLOUIS77"}),
    ("tag:PG", set()),  # TAGS match whole
    ("tag:PG*", {"07MOSCOW5349", "07MOSCOW5190", "09PORTLOUIS77"}),
    ("pgov", {"07MOSCOW5349", "07MOSCOW5190", "09PORTLOUIS77"}),  # a bare TAG
    ('origin:"Embassy Moscow"', {"07MOSCOW5349", "07MOSCOW5190"}),
    ('origin:"AMEMBASSY MOSCOW"', {"07MOSCOW5349", "07MOSCOW5190"}),
    ("origin:moscow", {"07MOSCOW5349", "07MOSCOW5190"}),
    ("origin:Embassy", set()),  # a post matches whole, not word by word
    ('origin:"Embassy Port Louis"', {"09PORTLOUIS77"}),
    ("classification:SECRET", {"06ATHENS2001"}),  # matches SECRET//NOFORN by its level
    ('classification:"SECRET//NOFORN"', {"06ATHENS2001"}),
    ("classification:UNCLASSIFIED", {"09TUNIS300", "08VALLETTA412"}),
    ("id:07MOSCOW5349", {"07MOSCOW5349"}),
    ("id:07moscow5349", {"07MOSCOW5349"}),
    ("07MOSCOW5349", {"07MOSCOW5349"}),
    ("id:07MOSCOW*", {"07MOSCOW5349", "07MOSCOW5190"}),
    ("ref:07MOSCOW5190", {"07MOSCOW5349", "09TUNIS300"}),
    ("sent:2007", {"07MOSCOW5349", "07MOSCOW5190"}),
    ("sent:2007-11", {"07MOSCOW5349"}),
    ("sent:2007-11-09", {"07MOSCOW5349"}),
    ("sent:2007-11-10", set()),
    ("sent:2007-01..2007-10", {"07MOSCOW5190"}),
    ("sent:2009..", {"09PORTLOUIS77", "09TUNIS300"}),
    ("sent:..2006", {"06ATHENS2001"}),
    ("year:2008", {"08PARIS100", "08VALLETTA412"}),
    ("(darfur OR olive) AND sent:2009", {"09TUNIS300"}),
    ("NOT sent:2005..2008", {"09PORTLOUIS77", "09TUNIS300"}),
    ("script", {"08PARIS100"}),
    ("nosuchwordanywhere", set()),
]


@pytest.mark.parametrize(("text", "ids"), FINDS)
def test_finds(lake: Path, text: str, ids: set[str]) -> None:
    res = search(lake, text, limit=50)
    assert {h.reference_id for h in res.hits} == ids
    assert res.total == len(ids)


def test_sort_facets_snippets(lake: Path) -> None:
    res = search(lake, "darfur OR olive", sort="date")
    assert [h.reference_id for h in res.hits] == ["09TUNIS300", "08PARIS100", "07MOSCOW5349"]
    assert [h.reference_id for h in search(lake, "darfur OR olive", sort="oldest").hits] == [
        "07MOSCOW5349", "08PARIS100", "09TUNIS300"]
    rel = search(lake, "darfur")
    assert rel.hits[0].reference_id == "07MOSCOW5349"  # three mentions and the subject beat one
    assert rel.hits[0].score >= rel.hits[-1].score > 0
    # facets count over every hit, not the page
    page = search(lake, "tag:PREL", limit=1)
    assert len(page.hits) == 1 and page.total == 4
    assert dict(page.facets["year"]) == {"2006": 1, "2007": 1, "2008": 1, "2009": 1}
    assert dict(page.facets["classification"]) == {"CONFIDENTIAL": 2, "SECRET//NOFORN": 1,
                                                   "UNCLASSIFIED//FOR OFFICIAL USE ONLY": 1}
    assert dict(page.facets["tag"])["PREL"] == 4 and dict(page.facets["tag"])["PGOV"] == 2
    assert dict(page.facets["origin"])["Embassy Moscow"] == 1
    # snippets hold the hit words, marked, from the paragraphs
    hit = search(lake, '"heavy lift" sudan', limit=5).hits
    moscow = next(h for h in hit if h.reference_id == "07MOSCOW5349")
    marked = [moscow.snippet[a:b].lower() for a, b in moscow.highlights]
    assert "heavy" in marked and "lift" in marked
    assert "<mark>" in moscow.snippet_html() and "**" in moscow.snippet_marked()
    # paging
    all_ids = [h.reference_id for h in search(lake, "NOT id:none", limit=50, sort="date").hits]
    pages = [h.reference_id for off in (0, 3, 6) for h in search(lake, "NOT id:none", limit=3, offset=off,
                                                                    sort="date").hits]
    assert pages == all_ids and len(all_ids) == 7


def test_escaped_snippet(lake: Path) -> None:
    hit = search(lake, "script onmouseover").hits[0]
    assert hit.reference_id == "08PARIS100"
    html = hit.snippet_html()
    assert "<script" not in html and "<img" not in html and '"' not in html
    assert "&lt;script&gt;" in html.replace("<mark>", "").replace("</mark>", "")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sort": "random"}, "unknown sort"),
    ({"limit": 10_000}, "limit must be"),
    ({"limit": -1}, "limit must be"),
    ({"offset": 10**9}, "offset must be"),
])
def test_bad_arguments(lake: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        search(lake, "darfur", **kwargs)  # type: ignore[arg-type]


def test_highlights_count_characters_not_bytes(lake: Path) -> None:
    """Offsets from tantivy are UTF-8 bytes: a snippet with accents before the hit must still mark the word."""
    hit = search(lake, "piraeus").hits[0]
    assert hit.reference_id == "06ATHENS2001" and "café" in hit.snippet
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["Piraeus"]


@pytest.mark.parametrize("max_phrases", [0, 32])  # one regex phrase query, or any of the plain phrases
@pytest.mark.parametrize(("text", "ids"), [
    ('"ministry negotiate"', {"09TUNIS300"}),  # negotiates: the phrase matches any form at each place
    ('"navy negotiating"', {"06ATHENS2001"}),
    ('"said negotiate"', {"07MOSCOW5190"}),
    ('"negotiations with"', {"09TUNIS300"}),
    ('"negotiate navy"', set()),  # the order holds
])
def test_phrases_of_several_forms(lake: Path, monkeypatch: pytest.MonkeyPatch, max_phrases: int, text: str,
                                  ids: set[str]) -> None:
    from etl.search import Searcher, _query

    monkeypatch.setattr(_query, "MAX_PHRASES", max_phrases)
    assert {h.reference_id for h in Searcher(lake, cache=0).search(text, limit=50).hits} == ids
