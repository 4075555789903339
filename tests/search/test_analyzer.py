"""Words in the index, stems in the query: the prose fields hold words as written (tantivy's compiled ``default``
on ASCII-folded text) and a query word is matched by every form of it the index holds, found by its stem.

If the index's words and the query's words ever disagreed (a tantivy upgrade changing ``default``, a filter
missing on one side), or the walk of the term dictionary missed forms, words would silently stop matching:
each word below must find the one document holding it, through :func:`forms`, and the prefix the walk starts
from must be one every word of the stem starts with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.search._index import (
    PROSE,
    analyze,
    create_index,
    forms,
    prose_text,
    stems,
    walk_prefix,
    words,
)

TEXT = ("NEGOTIATIONS on Policies were running; the Ministers' talks. Café Ærøskøbing Straße naïve résumé "
        "INTERNATIONALIZATIONSCOMMITTEEREPRESENTATIVESOFFICE 12958 DECL: 1.4(B) 07MOSCOW5349 dying skies hoping")
WORDS = ["negotiations", "negotiated", "policy", "policies", "run", "running", "minister", "talk", "cafe",
         "Café", "AEROSKOBING", "strasse", "naive", "resume", "Résumé", "12958", "decl", "07moscow5349",
         "die", "sky", "hope"]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> object:
    import tantivy as t

    idx = create_index(Path(tmp_path_factory.mktemp("analyzer")))
    w = idx.writer(15_000_000, 1)
    for key, text in (("doc", TEXT), ("other", "Hop hopping ties diet lien skiing generous")):
        doc = t.Document()
        doc.add_text("body", prose_text(text))
        doc.add_text("key", key)
        w.add_document(doc)
    w.commit()
    w.wait_merging_threads()
    idx.reload()
    return idx


def _hits(index: object, terms: list[str]) -> set[str]:
    import tantivy as t

    s = index.searcher()  # type: ignore[attr-defined]
    q = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(index.schema, "body", w))  # type: ignore[attr-defined]
                               for w in terms])
    return {str(s.doc(a).get_first("key")) for _, a in s.search(q, 10).hits}


@pytest.mark.parametrize("word", WORDS)
def test_query_word_finds_the_indexed_text(index: object, word: str) -> None:
    got = words(word)
    assert len(got) == 1, got
    found = forms(index.searcher(), "body", got[0])  # type: ignore[attr-defined]
    assert found, word
    assert _hits(index, found) == {"doc"}, (word, found)


@pytest.mark.parametrize(("word", "expected"), [
    ("negotiation", {"negotiations"}),
    ("run", {"running"}),
    ("hopped", {"hop", "hopping"}),  # not "hoping": hope is another stem
    ("hopes", {"hoping"}),
    ("tie", {"ties"}),
    ("died", {"dying"}),
    ("ski", {"skiing"}),
    ("policies", {"policies"}),
    ("generously", {"generous"}),
])
def test_forms_are_the_words_of_the_same_stem(index: object, word: str, expected: set[str]) -> None:
    assert set(forms(index.searcher(), "body", word)) == expected  # type: ignore[attr-defined]


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="abcdeghiklmnoprstuvyz", min_size=1, max_size=10),
       st.sampled_from(["", "s", "es", "ies", "ied", "y", "ly", "ily", "ing", "ying", "ed", "eed", "edly", "ingly",
                        "ational", "ization", "ability", "ibility", "fulness", "ousness", "iveness", "ements", "e",
                        "ier", "iest", "yings", "bli", "logi", "li", "iviti", "biliti"]))
def test_every_word_starts_with_the_prefix_walked_for_its_stem(base: str, suffix: str) -> None:
    word = (base + suffix)[:39]
    (stem,) = stems([word])
    assert word.startswith(walk_prefix(stem)), (word, stem)


def test_stems_in_one_call_are_the_stems_one_by_one() -> None:
    ws = words(TEXT)
    assert stems(ws) == [analyze(w)[0] for w in ws]
    assert stems([]) == []


def test_long_words_are_dropped_on_both_sides() -> None:
    assert words("INTERNATIONALIZATIONSCOMMITTEEREPRESENTATIVESOFFICE") == []
    assert analyze("INTERNATIONALIZATIONSCOMMITTEEREPRESENTATIVESOFFICE") == []


def test_folding_keeps_ascii_text_and_case() -> None:
    assert prose_text("Plain ASCII text.") == "Plain ASCII text."
    assert prose_text("Café ÆRØ Straße") == "Cafe AERO Strasse"
    assert prose_text("") == ""


def test_prose_fields_use_the_compiled_analyzer(tmp_path: Path) -> None:
    """The prose fields name tantivy's built-in ``default`` (no stemming at index time), and the index does
    not replace it by a registered (boxed, slower) analyzer of that name."""
    create_index(tmp_path)
    fields = {f["name"]: f for f in json.loads((tmp_path / "meta.json").read_text())["schema"]}
    for name in ("subject", "body", "summary", "comment"):
        assert fields[name]["options"]["indexing"]["tokenizer"] == PROSE == "default"
