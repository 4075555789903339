"""Cablegate HTML pages: metadata from the table, sliced <pre> blocks, careful entity decoding."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.sources.conftest import read_all

PAGE = """<?xml version='1.0' encoding='utf-8' ?>
<html lang='en'><head><title>Cable Viewer</title></head><body>
<h3>Viewing cable 06BOGOTA2291, AMBASSADOR MEETS &amp; GREETS</h3>
<table class='cable'>
<tr><th>Reference ID</th><th>Created</th><th>Released</th><th>Classification</th><th>Origin</th></tr>
<tr>
<td><a href='/cable/2006/03/06BOGOTA2291.html'>06BOGOTA2291</a></td>
<td><a href='/date/2006-03_0.html'>2006-03-14 15:03</a></td>
<td><a href='/reldate/2011-03-09_0.html'>2011-03-09 12:12</a></td>
<td><a href='/classification/1_0.html' title='unclassified'>CONFIDENTIAL</a></td>
<td><a href='/origin/126_0.html'>Embassy Bogota</a></td>
</tr>
</table>
<code><pre>{header}</pre></code>
<code><pre>{body}</pre></code>
</body></html>
"""

HEADER = "VZCZCXYZ0029&#x000A;PP RUEHWEB&#x000A;P 141502Z MAR 06&#x000A;FM AMEMBASSY BOGOTA"
BODY = (
    "C O N F I D E N T I A L BOGOTA 002291 &#x000A;TAGS: <a href='/tag/KJUS_0.html'>KJUS</a> "
    "<a href='/tag/CO_0.html'>CO</a>&#x000A;SUBJECT: AT&T AND R&D &notice &copy x < y </table "
    "&#x000A;&#x000A;<a id='par1' href='#par1'>\u00b6</a>1. (C) Text &amp; more.&#x000A;WOOD"
)


def page(header: str = HEADER, body: str = BODY) -> str:
    return PAGE.format(header=header, body=body)


def test_metadata_from_link_text_not_title(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("p.html", page())])
    assert rec.error is None
    assert rec.lineage.format == "cablegate-html"
    assert rec.lineage.encoding == "utf-8"
    assert rec.lineage.location.startswith("byte ")
    assert rec.meta == {
        "reference_id": "06BOGOTA2291",
        "subject": "AMBASSADOR MEETS & GREETS",
        "created": "2006-03-14 15:03",
        "created_precision": "hour",
        "released": "2011-03-09 12:12",
        "classification": "CONFIDENTIAL",
        "origin": "Embassy Bogota",
    }


def test_blocks_sliced_and_cleaned(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("p.html", page())])
    assert rec.header == "VZCZCXYZ0029\nPP RUEHWEB\nP 141502Z MAR 06\nFM AMEMBASSY BOGOTA"
    assert "TAGS: KJUS CO\n" in rec.body
    # raw & and < survive; only well-formed references are decoded
    assert "AT&T AND R&D &notice &copy x < y </table" in rec.body
    assert "\n1. (C) Text & more.\nWOOD" in rec.body
    assert "\u00b6" not in rec.body and "<a" not in rec.body


def test_single_block_is_body(write) -> None:  # type: ignore[no-untyped-def]
    html = page().replace(f"<code><pre>{HEADER}</pre></code>\n", "")
    [rec] = read_all([write("p.html", html)])
    assert rec.header == ""
    assert rec.body.startswith("C O N F I D E N T I A L")


def test_partial_extract(write) -> None:  # type: ignore[no-untyped-def]
    notice = "This record is a partial extract of the original cable. The full text of the original cable is not available."
    [rec] = read_all([write("p.html", page(header=notice))])
    assert rec.meta["partial"] == "1"
    assert rec.header == ""


def test_true_minutes_keep_minute_precision(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("p.html", page().replace("2006-03-14 15:03", "1972-02-25 09:30"))])
    assert rec.meta["created_precision"] == "minute"


def test_database_row_body(write) -> None:  # type: ignore[no-untyped-def]
    row = (
        "2007-09-11 09:44:00\t06BOGOTA2291\tEmbassy Bogota\tSECRET\t07STATE1\t"
        "VZCZCXRO4549\\&#x000A;FM AMEMBASSY BOGOTA\t"
        "S E C R E T BOGOTA 2291 \\&#x000A;TAGS: PREL\\&#x000A;SUBJECT: X\\&#x000A;WOOD \\&#x000A;&#x000A;1234\t"
        "2007-09-11 12:50:00\t07TBILISI2290\tEmbassy Tbilisi\tUNCLASSIFIED\t\tVZCZC\tUNCLAS OTHER CABLE \\"
    )
    [rec] = read_all([write("p.html", page(body=row))])
    assert rec.meta["created"] == "2007-09-11 09:44"
    assert rec.meta["created_precision"] == "minute"
    assert rec.body == "S E C R E T BOGOTA 2291 \nTAGS: PREL\nSUBJECT: X\nWOOD \n"


def test_html_without_cable_is_error(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("x.html", "<html><body><p>hello</p></body></html>")])
    assert rec.error is not None and rec.error.startswith("no_cable:")


def test_cp1252_page_decoded(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("p.html", page().replace("\u00b6", "\u00b6").encode("cp1252"))])
    assert rec.lineage.encoding == "cp1252"
    assert "\u00b6" not in rec.body


@pytest.mark.corpus
def test_every_corpus_page_gives_one_record(corpus: Path) -> None:
    for folder, expected in (("cablegate-html", 2053), ("cablegate-html-variants", 36)):
        records = read_all([corpus / folder])
        assert len(records) == expected
        assert [r.error for r in records if r.error] == []
        assert Counter(r.lineage.format for r in records) == {"cablegate-html": expected}
        for rec in records:
            assert rec.meta.get("reference_id"), rec.lineage
            assert rec.meta.get("created_precision") in ("hour", "minute")
            assert rec.body.strip(), rec.lineage
            assert "&#x000A;" not in rec.body and "<a " not in rec.body
            assert rec.lineage.source_sha256 and rec.lineage.member is None
            assert rec.meta["classification"] in {
                "CONFIDENTIAL", "UNCLASSIFIED//FOR OFFICIAL USE ONLY", "UNCLASSIFIED", "SECRET",
                "SECRET//NOFORN", "CONFIDENTIAL//NOFORN",
            }
