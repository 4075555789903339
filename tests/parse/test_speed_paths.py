"""The parser's fast paths give what the plain way gives (they are chosen by cheap checks of the text)."""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator

import pytest

from etl.parse import (
    _body,
    _classif,
    _classified,
    _core,
    _decl,
    _header,
    _ids,
    _lines,
    _paras,
    _tags,
    _text,
    _vocab,
    parse_text,
)


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


def _texts(pieces: tuple[str, ...], n: int) -> list[str]:
    """Every text of up to ``n`` pieces (a small, complete grid of the cases a rule can meet)."""
    return ["".join(p) for k in range(n + 1) for p in itertools.product(pieces, repeat=k)]


def test_one_edit_is_distance_one() -> None:
    words = _texts(("A", "B", "C"), 4)
    assert all(_classified.one_edit(a, b) == (_classified.osa_distance(a, b, 2) <= 1) for a in words for b in words)


# (the pattern as the rule reads, the pattern the parser runs): literal-first forms of ``\b``/look-behind patterns
_REWRITTEN = [
    (r"\bSIPDIS\b", dict((n, rx) for n, _, rx in _paras.CAVEATS)["SIPDIS"]),
    (r"\bNOFORN\b|\bNOT[ \t]+RELEASABLE[ \t]+TO[ \t]+FOREIGN[ \t]+NATIONALS\b",
     dict((n, rx) for n, _, rx in _paras.CAVEATS)["NOFORN"]),
    (r"\bNO[ \t]?CONTRACT\b", dict((n, rx) for n, _, rx in _paras.CAVEATS)["NOCONTRACT"]),
    (r"\bCORRECTEDCOPY\b|\bCORRECTED[ \t]+COPY\b", dict((n, rx) for n, _, rx in _paras.CAVEATS)["CORRECTED COPY"]),
    (r"\bREL(?:EASABLE)?[ \t]+TO[ \t]+(?P<to>[A-Z ,]{2,60})", _paras._REL_TO),
    (r"(?<![\d.])1[ \t]*[.,][ \t]*(?P<s>[45])(?!\d)", _classified._SECTION),
    (r"(?<![A-Za-z])a\.?[ \t]?i\.?(?![A-Za-z])", _classified._A_I),
    (r"\b(VZCZC[A-Z]{3}\d*)", _header._VZCZC),
]


@pytest.mark.parametrize(("rule", "fast"), _REWRITTEN, ids=[r[0][:24] for r in _REWRITTEN])
def test_literal_first_patterns_match_as_written(rule: str, fast: re.Pattern[str]) -> None:
    rx = re.compile(rule)
    words = ("SIPDIS", "NO", "FORN", "T RELEASABLE TO FOREIGN NATIONALS", "CONTRACT", "CORRECTED", "COPY", "REL",
             "EASABLE", "TO", "USA", "VZCZC", "ABC", "1", ".", ",", "4", "a", "i", " ", "\t", "X", "_", "9", "\u00e9")
    for text in _texts(words, 3):
        assert [(m.span(), m.groups()) for m in rx.finditer(text)] == [(m.span(), m.groups()) for m in fast.finditer(text)]


def test_despace_as_one_substitution() -> None:
    def whole(text: str) -> str:
        return _classif._SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)
    for text in _texts(("a", "B", " ", "\n", ".", "\u00e9", "xy"), 6):
        assert _classif.despace(text) == whole(text)


def test_plain_code_tags_as_the_token_path(monkeypatch: pytest.MonkeyPatch) -> None:
    values = ["PREL, PGOV, IT", "PREL PGOV\nKDEM", "PREL, INDIAN DOMESTIC POLITICS, IN", "SIPDIS, TAGS PREL, PREL",
              "STEINBERG, JAMES, PREL", "PHUM,, ECON 123", "ECONEFIN, PGOVPREL", "", " , "]
    fast = [_tags.split_tags(v) for v in values]
    monkeypatch.setattr(_tags, "_PLAIN_CODES", re.compile(r"(?!)"))  # every value through phrases and tokens
    assert fast == [_tags.split_tags(v) for v in values]


@pytest.mark.parametrize("ref", ["07MOSCOW5349", "07MOSCOW", "", "5349", "07MOSCOW5349\n", "07MOSCOW\u0665\u0663", "A1B22"])
def test_serial_as_the_pattern(ref: str) -> None:
    m = _core._ID_SERIAL.search(ref)
    assert _core._serial(ref) == (m.group(1) if m else None)


def test_upper_case_signer_searched_from_the_name_tail() -> None:
    for line in _texts(("BURNS", "VAN", "O'NEIL", "J.", " ", ".", ")", "x", "Doe", "\u00c9"), 4):
        tail = len(line.rstrip(_paras._SIGNER_CHARS))
        a, b = _paras._UPPER_CASE_SIGNER.search(line), _paras._UPPER_CASE_SIGNER.search(line, tail)
        assert (a and (a.span(), a.group("sig"))) == (b and (b.span(), b.group("sig")))


def test_address_read_from_the_right_as_the_pattern() -> None:
    """Every line of up to three words (and separators) from a grid of routing indicators, precedences, MCNs
    of 3/4/5 digits (ASCII and other decimal digits), words and odd whitespace: the hand split gives the
    groups of _ADDR (the address as the field keeps it: blanks squashed)."""
    checked = 0
    for line in _address_lines():
        m = _header._ADDR.match(line)
        assert m is not None
        ri, addr, prec, mcn = _header._address_split(line)
        assert (ri, prec, mcn) == m.group("ri", "prec", "mcn"), line
        assert addr.split() == m.group("addr").split(), line
        checked += 1
    assert checked > 700_000


def _address_lines() -> Iterator[str]:
    """Every line of up to three words (and separators) from a grid of routing indicators, precedences, MCNs
    of 3/4/5 digits (ASCII and other decimal digits), words and odd whitespace, stripped."""
    words = ["RUEHC/", "R1234567/ ", "R123456789/", "SECSTATE", "NIACT", "IMMEDIATE", "PRIORITY", "PIORITY",
             "FLASH", "ROUTINE", "1234", "475", "\u0661\u0662\u0663\u0664", "\u00b2\u00b3\u00b9\u2074", "X1234",
             "PRIORITY1234", "/", "A\x0bB"]
    seps = [" ", "  ", "\t", " \t ", ""]
    pieces = [w + s for w in words for s in seps]
    for k in range(4):
        for combo in itertools.product(pieces, repeat=k):
            yield "".join(combo).strip()


def test_address_with_its_mcn_split_off_as_the_whole_line() -> None:
    """The grid of :func:`_address_lines` and the same lines with an MCN of 4 or 7 digits after blanks: the
    parts read with the MCN split off (the rest cached) are those of the whole line read at once."""
    whole = _header._address_parts.__wrapped__
    checked = split = 0
    for line in _address_lines():
        for mcn in ("", " 1234", "\t 0012345"):
            text = (line + mcn).strip()
            got = _header.address_parts(text)
            assert got == whole(text), text
            split += got[3] is not None
            checked += 1
    assert checked > 2_100_000 and split > 700_000


def _match_key(m: re.Match[str] | None) -> object:
    return m and (m.span(), m.groupdict())


def test_typed_lines_as_the_line_rules() -> None:
    """Every text of up to four pieces (paragraph numbers and marks, rules, blanks, line breaks, words): the
    typed lines of :class:`etl.parse._lines.BodyLines` are the line-anchored PARA and RULE matches; its
    paragraph search, its rule dropping from a piece (cut at any place, also mid-line) and the body header's
    end read from it give what the plain scans of the text give."""
    from etl.parse import _body, _lines

    pieces = ("1. ", "12) ", "(C) ", "(S/NF)", "---", "=_=", " ", "\n", "x", "Ab", "\u0661. ")
    checked = 0
    for text in _texts(pieces, 4):
        lines = _lines.BodyLines(text)
        assert lines.paras == [(m.start(), m.end(), m.group("num"), m.group("mark") or m.group("mark1"))
                               for m in _lines.line_matches(_lines.PARA, text, _lines.PARA_FIRST)], text
        assert lines.rules == [m.span() for m in _lines.line_matches(_lines.RULE, text, _lines.RULE_FIRST)], text
        assert _body.top_of(text, lines) == _body.top_of(text), text
        n = len(text)
        for a in range(n + 1):
            assert lines.paras_from(a) == [(m.start(), m.end(), m.group("num"), m.group("mark") or m.group("mark1"))
                                           for m in _lines.line_matches(_lines.PARA, text, _lines.PARA_FIRST, a)]
            for b in {a, min(n, a + 3), min(n, a + 7), n}:
                assert (_match_key(lines.para_search(a, b))
                        == _match_key(_lines.line_search(_lines.PARA, text, _lines.PARA_FIRST, a, b))), (text, a, b)
                assert (lines.without_rules(a, b)
                        == _lines.line_sub(_lines.RULE, " ", text[a:b], _lines.RULE_FIRST)), (text, a, b)
                checked += 1
    assert checked > 100_000


def test_typed_lines_know_list_and_page_break_lines() -> None:
    """The typed lines' Markdown-list and page-break facts are the checks :func:`etl.parse._text.normalize` and
    :func:`etl.parse._layout.strip_page_breaks` make on a text without them, on every text of up to four pieces."""
    from etl.parse import _layout, _lines

    pieces = ("- ", "-", "--- ", "PAGE 2", "Page 1", "PAGE 01", "PAGE 1", "P", "\n", " ", "\x0b", "\u00a0", "x", "1. ")
    for text in _texts(pieces, 4):
        lines = _lines.BodyLines(text)
        assert lines.list_line == ("\n- " in text), text
        assert lines.page_break == _layout._has_page_break(text), text


def test_id_marker_check_lets_every_marked_id_through() -> None:
    """Every id of up to four pieces (years, posts, serials, operating signals, TOSEC/SECTO, other decimal
    digits): an id that _TRAILING_MARKER matches passes the cheap tail check, and canonical_id reads it."""
    pieces = ["06", "MADRID", "002583", "ZFR", "ZDK", "Z", "TOSEC", "SECTO", "140", "\u0661\u0662", "OF", "A"]
    checked = marked = 0
    for k in range(1, 5):
        for combo in itertools.product(pieces, repeat=k):
            rid = "".join(combo)
            if _ids._TRAILING_MARKER.match(rid):
                assert _ids._marker_tail(rid), rid
                marked += 1
            if _ids._GARBLED_SECTION.match(rid, 2):
                assert "OF" in rid
            checked += 1
    assert marked > 100 and checked > 20_000
    assert _ids.canonical_id("06MADRID002583ZFR2585") == "06MADRID2583"
    assert _ids.canonical_id("06 madrid 2583") == "06MADRID2583"


@pytest.mark.parametrize("text", ["", "ABC", "abc", "Abc", "A.B/C", "\u00e9T\u00c9", "\u00aa", "\u00df", "123 - ,"])
def test_case_checks_as_the_loops(text: str) -> None:
    assert _classified._has_lower(text) == any(c.islower() for c in text)
    assert _classified._has_upper(text) == any(c.isupper() for c in text)


def test_banner_glued_words_let_every_glued_text_through() -> None:
    """Every text of up to three pieces (the words of _GLUED in several cases and spellings, the long s,
    other text): a text that _GLUED finds something in passes the cheap word check."""
    texts = _texts(("E.O.", "e.o.", "E.O", "Tags", "TAG", "S", "UBJECT", "\u017fubject", "SIPDIS", "sipdi", " ", "x"), 3)
    found = [t for t in texts if _body._GLUED.search(t)]
    assert len(found) > 500
    assert all(_body._glued_words(t) for t in found)


def test_tags_keyword_search_as_the_pattern() -> None:
    """Every text of up to four pieces (TAGS words in several cases and spellings, glued after a word or a digit,
    blanks, line breaks, other text, a letter whose upper case is longer): the places tried first (up to the first
    TAG) and then all of them give the match of TAGS_LINE itself."""
    texts = _texts(("TAGS:", "tag ", "AGS:", "tas,", "TABS:", "STAGE", "X", "5", " ", "\n", "PREL", "\u00df"), 4)
    found = 0
    for text in texts:
        m = _body.TAGS_LINE.search(text)
        assert _match_key(_lines.keyword_search(_body.TAGS_LINE, text, _body._TAGS_WORDS)) == _match_key(m), text
        found += m is not None
    assert found > len(texts) // 2


def _clean_span_as_written(text: str) -> str:
    """The summary/comment span clean-up as the rule reads: line rules dropped, paragraph numbers dropped, the
    opening portion mark dropped, blanks squashed."""
    from etl.parse import _lines

    text = _lines.line_sub(_lines.RULE, " ", text, _lines.RULE_FIRST)
    text = _lines.line_sub(_lines.PARA, " ", text, _lines.PARA_FIRST)
    text = _paras._LEADING_PORTION_MARK.sub("", text.strip())
    return " ".join(text.split()).strip(" :.-")


def test_paragraph_pieces_and_spans_from_the_typed_lines() -> None:
    """Every text of up to four pieces: the paragraph pieces cut with one walk over the rule lines are the pieces
    cut one by one (for the paragraph spans, a span per line, and single spans cut anywhere), and a summary or
    comment span cleaned from the typed lines is the span cleaned as the rule reads."""
    from etl.parse import _lines

    pieces = ("1. ", "(C) ", "---", " ", "\n", "x", "Ab", "2.(S)", "\u0661. ")
    checked = 0
    for text in _texts(pieces, 4):
        lines = _lines.BodyLines(text)
        n = len(text)
        starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
        paras = lines.paras
        span_lists = [
            [(p[1], q[0]) for p, q in zip(paras, paras[1:], strict=False)] + [(p[1], n) for p in paras[-1:]],
            list(zip(starts, starts[1:] + [n], strict=True)),
            [(a, n) for a in starts[-1:]],
        ]
        for a in range(n + 1):
            for b in {a, min(n, a + 3), n}:
                span_lists.append([(a, b)])
                assert _paras._clean_span(lines, a, b, _text.plain_spaces(text)) == _clean_span_as_written(text[a:b])
                checked += 1
            # a piece that ends mid-line right after rule characters (its cut last line may be a rule where the
            # whole line is not)
            span_lists += [[(a, b)] for b in range(a + 1, n) if text[b - 1] in "-=_" and text[b] != "\n"]
        for spans in span_lists:
            assert _paras._pieces(lines, spans) == [lines.without_rules(a, b) for a, b in spans], (text, spans)
            checked += 1
    assert checked > 100_000


def test_signature_lines_read_from_the_end() -> None:
    """Every tail of up to four lines (names, end words, caveats, blanks, sentences, marks): the signer's line and
    the line before it, read from the end, are those of the whole tail's written lines with the non-signer
    lines popped off its end."""
    lines_ = ("BURNS", "END COMMENT.", "SIPDIS", "", "  ", "Thanks.", "MCNAMARA.", "Willeford", "the text ends.",
              "XXXXXXXX", "GILLESPIE##", "C O N F I D E N T I A L")
    for k in range(5):
        for picked in itertools.product(lines_, repeat=k):
            tail = "\n".join(picked)
            written = [ln for ln in (ln.strip().rstrip("\\\"#").rstrip() for ln in tail.split("\n")) if ln]
            while written and _paras._NOT_SIGNATURE.match(_classif.despace(written[-1]).upper().strip()):
                written.pop()
            expected = (written[-1] if written else None, written[-2] if len(written) > 1 else None)
            assert _paras._last_lines(tail) == expected, tail


def test_letter_sets_bound_the_edit_distance() -> None:
    words = _texts(("A", "B", "C", "D"), 4)
    for a in words:
        for b in words:
            gap = max(len(set(a) - set(b)), len(set(b) - set(a)))
            assert _classified.osa_distance(a, b, 9) >= gap, (a, b)


def _near_title_by_distance(word: str) -> bool:
    """:func:`_classified._near_title` as the rule reads: the distance to every title of the same first letter."""
    w = word.replace("0", "O")
    if w in _classified.TITLE_WORDS or len(w) < 8:
        return _classified._near_title.__wrapped__(word)  # type: ignore[attr-defined]
    near = _classified._NEAR_TITLES_BY_LETTER.get(w[0], ())
    return any(_classified.osa_distance(w, t, 3) <= 2 for t in near if abs(len(t) - len(w)) <= 2)


def test_near_title_letter_bound_keeps_the_distance_rule() -> None:
    # every title of 7+ letters with two of its letters changed (to letters in it, and not), one dropped, one added
    titles = sorted(t for near in _classified._NEAR_TITLES_BY_LETTER.values() for t in near if len(t) >= 7)
    words: set[str] = set()
    for t in titles:
        for i in range(1, len(t)):
            for j in range(i + 1, len(t)):
                for x, y in (("Q", "Z"), ("E", "Q"), (t[0], t[-1]), ("O", "A")):
                    words.add(t[:i] + x + t[i + 1:j] + y + t[j + 1:])
                words.add(t[:i] + t[i + 1:j] + "X" + t[j:])
            words.add(t[:i] + "QZ" + t[i:])
            words.add(t[:i] + "QZJ" + t[i + 3:])  # three apart: not near (unless another title is)
            words.add(t[:i] + t[i:][::-1])
    words |= {"MCCULLOUGH", "WASHINGTON", "CHRISTOPHER", "DIRECOTRS", "AMBASSADORS", "COUNSELLORS", "MANAGMENT"}
    assert len(words) > 8000
    near = [w for w in words if _near_title_by_distance(w)]
    assert 2000 < len(near) < len(words) - 1000  # both answers are met
    assert all(_classified._near_title.__wrapped__(w) == _near_title_by_distance(w) for w in words)  # type: ignore[attr-defined]


def test_row_date_found_from_its_dash() -> None:
    """_glued_cable's date scan from ``pos + 4`` finds the written pattern's dates from ``pos``, 4 characters in
    (same line, so the same row start), on every text of up to five pieces and every ``pos``."""
    written = re.compile(_core.ROW_DATE_AS_WRITTEN)
    pieces = ("19", "20", "21", "06", "-", "01", "-01-19 ", "-13-39\t", "1", " ", "\n", "x", "2006-01-19")
    checked = found = 0
    for text in _texts(pieces, 4):
        for pos in range(len(text) + 1):
            want = [m.start() + 4 for m in written.finditer(text, pos)]
            assert want == [m.start() for m in _core._ROW_DATE.finditer(text, pos + 4)], (text, pos)
            checked += 1
            found += bool(want)
    assert checked > 100_000 and found > 1000


def _find_classified_by_as_written(body: str, limit: int, start: int) -> re.Match[str] | None:
    """The Classified By search of a text that is not ASCII as the rule reads: the places where the text's first
    ``limit`` characters, upper-cased whole, hold CLASSIFIED."""
    head = body[:limit].upper()
    i = head.find("CLASSIFIED", start, limit)
    while i >= 0:
        m = _classified.CLASSIFIED_BY.match(body, i, limit)
        if m:
            return m
        i = head.find("CLASSIFIED", i + 1, limit)
    return None


def test_classified_by_upper_cased_head_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text of up to four pieces (the words in several cases, with letters whose upper case is ASCII or two
    letters long, line breaks, other text), every limit and start, the head upper-cased first cut at several
    places: the Classified By line found is the one found with the whole text upper-cased."""
    pieces = ("Classified By: ", "CLASSIFIED BY ", "cla\u017f\u017fified by", "\u00df", "\ufb01", "\u0131", "\n", "x",
              "CLASS", "IFIED BY")
    checked = found = 0
    for near in (1, 4, 12, 40):
        monkeypatch.setattr(_paras, "_CB_NEAR", near)
        for text in _texts(pieces, 4):
            for limit in (5, 16, 30, 12000):
                for start in (0, 3, 15):
                    want = _find_classified_by_as_written(text, limit, start)
                    assert _match_key(_paras._find_classified_by(text, limit, start)) == _match_key(want), (
                        near, text, limit, start)
                    checked += 1
                    found += want is not None
    assert checked > 100_000 and found > 10_000


def test_ref_tail_stop_hint_lets_every_stop_through() -> None:
    """Every text of up to four pieces (the Classified By words in several cases and spellings, E.O. numbers,
    paragraph 1 run on, page residue, digits, periods, other text): a text where _TAIL_STOP finds a stop passes the
    cheap check of split_items."""
    from etl.parse import _refs

    pieces = ("CLASSIFIED BY", "classified:", "cla\u017fsified by", "E.O. 1", "e. o.12958", "2958", " 1. (C)", " 12.Th",
              "e", " TRIPOLI 00000772 001.2 OF 003", "1", ".", " ", "x", "\u0131")
    texts = _texts(pieces, 4)
    stops = [t for t in texts if _refs._TAIL_STOP.search(t)]
    assert len(stops) > 5000
    assert all(_refs._tail_stop_hint(t) for t in stops)
    assert sum(not _refs._tail_stop_hint(t) for t in texts) > 1000  # the check does keep texts out


def test_comment_words_found_by_their_capital() -> None:
    """Every text of up to five pieces (the word in several cases, cut, run together, a letter whose lower case is
    two letters long, other text): the places of COMMENT and Comment found by one scan for their capital are the
    places of ``comment`` in the lower-cased text where the text writes one of the two."""
    pieces = ("COMMENT", "Comment", "comment", "CoMMENT", "C", "OMMENT", "omment", "\u0130", " ", "x")
    checked = found = 0
    for text in _texts(pieces, 5):
        low = text.lower()
        want = [i for i in range(len(low)) if low.startswith("comment", i) and text[i:i + 7] in ("COMMENT", "Comment")]
        if len(low) != len(text):
            want = sorted(i for w in ("COMMENT", "Comment") for i in range(len(text)) if text.startswith(w, i))
        assert [m.start() for m in _paras._COMMENT_WORD.finditer(text)] == want, text
        checked += 1
        found += bool(want)
    assert checked > 100_000 and found > 50_000


def test_mixed_case_signer_tried_at_the_start_then_at_end() -> None:
    """Every line of up to four pieces (names in several cases, END words, sentences, blanks, letters whose case
    changes length): the mixed-case signer tried at the line's start, then searched only when the line holds END,
    is the pattern's own search."""
    pieces = ("Willeford", "van Voorst", "End comment. ", "END ", "eNd of summary ", "Text.", "En", "d ", " ", "\t",
              "x", "\u0130", "Burns")
    lines_ = _texts(pieces, 4)
    found = 0
    for line in lines_:
        want = _paras._MIXED_CASE_SIGNER.search(line)
        assert _match_key(_paras._mixed_case_signer(line)) == _match_key(want), line
        found += want is not None and want.start() > 0
    assert found > 1000


def test_summary_word_anywhere_from_its_first_place() -> None:
    """Every text of up to five pieces (the word, cut, run together, other text) and every limit: the word is in the
    text exactly when its first place before the limit is found or the scan from where it could reach across the
    limit finds it."""
    checked = 0
    for low in _texts(("summary", "summ", "ary", "s", " ", "x"), 5):
        for limit in range(len(low) + 9):
            first = low.find("summary", 0, limit)
            assert _paras._anywhere(low, "summary", limit, first) == ("summary" in low), (low, limit)
            checked += 1
    assert checked > 100_000


def test_not_a_cable_searched_only_with_its_literals() -> None:
    """Every REF item of up to four pieces (the words of _NOT_A_CABLE whole, cut and glued, other text): the cheap
    literal check, then the pattern, says what the pattern says."""
    from etl.parse import _refs

    pieces = ("DTG", "E-MAIL", "EMAIL", "MAIL", "E-", "@", "TELCON", "OSC", "XDTG", "OSCE", "D", "TG", " ", "A", "1")
    found = 0
    for text in _texts(pieces, 4):
        want = _refs._NOT_A_CABLE.search(text) is not None
        assert _refs._not_a_cable(text) == want, text
        found += want
    assert found > 10_000


def test_reason_start_from_its_alternatives() -> None:
    """Every text of up to four pieces (reason words whole, misspelt, broken and run on, the words before them, E.O.
    numbers, sections, punctuation, blanks, names, other text): the reason start found from the first place where
    one of REASON_START's alternatives matches is the pattern's own search, and a line states reasons exactly when
    the pattern finds some."""
    pieces = ("for ", "Reasons ", "re asons", "RESONS", "reas", "per ", "under ", "due to ", "E.O. 12958", "1.4", "1,5",
              "11.4", "(b)", ",", ".", "-", " ", "\t", "Robert", "x", "\u017f")
    found = 0
    for text in _texts(pieces, 4):
        want = _classified.REASON_START.search(text)
        assert _match_key(_classified.reason_start(text)) == _match_key(want), text
        assert _classified.reason_stated(text) == (want is not None), text
        found += want is not None and want.start() > 0
    assert found > 40_000
    # the letters the word alternatives open with, and no other character, pass their look-ahead (in any case)
    opens = re.compile(r"(?i)[fpubdre]")
    assert all((opens.match(c) is not None) == any(re.match("(?i)" + w, c) for w in "fpubdre")
               for c in map(chr, range(0x250)))


def test_header_lines_as_the_line_searches() -> None:
    """Every header of up to four pieces (precedence + DTG, bare DTG also in other digits, FM, prosign, DE, ZNY,
    TO/INFO lines, blanks, line breaks, other text, a run that pushes a line across the prosign's 600-character
    limit): each landmark line found in the one pass is the line-anchored search of its rule (a bare DTG's
    when the header has no DTG line)."""
    from etl.parse import _dtg

    pieces = ("P 230944Z OCT 08", "281413Z Jul 03", "\u0662\u0668" + "1413Z Jul 03", "FM AMEMBASSY CAIRO",
              "PP RUEHWEB", "DE RUEHEG #2246 2970944", "ZNR UUUUU ZZH", "TO X", "INFO Y", " ", "\t", "\n", "\n\n",
              "x", "O", "." * 590, "PP RUEHWEB\nDE RUEHEG #1 2970944\nZNR UUUUU\nO 230944Z OCT 08\nFM X\nINFO Y\n")
    checked = bare = 0
    for text in _texts(pieces, 4):
        found = _header.HeaderLines(text)
        rules = (
            (found.dtg, _dtg.DTG_LINE, text, _dtg.DTG_LINE_FIRST), (found.fm, _header.FM_LINE, text, _header.FM_FIRST),
            (found.prosign, _header._PROSIGN_LINE, text[:600], "OPRZ"), (found.de, _header.DE_LINE, text, "D"),
            (found.zn, _header.ZN_LINE, text, "Z"), (found.to_info, _header._TO_OR_INFO, text, "TI"),
        )
        for got, rx, where, first in rules:
            assert _match_key(got) == _match_key(_lines.line_search(rx, where, first)), (text, rx.pattern)
        if found.dtg is None:
            assert _match_key(found.bare) == _match_key(_lines.line_search(_dtg.DTG_BARE, text, _dtg.DTG_BARE_FIRST)), text
            bare += found.bare is not None
        checked += 1
    assert checked > 80_000 and bare > 1000


def test_top_lines_as_the_line_searches() -> None:
    """Every body header of up to four pieces (E.O. lines, SUBJECT lines in several spellings and cases, the long
    s, REF lines, blanks, line breaks, other text): each landmark line found in the one pass is the
    line-anchored search of its rule."""
    from etl.parse import _decl

    pieces = ("E.O. 12958: N/A\n", "e.o. 1", "EO 12356", "\nSUBJECT: X\n", "subj: y", "ubject: Z", "\u017fUBJ: W",
              "\nREF: A. STATE 1", "ref b", "PROGRAM REFS: C", "RE", " ", "\t", "\n", "x", "S", "E0. 1", "SIPDIS",
              "\nprogram ref: d")
    checked = found = 0
    for text in _texts(pieces, 4):
        top = _body.TopLines(text)
        rules = ((top.eo, _decl.EO_LINE, "Ee"), (top.eo_or_subject, _body.EO_OR_SUBJECT, _body.EO_OR_SUBJECT_FIRST),
                 (top.subject, _body.SUBJECT_LINE, _body.SUBJECT_FIRST), (top.ref, _body.REF_LINE, _body._REF_FIRST))
        for got, rx, first in rules:
            assert _match_key(got) == _match_key(_lines.line_search(rx, text, first)), (text, rx.pattern)
            found += got is not None
        checked += 1
    assert checked > 60_000 and found > 80_000


def test_stripped_length_as_the_strip() -> None:
    """Every text of up to four pieces (written characters, blanks of every kind, runs that put the last written
    character on either side of the 64 characters looked at): the length read from the tail is the stripped text's."""
    from etl.parse import _layout

    pieces = ("x", " ", "\n", "\t", "\u3000", "\x1c", "\u00e9", " " * 60, "y" * 61, "\n" * 63)
    checked = 0
    for text in _texts(pieces, 4):
        assert _layout.stripped_len(text) == len(text.rstrip()), repr(text)
        checked += 1
    assert checked > 10_000


def test_pilcrows_dropped_as_the_pattern() -> None:
    """Every text of up to five pieces (pilcrows and replacement characters, blanks, line breaks, other text):
    the pilcrows dropped line by line are those the pattern drops."""
    pieces = ("\u00b6", "\ufffd", " ", "\t", "\n", "x", "\u00e9", "\u00b6\u00b6")
    dropped = 0
    for text in _texts(pieces, 5):
        want = _text._PILCROW.sub(r"\1", text)
        assert _text.drop_pilcrows(text) == want, repr(text)
        dropped += want != text
    assert dropped > 10_000


def test_upper_case_as_isupper() -> None:
    """Every text of up to five pieces (letters of both cases, digits, blanks, marks, letters beyond ASCII, a
    title-case letter): the cheap check for ASCII text is ``str.isupper``."""
    texts = _texts(("A", "b", "RUEHC/", "0229", " ", "-", "\u00c9", "\u00e9", "\u01c5", "\u00aa"), 5)
    assert sum(t.isupper() for t in texts) > 8_000
    assert all(_header.upper_case(t) == t.isupper() for t in texts)


def test_subject_cut_hints_let_every_match_through() -> None:
    """Every text of up to four pieces (REF labels in several spellings and cases, words holding REF, colons,
    Classified By, SENSITIVE BUT UNCLASSIFIED, a squashed paragraph 1, page residue, years, blanks, the long s):
    a text where the REF or the squashed-text cut of the SUBJECT finds something passes its cheap hint."""
    pieces = ("  REF: A", " Ref(s): B) 08 RIO 1", "PRIMEREF: A. X 1", "REFORM", ":", " CLASSIFIED BY X", "\u017fENSITIVE",
              " SENSITIVE BUT UNCLASSIFIED", "  1. TEXT", " STATE 00123 002 OF 003", "2008", " ", "\t", "x", "A",
              "\tSTATE\t00123\t002\tOF\t003", "  REFS:B")
    refs = squashed = 0
    for text in _texts(pieces, 4):
        low = text.lower()
        if _body._INLINE_REF.search(text):
            assert _body._inline_ref_hint(text, low), text
            refs += 1
        if _body._SUBJECT_SQUASHED.search(text):
            assert _body._squashed_hint(text, low), text
            squashed += 1
    assert refs > 5000 and squashed > 5000


def test_subject_glued_found_at_its_word() -> None:
    """Every text of up to four pieces (SUBJECT labels in several cases and spellings, glued after a word or a
    digit, the long s, blanks, line breaks, other text): the places tried in ASCII text give the pattern's match,
    and a TAGS value whose SUBJECT label the pattern finds passes the word check."""
    pieces = ("SUBJECT:", "subj :", "Subj", ":", "XSUBJ:", "5SUBJ: Y", "\u017fubj: Z", " ", "\t", "\n", "x", "ECT")
    found = 0
    for text in _texts(pieces, 4):
        m = _body.SUBJECT_GLUED.search(text)
        assert _match_key(_body.subject_glued(text)) == _match_key(m), text
        found += m is not None
        if _body._SUBJECT_GLUED_ON_TAGS.search(text):
            assert not text.isascii() or "subj" in text.lower(), text
    assert found > 5000


# --- s10-tags: the caveats, the E.O. line, the TAGS details, canonical ids -----------------------------------------


def test_entire_text_found_where_its_hint_is() -> None:
    """Every text of up to five pieces (whole-text markings cut into pieces: parentheses, levels, dashes, blanks,
    tabs, ENTIRE in several cases and with the dotless and dotted i, TEXT, a period, a line break, the Kelvin
    sign): the marking found behind the hint in the lower-cased body is the one the gate and the pattern find,
    and so at the 12000th character."""
    pieces = ("(SECRET", "(s/nf ", "/NOFORN", "-", " -", "\t", "ENTIRE", "entire", "ENT\u0131RE", "ENT\u0130RE",
              " TEXT)", " text.)", " TEXT", ")", "\n", "\u212a")
    found = 0
    for text in _texts(pieces, 5):
        want = _paras._ENTIRE_TEXT.search(text, 0, 12000) if "ENTIRE" in text[:12000].upper() else None
        assert _match_key(_paras._entire_text(text, text.lower())) == _match_key(want), text
        assert _match_key(_paras._entire_text(text, None)) == _match_key(want), text
        found += want is not None
    assert found > 1_000
    for pad in range(11970, 11990):
        for mark in ("(SECRET - ENTIRE TEXT)", "(SECRET-ENT\u0131RE TEXT.)", "(s/nf - entire text)"):
            for tail in ("", "\u00e9"):
                body = "x" * pad + mark + tail
                want = _paras._ENTIRE_TEXT.search(body, 0, 12000) if "ENTIRE" in body[:12000].upper() else None
                assert _match_key(_paras._entire_text(body, body.lower())) == _match_key(want), (pad, mark)


def test_eo_parts_of_the_top_match_as_of_the_line() -> None:
    """Every line of up to five pieces (E.O. labels spelt several ways, numbers, DECL, glued TAGS, blanks, tabs,
    wide spaces, the dotless i) standing in a text between other lines: the parts read off the EO_LINE match in
    the text are those of the line's own (stripped) match."""
    pieces = ("E.O.", "E.O", "EO", "e.o.", "E. O.", " ", "\t", "12958", "1295", ":", "DECL:", " TAGS: X", "tags",
              "1/2/2019", "\u00a0", "\u3000", "\u0131", "x")
    tried = 0
    for line in _texts(pieces, 5):
        text = "SUBJECT: A\n" + line + "\nmore\n"
        m = _decl.EO_LINE.match(text, 11)
        if m is None:
            continue
        tried += 1
        assert _decl.eo_parts(m.group(0).strip(), m) == _decl.eo_parts(m.group(0).strip()), line
    assert tried > 50_000


@pytest.mark.parametrize("extra", [{}, {"RU": "country", "SIPDIS": "other", "TAGS": "other", "SYR": "country",
                                         "PAGE": "other", "02": "other", "SECRET": "other", "STATE": "other"}])
def test_known_tag_details_as_split_and_fixed(extra: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Every TAGS value of up to five pieces (known codes, typo words, words that are not tags, unknown words,
    page-break words, lower case, digits, parentheses, separators), with the vocabulary as shipped and with typo
    and dropped words and page-break words added to it: the rows read off the vocabulary are those of split_tags and tag_details."""
    vocab = {**_vocab.vocabulary(), **extra}
    monkeypatch.setattr(_vocab, "vocabulary", lambda: vocab)
    monkeypatch.setattr(_tags, "vocabulary", lambda: vocab)
    pieces = ("PREL", "PGOV", "IT", "RU", "SIPDIS", "TAGS", "SYR", "XQZW", "PAGE", "02", "STATE", "SECRET", "prel", "(X)",
              " ", ",", ", ", "\n")
    fast = 0
    for raw in _texts(pieces, 5):
        got = _tags.known_details(raw, vocab)
        if got is not None:
            assert got == _vocab.tag_details(_tags.split_tags(raw)), raw
            fast += 1
    assert fast > 10_000


def test_plain_canonical_id_as_the_rules() -> None:
    """Every id of up to five pieces (years of two and four digits, a doubled year, posts, glued junk, section and
    teletype markers, serials of every length, blanks, lower case, a dash, a PlusD suffix, a malformed id, digits
    beyond ASCII): an id the plain shape takes gets the id the rules give."""
    pieces = ("07", "1974", "75", "MOSCOW", "soia", "SOIA828", "NOFORN", "SECTION01OF02", "OF", "ZFR", "TOSEC", "5349",
              "00123", "12345678", "-", "_b", " ", "\u0665", "BA", "SECSTATE")
    plain = 0
    for ref in _texts(pieces, 4):
        rid = ref.upper()
        if _ids._PLAIN_ID.fullmatch(rid):
            plain += 1
        assert _ids.canonical_id(ref) == (_ids._canonical_by_rules(rid) if ref else None), ref
    assert plain > 1_000
