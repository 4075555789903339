"""The parser's fast paths give what the plain way gives (they are chosen by cheap checks of the text)."""

from __future__ import annotations

import sys

import pytest

from etl.parse import _core, _tags, _text, _vocab, parse_text


def test_wide_spaces_are_every_whitespace_beyond_ascii() -> None:
    every = {chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()}
    assert set(_text._WIDE_SPACES) == {c for c in every if not c.isascii()}
    assert set(_text._ODD_SPACES) == {c for c in every if c.isascii()} - {" ", "\n"}


@pytest.mark.parametrize("text", [
    "caf\u00e9  au\n lait", "a\u00a0 b\nc", "\u3000x  y\u2028z", "plain  ascii\ntext ", "tab\there", "\u00e9\x1cb",
])
def test_squash_fast_way_only_when_plain(text: str) -> None:
    if _text.plain_spaces(text):
        assert _text.squash(text, True) == " ".join(text.split())
    else:
        assert any(c.isspace() and c not in " \n" for c in text)


def test_tag_details_cached_rows_do_not_share_lists() -> None:
    cable = "UNCLAS SECTION 01 OF 02 ROME 001234\n\nE.O. 12958: N/A\nTAGS: PREL, PGOV, IT\nSUBJECT: X\n\n1. Text.\n"
    one, two = parse_text(cable), parse_text(cable)
    assert one["tag_details"] == two["tag_details"] == _vocab.fix_tags(_tags.split_tags("PREL, PGOV, IT"))
    one["tag_details"][0]["tag"] = "CHANGED"
    one["tags"].append("MORE")
    assert parse_text(cable)["tag_details"][0]["tag"] == "PREL"
    assert parse_text(cable)["tags"] == ["PREL", "PGOV", "IT"]
    assert _core._tag_details.cache_info().hits >= 2
