"""Metamorphic layout tests: a cable re-laid out (preamble, glued banner, CRLF/CR, blank lines, tabs, page
furniture, NNNN, junk lines, BOM) parses to the same fields as the record its dump gave.

* ``test_transform_keeps_every_field`` - every transform over every corpus record (read by etl.sources):
  per golden field, at least 99.5 % of the records keep their value (the issue's target; the few that do not
  are listed in the failure message, and ``bench/layouts.py`` prints the whole table).
* ``test_goldens_keep_every_field`` - the hand-checked golden records keep every field under every transform.
* ``test_combined_transforms`` - Hypothesis combines transforms on golden and corpus records; a record that
  keeps its fields under each transform alone must keep them under the combination.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from corpus_records import all_records, load_record
from golden_fields import GOLDEN_FIELDS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from layout_transforms import TRANSFORMS, Case, apply, case, kept, sweep

TARGET = 0.995
GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))


@pytest.fixture(scope="module")
def cases(corpus: Path) -> list[Case]:
    return [case(label, rec) for label, rec in all_records(corpus)]


@pytest.fixture(scope="module")
def golden_cases(corpus: Path) -> list[Case]:
    out = []
    for path in GOLDEN:
        doc = json.loads(path.read_text(encoding="utf-8"))
        out.append(case(path.stem, load_record(corpus, doc["corpus_path"], doc["record"])))
    return out


@pytest.mark.corpus
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_keeps_every_field(cases: list[Case], name: str) -> None:
    assert len(cases) > 2500  # every format of the corpus
    applies, _, lost, examples = sweep(cases, name)
    assert applies >= 0.75 * len(cases)
    below = {f: f"{100 * (1 - n / applies):.2f} %" for f, n in lost.items() if 1 - n / applies < TARGET}
    assert not below, (below, examples)


@pytest.mark.corpus
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_goldens_keep_every_field(golden_cases: list[Case], name: str) -> None:
    assert len(golden_cases) >= 150
    failed = {}
    for c in golden_cases:
        text = TRANSFORMS[name](c.text, c.base)
        if text is not None:
            bad = [f for f, ok in kept(c, text).items() if not ok]
            if bad:
                failed[c.label] = bad
    assert not failed


_LINE_ENDS = st.sampled_from([None, "crlf", "cr"])
_BLANKS = st.sampled_from([None, "blank_removed", "blank_doubled"])
_PREAMBLES = st.sampled_from([None, "preamble_lines", "preamble_kv", "preamble_export"])
_FURNITURE = st.sampled_from([None, "page_furniture", "print_pages"])
_FLAGS = st.sets(st.sampled_from(["glued_banner", "tabs", "nnnn", "junk", "bom"]))
LAYOUTS = st.builds(lambda *parts: sorted({p for part in parts for p in ([part] if isinstance(part, str) else part or [])}),
                    _LINE_ENDS, _BLANKS, _PREAMBLES, _FURNITURE, _FLAGS)
"""A layout: at most one line-end form, blank-line change, preamble and page furniture, plus any flags."""


_SINGLES_OK: dict[str, frozenset[str]] = {}


def _singles_ok(c: Case) -> frozenset[str]:
    """The transforms under which ``c`` keeps every field on its own (cached by label: a Case is not hashable)."""
    if c.label not in _SINGLES_OK:
        ok = set()
        for name, fn in TRANSFORMS.items():
            text = fn(c.text, c.base)
            if text is None or all(kept(c, text).values()):
                ok.add(name)
        _SINGLES_OK[c.label] = frozenset(ok)
    return _SINGLES_OK[c.label]


@pytest.mark.corpus
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.data(), LAYOUTS)
def test_combined_transforms(golden_cases: list[Case], corpus_sample: list[Case], data: st.DataObject,
                             layout: list[str]) -> None:
    c = data.draw(st.sampled_from(golden_cases + corpus_sample))
    if not set(layout) <= _singles_ok(c):
        layout = [n for n in layout if n in _singles_ok(c)]  # combine only what holds alone (reported by the sweep)
    got = kept(c, apply(layout, c.text, c.base))
    assert all(got.values()), (c.label, layout, [f for f, ok in got.items() if not ok])


@pytest.fixture(scope="module")
def corpus_sample(cases: list[Case]) -> list[Case]:
    return random.Random(14).sample(cases, 300)


def test_fields_compared() -> None:
    assert len(GOLDEN_FIELDS) == 35


@pytest.mark.corpus
def test_glued_banner_after_junk_beats_a_later_sections_routing(golden_cases: list[Case]) -> None:
    """02ROME3639 is a partial extract whose later sections carry their own routing blocks. With junk lines
    before it and its banner glued onto the extract notice, the cable still starts at that banner, not at
    section 2's routing block (a combination Hypothesis found)."""
    c = next(c for c in golden_cases if c.label == "02ROME3639")
    got = kept(c, apply(["glued_banner", "junk"], c.text, c.base))
    assert all(got.values()), [f for f, ok in got.items() if not ok]
