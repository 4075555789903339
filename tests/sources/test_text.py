"""Raw telegram text and its Markdown rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sources.conftest import read_all

CABLE = (
    "VZCZCXRO0594\r\nRR RUEHAO\r\nDE RUEHBO #1165 0471902\r\nZNR UUUUU ZZH\r\nR 161902Z FEB 07\r\n"
    "FM AMEMBASSY BOGOTA\r\nTO RUEHC/SECSTATE WASHDC 2786\r\nUNCLAS BOGOTA 001165 \r\n \r\n"
    "E.O. 12958: N/A \r\nTAGS: PGOV CO\r\nSUBJECT: A TEST\r\n \r\n\u00b61.  Para one caf\u00e9.\r\nWOOD\r\n"
)


def test_cp1252_crlf_cable(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("c.dat", CABLE.encode("cp1252"))])
    assert rec.error is None
    assert (rec.lineage.format, rec.lineage.encoding, rec.lineage.location) == ("text", "cp1252", "byte 0")
    assert rec.header == ""
    assert "\r" not in rec.body
    assert "\n1.  Para one caf\u00e9.\nWOOD\n" in rec.body
    assert rec.raw.startswith("VZCZC")


def test_utf8_cable(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("c.txt", CABLE.encode("utf-8"))])
    assert rec.lineage.encoding == "utf-8"
    assert "caf\u00e9" in rec.body


def test_several_cables_in_one_file(write) -> None:  # type: ignore[no-untyped-def]
    data = (CABLE + "NNNN\r\n" + CABLE.replace("1165", "1166") + "\r\n" + CABLE.replace("1165", "1167")).encode("cp1252")
    records = read_all([write("many.txt", data)])
    assert [r.error for r in records] == [None, None, None]
    assert ["#1165" in records[0].body, "#1166" in records[1].body, "#1167" in records[2].body] == [True] * 3
    offsets = [int(r.lineage.location.split()[1]) for r in records]
    assert offsets[0] == 0 and offsets[0] < offsets[1] < offsets[2]
    assert data[offsets[2]:].startswith(b"VZCZC")


def test_mixed_encodings_per_line(write) -> None:  # type: ignore[no-untyped-def]
    data = CABLE.encode("cp1252") + "SUBJECT: na\u00efve r\u00e9sum\u00e9\r\n".encode()
    [rec] = read_all([write("mixed.txt", data)])
    assert rec.lineage.encoding == "utf-8+cp1252"
    assert "na\u00efve r\u00e9sum\u00e9" in rec.body and "caf\u00e9" in rec.body


def test_unknown_text_is_error_record(write) -> None:  # type: ignore[no-untyped-def]
    [rec] = read_all([write("notes.txt", "shopping list: eggs, milk\n")])
    assert rec.error == f"unknown_format: {rec.lineage.source_uri}"
    assert rec.lineage.format == "unknown"


def test_markdown_rendering(write) -> None:  # type: ignore[no-untyped-def]
    md = (
        "VZCZCXRO2940\nO 091341Z NOV 07\nFM AMEMBASSY MOSCOW\n\nCONFIDENTIAL MOSCOW 005349\n\n"
        "E.O. 12958: DECL: 11/09/2017 TAGS: <u>PGOV KPKO</u>\n\nREF: A. STATE 147667\n\n**1**B. MOSCOW 5190\n\n"
        "- 11. (C) In a meeting.\n- 12. (C) Second.\n"
    )
    [rec] = read_all([write("m.txt", md)])
    assert rec.lineage.format == "markdown"
    assert "TAGS: PGOV KPKO\n" in rec.body
    assert "\nB. MOSCOW 5190\n" in rec.body
    assert "\n1. (C) In a meeting.\n2. (C) Second.\n" in rec.body


@pytest.mark.corpus
def test_corpus_raw_text_and_markdown(corpus: Path) -> None:
    texts = read_all([corpus / "raw-text"])
    assert len(texts) == 24
    assert {r.lineage.format for r in texts} == {"text"}
    assert [r.error for r in texts if r.error] == []
    assert {r.lineage.encoding for r in texts} <= {"cp1252", "utf-8"}
    assert all("\r" not in r.body for r in texts)
    [md] = read_all([corpus / "markdown"])
    assert md.error is None and md.lineage.format == "markdown"
    assert "<u>" not in md.body and "**" not in md.body
