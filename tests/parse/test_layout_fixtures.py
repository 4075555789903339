"""Finding the cable by its landmarks (etl/parse/_layout.py): invented cables in real dump layouts
(tests/parse/layouts/), preambles read as metadata, the id trust rule per source kind, no_cable_found."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from etl.parse import cable_found, parse, parse_text, split_cable
from etl.parse._layout import locate
from etl.sources import Lineage, RawRecord, discover, iter_records

LAYOUTS = Path(__file__).parent / "layouts"


def _records() -> dict[str, RawRecord]:
    return {Path(d.uri).name: r for d in discover([str(LAYOUTS)]) for r in iter_records(d)}


EXPECTED: dict[str, dict[str, Any]] = {
    # 5-line preamble, old-style header (no VZCZC), CRLF, spaced banner glued onto the last INFO line, BT/#/NNNN
    "85DUBLIN3456.txt": {
        "reference_id": "85DUBLIN3456", "reference_id_source": "preamble", "sent_at_source": "dtg",
        "sent_at": datetime(1985, 6, 24, 11, 32, tzinfo=UTC), "classification": "CONFIDENTIAL",
        "origin": "AMEMBASSY DUBLIN", "origin_name": "Embassy Dublin", "banner_post": "DUBLIN",
        "banner_serial": "03456", "tags": ["PREL", "PGOV", "EI", "UK"], "signature": "HEALY",
        "subject": "IRISH VIEWS ON THE ANGLO-IRISH TALKS AND THE NORTHERN IRELAND ASSEMBLY",
    },
    # 5-line preamble, VZCZC header, the banner glued after the last addressee's precedence: "...PRIORITYUNCLAS"
    "09CAIRO1234.txt": {
        "reference_id": "09CAIRO1234", "sent_at": datetime(2009, 6, 30, 10, 20, tzinfo=UTC),
        "sent_at_source": "dtg", "classification": "UNCLASSIFIED", "banner_post": "CAIRO", "banner_serial": "001234",
        "transmission_id": "VZCZCXYZ0007", "de_serial": "1234", "signature": "SCOBEY", "tags": ["SENV", "EWWT", "EG"],
    },
    # partial extract: notice glued to the banner ("...is not available.UNCLAS"), no DTG: the preamble's date
    "03ABUJA456.txt": {
        "reference_id": "03ABUJA456", "reference_id_source": "preamble", "sent_at_source": "preamble",
        "sent_at": datetime(2003, 3, 7, tzinfo=UTC), "origin_name": "Embassy Abuja", "is_partial": True,
        "banner_post": "ABUJA", "classification": "UNCLASSIFIED", "subject": "NIGERIAN ELECTION OBSERVERS PLAN",
    },
    # BOM, CR line ends, export header lines (null, DB/Inbox) and a key: value block before the cable
    "06ANKARA1234.txt": {
        "reference_id": "06ANKARA1234", "sent_at": datetime(2006, 3, 2, 14, 5, tzinfo=UTC),
        "classification": "SECRET//NOFORN", "banner_level": "SECRET", "transmission_id": "VZCZCXRO1111",
        "subject": "TURKISH VIEWS ON A WATER DEAL", "tags": ["PREL", "ENRG", "TU"], "signature": "WILSON",
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_layout_fixture(name: str) -> None:
    rec = _records()[name]
    assert rec.error is None and rec.lineage.format == "text"
    row = parse(rec)
    got = {k: row[k] for k in EXPECTED[name]}
    assert got == EXPECTED[name]
    # the preamble is metadata, never text
    for field in ("header", "body"):
        assert "Embassy" not in row[field] and "null" not in row[field] and "DB/Inbox" not in row[field]
    assert row["header"].lstrip().startswith(("VZCZC", "O 2", "This record")), row["header"][:40]
    assert not row["body"].startswith("\ufeff")


def test_non_cable_text_is_set_aside_naming_what_it_saw() -> None:
    rec = _records()["not-a-cable.txt"]
    assert rec.error is not None and rec.error.startswith("unknown_format")


def test_parse_text_matches_split() -> None:
    text = (LAYOUTS / "09CAIRO1234.txt").read_text()
    header, body = split_cable(text)
    assert header.startswith("VZCZCXYZ0007") and header.endswith("ARAB LEAGUE COLLECTIVE PRIORITY")
    assert body.startswith("UNCLAS CAIRO 001234")


@pytest.mark.parametrize(
    ("text", "header_end", "body_start"),
    [
        ("VZCZC\nFM AMEMBASSY X\nTO RUEHC/SECSTATE WASHDC PRIORITY 0001UNCLAS KABUL 000001\nTAGS: A\n",
         "PRIORITY 0001", "UNCLAS KABUL 000001"),
        ("VZCZC\nFM AMEMBASSY X\nTO RUEHXX/AMEMBASSY LONDON UKC O N F I D E N T I A L X 000002\nTAGS: A\n",
         "LONDON UK", "C O N F I D E N T I A L X 000002"),
        ("VZCZC\nFM AMEMBASSY X\nTO RUEHC/SECSTATE WASHDCSECRET SECTION 01 OF 02 X 000003\nTAGS: A\n",
         "WASHDC", "SECRET SECTION 01 OF 02"),
    ],
)
def test_glued_banner_split_at_the_landmark(text: str, header_end: str, body_start: str) -> None:
    header, body = split_cable(text)
    assert header.endswith(header_end) and body.startswith(body_start)


def test_no_glued_banner_in_an_ordinary_header() -> None:
    text = "VZCZC\nFM AMEMBASSY X\nTO RUEHC/SECSTATE WASHDC 0001\nINFO RUEHXX/SECRETARIAT GENEVA\n\nTAGS: A\n"
    assert locate(text).notes == []


@pytest.mark.parametrize(
    "preamble",
    [
        "id: 07MOSCOW5349\ndate: 2007-11-09 13:41\nclassification: CONFIDENTIAL\norigin: Embassy Moscow\n"
        "subject: RUSSIAN DFM SALTANOV\n\n",
        "07MOSCOW5349\nRUSSIAN DFM SALTANOV ON DARFUR AVIATION AND TRANSP\nFri Nov 09 00:00:00 +0100 2007\n"
        "CONFIDENTIAL\nEmbassy Moscow\n",
        "null\nDB/Inbox 2011-08-30\nrefid: 07MOSCOW5349\nDate: 11/9/2007 13:41\nClassification: CONFIDENTIAL\n\n",
    ],
)
def test_preamble_is_metadata_not_text(preamble: str) -> None:
    cable = (
        "VZCZCXRO2940\nOO RUEHDBU\nDE RUEHMO #5349 3131341\nZNY CCCCC ZZH\nO 091341Z NOV 07\nFM AMEMBASSY MOSCOW\n"
        "TO RUEHC/SECSTATE WASHDC IMMEDIATE 5172\nC O N F I D E N T I A L MOSCOW 005349\n\nE.O. 12958: DECL: 11/09/2017\n"
        "TAGS: PGOV UN\nSUBJECT: RUSSIAN DFM SALTANOV ON DARFUR\n\n1. (C) Text.\nBURNS\n"
    )
    plain = parse_text(cable)
    row = parse_text(preamble + cable)
    assert row["reference_id"] == plain["reference_id"] == "07MOSCOW5349"
    assert row["reference_id_source"] == "preamble" and plain["reference_id_source"] == "derived"
    for f in ("sent_at", "classification", "subject", "tags", "origin_name", "header", "body", "signature"):
        assert row[f] == plain[f], f
    assert row["flag_classification_mismatch"] is False
    assert any(p.startswith("layout: ") and "preamble" in p for p in row["_problems"])


def test_preamble_fills_what_the_text_lacks_and_is_checked_against_it() -> None:
    body = "CONFIDENTIAL\n\nE.O. 12958: DECL: 1X\nTAGS: PGOV\n\n1. (S) Text.\n"  # no DTG, no post/serial, no SUBJECT
    row = parse_text("id: 07MOSCOW5349\ndate: 2007-11-09\nclassification: SECRET\nsubject: A TITLE\n\n" + body)
    assert (row["reference_id"], row["reference_id_source"]) == ("07MOSCOW5349", "preamble")
    assert (row["sent_at"], row["sent_at_source"]) == (datetime(2007, 11, 9, tzinfo=UTC), "preamble")
    assert row["classification"] == "CONFIDENTIAL"  # the banner wins over the preamble...
    assert row["flag_classification_mismatch"] is True  # ...and the disagreement is flagged
    assert row["subject"] == "A TITLE" and row["subject_raw"] is None
    assert row["body"].startswith("CONFIDENTIAL") and "id:" not in row["body"]


def _export(meta: dict[str, str], body: str) -> dict[str, Any]:
    lin = Lineage("x.jsonl", "0" * 64, None, "line 1", "jsonl")
    return parse(RawRecord(lineage=lin, body=body, meta=meta))


_NEW_DELHI = ("CONFIDENTIAL SECTION 01 OF 02 NEW DELHI 007333\n\nE.O. 12958: DECL: 1\nTAGS: PREL IN\n"
              "SUBJECT: X\n\nREF: NEW DELHI 6833\n\n1. (C) Text.\n")


@pytest.mark.parametrize(
    ("meta", "want", "source"),
    [
        # an export's _id holding another cable's id: the banner's own post/serial win
        ({"reference_id": "04NEWDELHI6833", "created": "2004-10-05 12:00"}, "04NEWDELHI7333", "derived"),
        # its year against the record's own date field
        ({"reference_id": "03NEWDELHI7333", "created": "2004-10-05 12:00"}, "04NEWDELHI7333", "derived"),
        # an id that agrees with the text is taken as stated
        ({"reference_id": "04NEWDELHI7333", "created": "2004-10-05 12:00"}, "04NEWDELHI7333", "metadata"),
        # a |-joined list or nothing: derived
        ({"reference_id": "04NEWDELHI6833|04STATE1", "created": "2004-10-05 12:00"}, "04NEWDELHI7333", "derived"),
        ({"created": "2004-10-05 12:00"}, "04NEWDELHI7333", "derived"),
    ],
)
def test_export_id_is_checked_against_the_text(meta: dict[str, str], want: str, source: str) -> None:
    row = _export(meta, _NEW_DELHI)
    assert (row["reference_id"], row["reference_id_source"]) == (want, source)
    if source == "derived" and "reference_id" in meta:
        assert any(meta["reference_id"] in p for p in row["_problems"])  # kept and flagged, never dropped


def test_export_id_year_fixed_from_the_record_date_when_no_banner_serial() -> None:
    row = _export({"reference_id": "08CAIRO74", "created": "2009-01-12 08:00"}, "UNCLAS\n\nTAGS: PREL\n\n1. Text.\n")
    assert (row["reference_id"], row["reference_id_source"]) == ("09CAIRO74", "derived")
    assert any("08CAIRO74" in p for p in row["_problems"])


def test_publisher_id_is_taken_as_stated() -> None:
    lin = Lineage("x.html", "0" * 64, None, "byte 0", "cablegate-html")
    row = parse(RawRecord(lineage=lin, body=_NEW_DELHI.replace("REF: NEW DELHI 6833", ""), meta={"reference_id": "04NEWDELHI6833",
                                                             "created": "2004-10-05 12:00"}))
    assert (row["reference_id"], row["reference_id_source"]) == ("04NEWDELHI6833", "metadata")


def test_cable_found() -> None:
    assert cable_found(parse_text((LAYOUTS / "09CAIRO1234.txt").read_text()))
    assert not cable_found(parse_text("Meeting notes\nSubject: the picnic\n\nBring food.\n"))


def test_no_cable_found_quarantine_lists_landmarks() -> None:
    from etl.pipeline._parse import parse_record

    lin = Lineage("x.jsonl", "0" * 64, None, "line 1", "jsonl")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    where, row = parse_record(RawRecord(lineage=lin, body="Meeting notes\nSubject: the picnic\n"), "r1", when)
    assert where == "quarantine" and row["reasons"] == ["no_cable_found"] and row["stage"] == "parse"
    assert "SUBJECT (line 2)" in row["details"][0] and "layout the parser missed" in row["details"][0]
    where, row = parse_record(RawRecord(lineage=lin, body="hello world\n"), "r1", when)
    assert where == "quarantine" and row["details"][0].endswith("none - not a cable")
    where, _ = parse_record(RawRecord(lineage=lin, body=(LAYOUTS / "09CAIRO1234.txt").read_text()), "r1", when)
    assert where == "cables"


def test_text_reader_keeps_each_cables_preamble_with_it(tmp_path: Path) -> None:
    one = (LAYOUTS / "06ANKARA1234.txt").read_bytes()  # CR line ends, BOM, preamble before VZCZC
    two = one.replace(b"06ANKARA1234", b"06ANKARA1235").replace(b"#1234", b"#1235").replace(b"001234", b"001235")
    (tmp_path / "two.txt").write_bytes(one + b"NNNN\r" + two.replace(b"\xef\xbb\xbf", b""))
    records = [r for d in discover([str(tmp_path)]) for r in iter_records(d)]
    assert [r.error for r in records] == [None, None]
    assert [parse(r)["reference_id"] for r in records] == ["06ANKARA1234", "06ANKARA1235"]
    assert all(parse(r)["reference_id_source"] == "preamble" for r in records)
