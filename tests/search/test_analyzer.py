"""The prose analyzer of queries is the index's: tantivy's compiled ``en_stem`` on ASCII-folded text.

The index gives its prose fields to tantivy's built-in ``en_stem`` (``etl.search._index.PROSE``) after
:func:`prose_text`; a query word goes through :func:`analyze`, a chain built in Python. If the two ever
disagreed (a tantivy upgrade changing en_stem, a filter missing on one side), words would silently stop
matching: each word below must find the one document holding it, by the term ``analyze`` makes of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.search._index import PROSE, analyze, create_index, prose_text

TEXT = ("NEGOTIATIONS on Policies were running; the Ministers' talks. Café Ærøskøbing Straße naïve résumé "
        "INTERNATIONALIZATIONSCOMMITTEEREPRESENTATIVESOFFICE 12958 DECL: 1.4(B) 07MOSCOW5349")
WORDS = ["negotiations", "negotiated", "policy", "policies", "run", "running", "minister", "talk", "cafe",
         "Café", "AEROSKOBING", "strasse", "naive", "resume", "Résumé", "12958", "decl", "07moscow5349"]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> object:
    import tantivy as t

    idx = create_index(Path(tmp_path_factory.mktemp("analyzer")))
    w = idx.writer(15_000_000, 1)
    doc = t.Document()
    doc.add_text("body", prose_text(TEXT))
    doc.add_text("key", "doc")
    w.add_document(doc)
    w.commit()
    w.wait_merging_threads()
    idx.reload()
    return idx


@pytest.mark.parametrize("word", WORDS)
def test_query_word_finds_the_indexed_text(index: object, word: str) -> None:
    import tantivy as t

    terms = analyze(word)
    assert len(terms) == 1, terms
    res = index.searcher().search(t.Query.term_query(index.schema, "body", terms[0]), 1)  # type: ignore[attr-defined]
    assert len(res.hits) == 1, (word, terms)


def test_long_words_are_dropped_on_both_sides(index: object) -> None:
    assert analyze("INTERNATIONALIZATIONSCOMMITTEEREPRESENTATIVESOFFICE") == []


def test_folding_keeps_ascii_text_and_case() -> None:
    assert prose_text("Plain ASCII text.") == "Plain ASCII text."
    assert prose_text("Café ÆRØ Straße") == "Cafe AERO Strasse"
    assert prose_text("") == ""


def test_prose_fields_use_the_compiled_analyzer(tmp_path: Path) -> None:
    """The prose fields name tantivy's built-in en_stem, and the index does not replace it by a registered
    (boxed, slower) analyzer of that name."""
    import json

    create_index(tmp_path)
    fields = {f["name"]: f for f in json.loads((tmp_path / "meta.json").read_text())["schema"]}
    for name in ("subject", "body", "summary", "comment"):
        assert fields[name]["options"]["indexing"]["tokenizer"] == PROSE == "en_stem"
