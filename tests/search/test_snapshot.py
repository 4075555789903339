"""A searcher's snapshot (one version check for several searches) and its results kept per lake version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _search_lakes import search_lake, telegram, write_dumps
from hypothesis import given
from hypothesis import strategies as st

from etl.pipeline import run
from etl.search import Searcher, Snapshot
from etl.search import _search as searching


def _count(monkeypatch: pytest.MonkeyPatch, name: str, where: object = searching) -> list[int]:
    """Calls of ``where.name`` from now on, counted (the real function still runs)."""
    real = getattr(where, name)
    calls = [0]

    def counted(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(where, name, counted)
    return calls


def test_a_snapshot_checks_the_lake_once(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Searcher(lake, cache=0)
    s.search("darfur")  # the index is open
    checks = _count(monkeypatch, "lake_version")
    snap = s.at()
    assert checks[0] == 1
    assert snap.search("darfur").total == 3 and snap.search('id:"07MOSCOW5349"', snippets=False).total == 1
    assert snap.search('ref:"07MOSCOW5349"', sort="date", facets=False).version == snap.version
    assert checks[0] == 1  # the snapshot's searches ran at its version without asking the lake again
    s.search("darfur")
    assert checks[0] == 2  # a search of the searcher itself checks


def test_results_are_kept_per_lake_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = search_lake(tmp_path)
    s = Searcher(lake)
    runs = _count(monkeypatch, "_run", Snapshot)
    first = s.search("glaciers OR darfur")
    again = s.search("glaciers OR darfur")
    assert runs[0] == 1 and again.hits == first.hits and again.facets == first.facets
    assert s.search("glaciers OR darfur", offset=1).hits == first.hits[1:] and runs[0] == 2  # another page
    assert s.search("glaciers OR darfur", snippets=False).total == first.total and runs[0] == 3

    # a publish: the kept result is of the old version, so the next search runs (and sees the new cable)
    (tmp_path / "in" / "new.txt").write_text(telegram(
        "OSLO", 79, 2009, 5, 5, tags="SENV NO", subject="FJORD CLIMATE PLAN", paragraphs=["Fjords and glaciers."]))
    run([str(tmp_path / "in")], lake)
    after = s.search("glaciers OR darfur")
    assert runs[0] == 4 and after.version != first.version and after.total == first.total + 1
    assert "09OSLO79" in {h.reference_id for h in after.hits}

    # without a cache every search runs
    bare = Searcher(lake, cache=0)
    bare.search("glaciers")
    bare.search("glaciers")
    assert runs[0] == 6


def test_cache_size_from_the_environment(monkeypatch: pytest.MonkeyPatch, lake: Path) -> None:
    monkeypatch.setenv("CABLELAKE_SEARCH_CACHE", "0")
    assert Searcher(lake).cache == 0
    monkeypatch.setenv("CABLELAKE_SEARCH_CACHE", "7")
    assert Searcher(lake).cache == 7
    monkeypatch.setenv("CABLELAKE_SEARCH_CACHE", "many")
    assert Searcher(lake).cache == searching.CACHE_RESULTS


def test_the_cache_is_bounded_in_hits(lake: Path) -> None:
    s = Searcher(lake, cache=10**6)  # (bounded by hits only)
    big = s.search("NOT id:none", limit=500, snippets=False)
    assert len(big.hits) > 5
    per = len(big.hits)
    keep = searching.CACHE_HITS // per
    for i in range(keep + 3):
        s.remember(big.version, ("q", i), big)
    assert len(s._results) == keep and s._results_hits == keep * per <= searching.CACHE_HITS
    assert s.cached(big.version, ("q", keep + 2)) is big and s.cached(big.version, ("q", 0)) is None  # oldest out
    assert s.cached("v-other", ("q", keep + 2)) is None  # never across versions


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], set[str]]]:
    """The reads of lake rows searches make from now on, as (columns, ids) (the real reads still run)."""
    read: list[tuple[list[str], set[str]]] = []
    real = Searcher.rows

    def rows(self: Searcher, hits: list, columns: list[str] | None = None) -> dict:  # type: ignore[type-arg]
        read.append((list(columns or []), {h.reference_id for h in hits}))
        return real(self, hits, columns)

    monkeypatch.setattr(Searcher, "rows", rows)
    return read


def test_snippets_from_the_lead_read_no_body(lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hit whose summary holds a query word is cut from its lead, stored in the index: only the hits without
    one read the body column (the long one) of their row group, and nothing else is read."""
    s = Searcher(lake, cache=0)
    real = Searcher.rows
    read = _reads(monkeypatch)
    res = s.search("helicopters OR darfur")
    by_id = {h.reference_id: h for h in res.hits}
    assert {"07MOSCOW5190", "07MOSCOW5349"} <= set(by_id)
    summary = real(s, [by_id["07MOSCOW5190"]], ["summary"])
    text = next(iter(summary.values()))["summary"]
    assert "heavy lift helicopters" in text
    assert len(read) <= 1 and all(cols == ["body"] and "07MOSCOW5190" not in ids for cols, ids in read), read
    hit = by_id["07MOSCOW5190"]
    assert [hit.snippet[a:b].lower() for a, b in hit.highlights] == ["helicopters"] and hit.snippet in " ".join(text.split())
    for h in res.hits:  # every hit has its snippet, from the summary or the body, with a query word marked
        assert h.highlights and {h.snippet[a:b].lower() for a, b in h.highlights} <= {"helicopters", "darfur"}

    read.clear()  # a TAG has no word to show: a hit with a summary shows its opening lines
    tagged = {h.reference_id: h for h in s.search("tag:SU").hits}
    assert "07MOSCOW5190" in tagged and tagged["07MOSCOW5190"].snippet == " ".join(text.split())[:240]
    assert read == []  # every hit has a lead: no row of the lake is read


def test_a_word_past_the_lead_is_cut_from_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index keeps only the first LEAD_CHARS of a summary (or of the paragraphs of a cable without one): a
    word found further on, or too near the cut to show its context, is cut from the whole summary (a cheap
    column) or else from the body, read from the lake."""
    filler = "The delegation discussed routine consular matters at some length. " * 12  # ~800 characters
    cables = {
        "08PARIS101": telegram("PARIS", 101, 2008, 3, 4, subject="FRANCE: AIRSHIPS",
                               paragraphs=[f"Summary: An airship visit was proposed. {filler} A zeppelin too. End summary.",
                                           "Details follow, with a dirigible."]),
        "08PARIS102": telegram("PARIS", 102, 2008, 3, 5, subject="FRANCE: MORE AIRSHIPS",
                               paragraphs=["An airship was seen.", filler, "Then a zeppelin landed in Lyon."]),
    }
    lake = tmp_path / "lake"
    run([str(write_dumps(tmp_path / "in", cables))], lake)
    s = Searcher(lake, cache=0)
    read = _reads(monkeypatch)
    early = {h.reference_id: h for h in s.search("airship").hits}
    assert {"08PARIS101", "08PARIS102"} <= set(early) and read == []  # both from their leads
    late = {h.reference_id: h for h in s.search("zeppelin").hits}
    assert set(late) == {"08PARIS101", "08PARIS102"}
    assert read == [(["summary"], {"08PARIS101"}), (["body"], {"08PARIS102"})]  # the summary is read, not its body
    for h in late.values():  # the word is shown, from the summary or the body
        assert [h.snippet[a:b].lower() for a, b in h.highlights] == ["zeppelin"], h.snippet
    read.clear()  # a word outside the summary: the summary is read, then the body
    (hit,) = s.search("dirigible").hits
    assert read == [(["summary"], {"08PARIS101"}), (["body"], {"08PARIS101"})]
    assert [hit.snippet[a:b].lower() for a, b in hit.highlights] == ["dirigible"], hit.snippet


@pytest.mark.parametrize(("summary", "body", "expected"), [
    ("A precis.", "ignored", ("summary", "A precis.", True)),
    ("x" * 500, None, ("summary", "x" * 480, False)),
    (None, "TAGS: PGOV\nSUBJECT: S\n\n1. (C) First.\n\n2. (C) Second.\n", ("opening", "\n1. (C) First.\n\n2. (C) Second.\n", True)),
    ("", "No numbered paragraphs at all.", ("opening", "No numbered paragraphs at all.", True)),
    (None, "é" * 481, ("opening", "é" * 480, False)),  # characters, not bytes
    (None, None, None),
    ("", "", None),
])
def test_snippet_lead(summary: str | None, body: str | None, expected: tuple[str, str, bool] | None) -> None:
    from etl.search._index import snippet_lead, split_lead

    assert split_lead(snippet_lead(summary, body)) == expected


@given(st.text(alphabet=" \t\n\r1.2xA", max_size=40))
def test_first_para_is_where_the_multiline_pattern_finds_it(body: str) -> None:
    from etl.search._index import first_para

    m = re.search(r"(?m)^\s*1\.\s", body)
    assert first_para(body) == (m.start() if m else None)
