"""Case tables of the routing header, caveats, Classified By, the body (paragraphs, summary, comment, signature),
identity and the consistency flags; every peer (cablemap) bug is a case we pass. DTG, banner, E.O./DECL,
TAGS, SUBJECT and REF are in test_fields.py."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace as Rec
from typing import Any

import pytest

from etl.parse import _header, _ids, _paras, parse, parse_text

# ---------------------------------------------------------------- routing header
ROUTING = """VZCZCXRO2940
OO RUEHDBU RUEHROV
RUEHNL RUEHQU
DE RUEHMO #5349/02 3131341
ZNY CCCCC ZZH
O 091341Z NOV 07
FM AMEMBASSY MOSCOW
TO RUEHC/SECSTATE WASHDC IMMEDIATE 5172
RUEKJCS/SECDEF WASHDC PIORITY
INFO RUCNFUR/DARFUR COLLECTIVE
XMT AMEMBASSY SOFIA
AMEMBASSY BUCHAREST
PAGE 02 STATE 015113 182333Z
RUEHTH/AMEMBASSY ATHENS 0121
RUEHXX/EC COLLECTIVE NIACT IMMEDIATE"""

ROUTING_CASES = [
    ("transmission_id", "VZCZCXRO2940"), ("routing_precedence", "OO"),
    ("relay_ris", ["RUEHDBU", "RUEHROV", "RUEHNL", "RUEHQU"]), ("de_station", "RUEHMO"), ("de_serial", "5349"),
    ("de_section", "02"), ("de_julian_day", 313), ("de_time", "1341"), ("security_line", "ZNY"),
    ("security_word", "CCCCC"),
]


@pytest.mark.parametrize("field,expected", ROUTING_CASES)
def test_routing(field: str, expected: Any) -> None:
    assert _header.routing(ROUTING)[field] == expected


def test_addressees_with_xmt_exclusions() -> None:
    to, info = _header.addressees(ROUTING)
    assert to == [
        {"routing_indicator": "RUEHC", "address": "SECSTATE WASHDC", "precedence": "IMMEDIATE", "mcn": "5172",
         "excluded": []},
        # the peer's PIORITY typo fix is kept
        {"routing_indicator": "RUEKJCS", "address": "SECDEF WASHDC", "precedence": "PRIORITY", "mcn": None,
         "excluded": []},
    ]
    # the peer skips XMT lines and never fills `excluded`; teletype page-break lines are dropped
    assert info[0]["address"] == "DARFUR COLLECTIVE"
    assert info[0]["excluded"] == ["AMEMBASSY SOFIA"]
    assert [a["address"] for a in info] == ["DARFUR COLLECTIVE", "AMEMBASSY BUCHAREST", "AMEMBASSY ATHENS",
                                            "EC COLLECTIVE"]
    assert info[2]["mcn"] == "0121"
    assert info[3]["precedence"] == "NIACT IMMEDIATE"


ADDRESSEE_CASES = [
    ("RUEHC/SECSTATE WASHDC IMMEDIATE 4696", ("RUEHC", "SECSTATE WASHDC", "IMMEDIATE", "4696")),
    ("RUEUITH/DET 1 39LG ANKARA TU", ("RUEUITH", "DET 1 39LG ANKARA TU", None, None)),
    ("AMEMBASSY ALGIERS", (None, "AMEMBASSY ALGIERS", None, None)),
    ("RUEHLP/AMEMBASSY LA PAZ MAR LIMA 3401", ("RUEHLP", "AMEMBASSY LA PAZ MAR LIMA", None, "3401")),
    ("SECSTATE WASHDC FLASH", (None, "SECSTATE WASHDC", "FLASH", None)),
]


@pytest.mark.parametrize("line,expected", ADDRESSEE_CASES)
def test_addressee(line: str, expected: tuple[Any, ...]) -> None:
    a = _header.addressee(line)
    assert (a["routing_indicator"], a["address"], a["precedence"], a["mcn"]) == expected


DTG_FIELD_CASES = [
    ("Z 021228Z JUL 09 ZFF4\n", ("Z", "Z", True, datetime(2009, 7, 2, 12, 28, tzinfo=UTC))),
    ("R 181313Z JUN 09 ZDK MANY SVCS\n", ("R", "Z", True, datetime(2009, 6, 18, 13, 13, tzinfo=UTC))),
    ("O 260858Z JUL 06 ZDK\n", ("O", "Z", True, datetime(2006, 7, 26, 8, 58, tzinfo=UTC))),
    ("O 311341Z FEB 07\n", ("O", "Z", False, None)),
    # a partial extract's bare DTG line, no precedence (03ANKARA4767)
    ("This record is a partial extract of the original cable.\n281413Z Jul 03\n", (None, "Z", True,
                                                                                   datetime(2003, 7, 28, 14, 13, tzinfo=UTC))),
]


@pytest.mark.parametrize("header,expected", DTG_FIELD_CASES)
def test_dtg_fields(header: str, expected: tuple[Any, ...]) -> None:
    row = parse(Rec(header=header, body="UNCLAS STATE 000001\n", meta={}))
    assert (row["precedence"], row["dtg_zone"], row["dtg_valid"], row["sent_at"]) == expected


# ---------------------------------------------------------------- caveats
CAVEAT_CASES = [
    ("SIPDIS\n\nSIPDIS\n", ["SIPDIS"]),
    ("WNINTEL\nNOCONTRACT\n", ["WNINTEL", "NOCONTRACT"]),
    ("NOFORN\nSIPDIS\n", ["SIPDIS", "NOFORN"]),
    ("SENSITIVE\nSIPDIS\n", ["SIPDIS", "SENSITIVE"]),
    ("C O R R E C T E D  C O P Y\n", ["CORRECTED COPY"]),
    ("E F T O\n", ["EFTO"]),
    ("EXDIS\n", ["EXDIS"]), ("NODIS\n", ["NODIS"]), ("LIMDIS\n", ["LIMDIS"]),
    ("REL TO USA, AUS, GBR\n", ["REL TO USA, AUS, GBR"]),
    ("FOR OFFICIAL USE ONLY\n", ["FOR OFFICIAL USE ONLY"]),
    ("DEPT FOR EUR/WE\n", []),
]


@pytest.mark.parametrize("head,expected", CAVEAT_CASES)
def test_caveats(head: str, expected: list[str]) -> None:
    assert _paras.caveats(head) == expected


def test_caveats_of_an_entire_text_marking() -> None:
    """1980s cables put the caveats in paragraph 1's whole-text marking (85MOGADISHU1643)."""
    body = ("S E C R E T MOGADISHU 01643\n\nE.O. 12356: DECL: OADR\nTAGS: PREL\nSUBJECT: X\n\n"
            "1. (SECRET/NOFORN/WNINTEL/NO CONTRACT/ORCON-ENTIRE TEXT)\n\n2. TEXT.\n")
    assert parse(Rec(body=body, meta={}))["caveats"] == ["NOFORN", "WNINTEL", "NOCONTRACT", "ORCON"]


# ---------------------------------------------------------------- a second cable glued on
def test_glued_second_cable_is_cut() -> None:
    """Pages that glued another cable on (73TEHRAN2077 + a leaked 06THEHAGUE131 row; 73TEHRAN8233 + THE HAGUE 174)."""
    own = "S E C R E T TEHRAN 2077\n\nE. O. 11652: GDS\nTAGS: PFOR IR\nSUBJECT: AUDIENCE WITH SHAH APRIL 5\n ...\n\n\n"
    leaked = ("50133  2006-01-19  06THEHAGUE131  Embassy The Hague  CONFIDENTIAL    C O N F I D E N T I A L THE HAGUE "
              "000131\n\nTAGS: PFOR\n\nSUBJECT: NETHERLANDS\n\nClassified By: Charge Chat Blakeman, reasons 1.4 (b,d)\n\n"
              "1. (C) Summary: x\n\n2. (C) y\nBLAKEMAN\n")
    row = parse(Rec(body=own + leaked, meta={"reference_id": "73TEHRAN2077", "created": "1973-04-05 10:00"}))
    assert row["subject"] == "AUDIENCE WITH SHAH APRIL 5"
    assert (row["classified_by_name"], row["paragraphs"], row["signature"]) == (None, [], None)
    assert any("glued" in p for p in row["_problems"])
    second = ("08STATE15228\nS E C R E T THE HAGUE 000174\nSIPDIS\nE.O. 12958: DECL: 02/25/2018\nTAGS: PINT IR\n"
              "SUBJECT: NETHERLANDS\nClassified By: CDA Andrew Schofer, reasons 1.4 (b,d)\n1. (S) x\nSchofer\n")
    row = parse(Rec(body="S E C R E T TEHRAN 8233\n\nTAGS: PINT IR\nSUBJECT: SHAH\n\n1. AFTER THE AUDIENCE\n\n" + second,
                    meta={"reference_id": "73TEHRAN8233"}))
    assert (row["classified_by_name"], len(row["paragraphs"]), row["signature"]) == (None, 1, None)
    # the same cable's later sections repeat its banner: nothing is cut
    row = parse(Rec(body="CONFIDENTIAL SECTION 01 OF 02 MOSCOW 005349\nSUBJECT: X\n\n1. (C) a\n\n"
                         "CONFIDENTIAL SECTION 02 OF 02 MOSCOW 005349\nSUBJECT: X\n\n2. (C) b\n", meta={}))
    assert len(row["paragraphs"]) == 2


# ---------------------------------------------------------------- Classified By
CLASSIFIED_BY_CASES = [
    ("Classified By: Ambassador William J. Burns: 1.4 (b, d).", ("William J. Burns", "Ambassador", "1.4", ["b", "d"])),
    ("CLASSIFIED BY: Rose E. Gottemoeller, Assistant Secretary, Department of State, VCI; REASON: 1.4(B), (D)",
     ("Rose E. Gottemoeller", "Assistant Secretary, Department of State, VCI", "1.4", ["b", "d"])),
    ("CLASSIFIED BY DCM RENO HARNISH FOR REASONS 1.5 (B) AND (D).", ("RENO HARNISH", "DCM", "1.5", ["b", "d"])),
    ("Classified By: Political Counselor Mary E. Daly for reasons 1.5 (b and\nd)", ("Mary E. Daly", "Political Counselor", "1.5", ["b", "d"])),
    ("Classified By: CDA Tom Kelly for reasons b, d.", ("Tom Kelly", "CDA", None, ["b", "d"])),
    ("Classified By: Acting Political Counselor Robert J. Riley,\nreasons 1.4(b), (d) and (h).",
     ("Robert J. Riley", "Acting Political Counselor", "1.4", ["b", "d", "h"])),
    ("Classified By: CDA Russell Frisbie per reasons 1.4 (b & d)", ("Russell Frisbie", "CDA", "1.4", ["b", "d"])),
    ("Classified By: Ambassador Clifford Sobel.  Reason 1.5 (b) (d)", ("Clifford Sobel", "Ambassador", "1.5", ["b", "d"])),
    ("E.O. 12958 AS AMENDED; DECLASSIFIED BY NARA 09/02/2009", (None, None, None, [])),
    ("1.4 b and d", (None, None, None, [])),
    ("CLASSIFIED BY AMB JOHN E. HERBST,...\n\nC o n f i d e n t i a l tashkent 004223 subject: x classified by amb "
     "John E. Herbst, reasons: 1.5 (b,d)\n1. (c) summary", ("JOHN E. HERBST", "AMB", "1.5", ["b", "d"])),
    ("Classified By: CHARGE D'AFFAIRES VICKI HUDDLESTON FOR REASONS 1.5 (B) A \nND (D). \n",
     ("VICKI HUDDLESTON", "CHARGE D'AFFAIRES", "1.5", ["b", "d"])),
    ("Classified By: DCM Robert O. Blake, Jr. for Reasons 1.4 (B, D)", ("Robert O. Blake, Jr.", "DCM", "1.4", ["b", "d"])),
]
# Blank lines are not the line's end: the same text with and without them gives the same fields (05MUSCAT679,
# 07PARIS170, 07LONDON640, 08CAIRO2141, 08CASABLANCA81, 09BRASILIA1411, 04BOGOTA8900, 08SHANGHAI422, 05THEHAGUE2064).
BLANK_FREE_CLASSIFIED_BY = [
    ("Classified By: Political Minister Counselor Aubrey Carlson. Reasons\n\n1.4 (b) and (d).\n\nSummary -------\n",
     ("Aubrey Carlson", "Political Minister Counselor", "1.4", ["b", "d"])),
    ("CLASSIFIED BY: POLITICAL MINISTER-COUNSELOR JOSIAH ROSENBLATT, REASONS\n\n\nPAGE 02 RUEHFRA0170 S E C R E T\n"
     "1.4 (B) AND (D).\n\n1. (S)  LE MONDE'S JAN. 17 EDITION", ("JOSIAH ROSENBLATT", "POLITICAL MINISTER-COUNSELOR", "1.4", ["b", "d"])),
    ("Classified By: Political Minister Counselor Maura Connelly for reasons\n1.4 (b, d)\n\n(C) The UK will try to",
     ("Maura Connelly", "Political Minister Counselor", "1.4", ["b", "d"])),
    ("Classified By: DCM Matthew Tueller\nReasons: 1.4 (B) And (D)\n1.(C) Summary. Egyptian FM", ("Matthew Tueller", "DCM", "1.4", ["b", "d"])),
    ("Classified By: Principal Officer Douglas Greene for reasons 1.4 (B) AND (D)\nREF: (A) 05 CASA 1220 (B) 07 CASA 169\n",
     ("Douglas Greene", "Principal Officer", "1.4", ["b", "d"])),
    ("CLASSIFIED BY: Lisa Kubiske, Charge d'Affaires, a.i.; REASON: 1.4(D)\n\nIntroduction: New Impetus to a Growing Relationship",
     ("Lisa Kubiske", "Charge d'Affaires, a.i", "1.4", ["d"])),
    ("Classified By: Ambassador William B. Wood for reasons 1.4 (b), \n(c), and (d). \n\nTHIS IS AN ACTION REQUEST.",
     ("William B. Wood", "Ambassador", "1.4", ["b", "c", "d"])),
    ("CLASSIFIED BY: Christopher Beede, Political/Economic Chief, U.S.\nConsulate General, Shanghai, Department of State.\n"
     "REASON: 1.4 (b), (d)\n\n\n\n1. (S/NF) Summary:", ("Christopher Beede", "Political/Economic Chief, U.S. Consulate General, "
                                                      "Shanghai, Department of State", "1.4", ["b", "d"])),
    ("Classified By: Cl...\n\nid: 1\nrefid: 05THEHAGUE2064\nheader:\n\nClassified By: Ambassador Clifford M. Sobel for "
     "reasons 1.4 (b) and (d)\n\n1. (C) x", ("Clifford M. Sobel", "Ambassador", "1.4", ["b", "d"])),
]


@pytest.mark.parametrize("text,expected", BLANK_FREE_CLASSIFIED_BY)
def test_classified_by_ends_at_landmarks(text: str, expected: tuple[Any, ...]) -> None:
    assert _paras.classified_by(text) == expected
    assert _paras.classified_by(re.sub(r"\n[ \t]*(?=\n)", "", text)) == expected


@pytest.mark.parametrize("text,expected", CLASSIFIED_BY_CASES)
def test_classified_by(text: str, expected: tuple[Any, ...]) -> None:
    assert _paras.classified_by(text) == expected


# ---------------------------------------------------------------- paragraphs / summary / comment / signature
PARA_CASES = [
    ("1. (C) One.\n\n2. (S/NF) Two\nwrapped.\n\n3. (SBU) Three.", [(1, "C", "One."), (2, "S/NF", "Two wrapped."),
                                                                     (3, "SBU", "Three.")]),
    ("(C) 1. Mark first.\n\n(C) 2. Again.", [(1, "C", "Mark first."), (2, "C", "Again.")]),
    ("7. (C) Excerpt starts late.\n\n8. (U) Next.", [(7, "C", "Excerpt starts late."), (8, "U", "Next.")]),
    ("1. CONFIDENTIAL - ENTIRE TEXT.\n\n2. SECOND.", [(1, None, "CONFIDENTIAL - ENTIRE TEXT."), (2, None, "SECOND.")]),
    ("(S) Unnumbered paragraph.\n\n(C) Another.", [(None, "S", "Unnumbered paragraph."), (None, "C", "Another.")]),
    ("1. (C) In 2007. The year 2008. was fine.", [(1, "C", "In 2007. The year 2008. was fine.")]),
    # a paragraph starting mid-line after a sentence or a rule (08ROME1045, 07NEWDELHI909, 08LONDON2853)
    ("1. (C) Talks with Russia. 2. (C/NF) The second.", [(1, "C", "Talks with Russia."), (2, "C/NF", "The second.")]),
    ("Classified By: Amb, reasons 1.4 (b/d ).  1. (C/NF) Summary. x\n\n2. (C) y",
     [(1, "C/NF", "Summary. x"), (2, "C", "y")]),
    ("1. (C) a\n\nHAITI ----- 2. (C) b", [(1, "C", "a HAITI -----"), (2, "C", "b")]),
    ("1. (C) See para. 5. (C) not a paragraph: out of sequence.", [(1, "C", "See para. 5. (C) not a paragraph: out of sequence.")]),
    # paragraphs withheld: 1, 2 then 16, with a portion mark (09ALGIERS1077)
    ("1. (S) a\n\n2. (S) b\n\nXXXXXXXXXXXX\n\n16. (S) c", [(1, "S", "a"), (2, "S", "b XXXXXXXXXXXX"), (16, "S", "c")]),
    # a number typed twice is two paragraphs (79TEHRAN8980); "6.Request" with no space (10STATE284)
    ("5. (C) a\n\n6. b\n\n6. c\n\n7. d", [(5, "C", "a"), (6, None, "b"), (6, None, "c"), (7, None, "d")]),
    ("5.(C/REL LIBYA) Action.\n\n6.Request feedback by January 8.", [(5, "C/REL LIBYA", "Action."),
                                                                     (6, None, "Request feedback by January 8.")]),
    ("SUBJECT: THE PROBLEM  1.  (SECRET-ENTIRE TEXT)\n\n2.  SUMMARY. x", [(1, None, ""), (2, None, "SUMMARY. x")]),
    ("1. (S) a\n\n2. (S) b\n\n16. numbers in a list are text", [(1, "S", "a"), (2, "S", "b 16. numbers in a list are text")]),
]


@pytest.mark.parametrize("body,expected", PARA_CASES)
def test_paragraphs(body: str, expected: list[tuple[Any, ...]]) -> None:
    assert [(p["number"], p["portion_mark"], p["text"]) for p in _paras.paragraphs(body)] == expected


SUMMARY_CASES = [
    ("1. (C/NF) Summary: In separate December 1 meetings we met. End summary.\n\n2. (C) x",
     "In separate December 1 meetings we met"),
    ("-------\nSummary\n-------\n\n1. (C) Peace talks went on.  End Summary.\n", "Peace talks went on"),
    ("1. (SBU) SUMMARY AND COMMENT: Things.  END SUMMARY AND COMMENT.", "Things"),
    ("1. (C) No summary here.", None),
    # a heading over rules, no END SUMMARY: the paragraph under it (08RIYADH1175, 09UNVIEVIENNA285)
    ("-------\nSummary\n-------\n\n1. (S) Talks proceed slowly.\n\n2. (S) Next.", "Talks proceed slowly"),
    ("-------- \nSUMMARY \n-------- \n \n1. The Third Review Meeting met.\nIt ended.\n\n2. Next.",
     "The Third Review Meeting met. It ended"),
]


@pytest.mark.parametrize("body,expected", SUMMARY_CASES)
def test_summary(body: str, expected: str | None) -> None:
    assert _paras.summary(body) == expected


COMMENT_CASES = [
    ("3. (C) Comment: Please advise. End comment.\n", "Please advise"),
    ("5. (C) COMMENT: A view.\n\n6. (C) Next.", "A view"),
    ("No comment at all.", None),
]


@pytest.mark.parametrize("body,expected", COMMENT_CASES)
def test_comment(body: str, expected: str | None) -> None:
    assert _paras.comment(body) == expected


SIGNATURE_CASES = [
    ("text.\nBURNS\n", "BURNS"), ("text.\n\nVAN VOORST", "VAN VOORST"),
    ("presence in Sudan. BURNS", "BURNS"), ("more text. END COMMENT.  KUBISKE", "KUBISKE"),
    ("21.  BEIRUT MINIMIZE CONSIDERED.  EAGLETON \n", "EAGLETON"), ("text.\nCONFIDENTIAL\n", None),
    ("text.\nBURNS\n\nLIMITED OFFICIAL USE\n", "BURNS"), ("Sincerely, Clinton", None),
    # a systematic-review stamp or NNN after the signer (73TEHRAN7005, 78TEHRAN389)
    ("text.\n\nHELMS\n\nDeclassified/Released US Department of State EO Systematic Review 30 JUN 2005\n\nNNN", "HELMS"),
    ("text.\nSULLIVAN\nCONFIDENTIAL\n\nDeclassified/Released US Department of State EO Systematic Review 30 JUN 2006\n",
     "SULLIVAN"),
    # mixed-case signers: the whole last line, or right after End comment (06BERN141, 73TEHRAN8233, 07BOGOTA2244)
    ("moving very gradually. End comment. Willeford", "WILLEFORD"), ("the case.\nSchofer\n", "SCHOFER"),
    ("no zone.\" \\\nDrucker \\\n", "DRUCKER"), ("text.\nThanks\n", None), ("said the Minister. Next\n", None),
    ("text.\nMCDONALD\n CONFIDENTIAL\n>", "MCDONALD"), ("text.\nDIBBLE\n\"\n", "DIBBLE"),
    ("text.\nPORTER\n\nLIMITED OFFICIAL USE\n\nNMAFVVZCZ\n", "PORTER"), ("text.\nSHANNON SHANNON\n", "SHANNON"),
    ("text.\nHELMS \nDeclassified/Released US Department of State EO \nSystematic Review 05 JUL 2006", "HELMS"),
    ("SIPRNET website. ****************** KURTZER", "KURTZER"), ("TO SWITCH SIDES.-/   NEWTON ", "NEWTON"),
    ("to continue. \nMULFORD \"", "MULFORD"),
    ("text.\nSEMBLER\n   CONFIDENTIAL \n> \n 2002ROME03639 - Classification: CONFIDENTIAL \n\"", "SEMBLER"),
    ("office (which reports to the Legislative\nAssembl", None),  # a cut-off last line is no signer (10SANJOSE90)
]


@pytest.mark.parametrize("body,expected", SIGNATURE_CASES)
def test_signature(body: str, expected: str | None) -> None:
    assert _paras.signature(body) == expected


def test_redactions() -> None:
    assert _paras.redaction_count("met XXXXXXXXXXXX and XXXXXXXXXXXX. EXXON") == 2
    # lower-case and short runs are the publisher's too (88BAGHDAD28, 04ANKARA348); XXX is not
    assert _paras.redaction_count("firm xxxxxxxxxxxx test; peddling. xxxxx that; XXX marks") == 2


# ---------------------------------------------------------------- identity / origin
CANONICAL_CASES = [
    ("07MOSCOW5349", "07MOSCOW5349"), ("7575LIBREVILLE1895", "75LIBREVILLE1895"),
    ("08SECTION01OF02MANAMA492", "08MANAMA492"), ("08SCTION02OF02SAOPAULO335", "08SAOPAULO335"),
    ("06EFTOBAKU1165", "06BAKU1165"), ("85NOFORNMOGADISHU1643", "85MOGADISHU1643"),
    ("09AMEMBASSYHANOI1284", "09HANOI1284"), ("07SOIA828", "07SOFIA828"), ("03SECTSTATE12", "03STATE12"),
    ("06PORT-OF-SPAIN123", "06PORTOFSPAIN123"), ("90STATE255577TOSEC140323", "90STATE255577"),
    ("07PAUP12", "07PORTAUPRINCE12"), (None, None),
]


@pytest.mark.parametrize("ref,expected", CANONICAL_CASES)
def test_canonical_id(ref: str | None, expected: str | None) -> None:
    assert _ids.canonical_id(ref) == expected


def test_plusd_id() -> None:
    assert _ids.plusd_id("07MOSCOW5349") == "07MOSCOW5349_a"
    assert _ids.plusd_id("1974ATHENS02959_b", "1974ATHENS02959_b") == "1974ATHENS02959_b"


ORIGIN_CASES = [
    ("AMEMBASSY MOSCOW", "Embassy Moscow"), ("AMEMBASSY BUENOS AIRES", "Embassy Buenos Aires"),
    ("AMEMBASSY THE HAGUE", "Embassy The Hague"), ("AMCONSUL JERUSALEM", "Consulate Jerusalem"),
    ("AMCONSUL SAO PAULO", "Consulate Sao Paulo"), ("SECSTATE WASHDC", "Secretary of State"),
    ("USMISSION USUN NEW YORK", "USUN New York"), ("USMISSION USNATO", "Mission USNATO"),
    ("USMISSION GENEVA", "Mission Geneva"), ("USINT HAVANA", "US Interests Section Havana"),
    ("USEU BRUSSELS", "USEU Brussels"), ("AIT TAIPEI", "American Institute Taiwan, Taipei"),
    ("USMISSION UNVIE VIENNA", "UNVIE"), ("AMEMBASSY PORT-AU-PRINCE", "Embassy Port-Au-Prince"), (None, None),
]


@pytest.mark.parametrize("fm,expected", ORIGIN_CASES)
def test_origin_name(fm: str | None, expected: str | None) -> None:
    assert _ids.origin_name(fm) == expected


def test_origin_name_prefers_metadata() -> None:
    row = parse(Rec(header="FM AMEMBASSY RIO DE JANEIRO\n", body="UNCLAS RIO DE JANEIRO 000001\n",
                    meta={"origin": "Consulate Rio De Janeiro"}))
    assert (row["origin"], row["origin_name"]) == ("AMEMBASSY RIO DE JANEIRO", "Consulate Rio De Janeiro")


# ---------------------------------------------------------------- flags and peer bugs end to end
CABLE = """VZCZCXRO2940
OO RUEHDBU
DE RUEHMO #{serial} 3131341
ZNY {word} ZZH
O 091341Z NOV {yy}
FM AMEMBASSY MOSCOW
TO RUEHC/SECSTATE WASHDC IMMEDIATE 5172
{banner} MOSCOW 005349

SIPDIS

E.O. 12958: DECL: {decl}
TAGS: PGOV, KPKO UN SU RS
SUBJECT: TEST

1. ({mark}) Text.
"""


def _cable(**kw: str) -> dict[str, Any]:
    values = {"serial": "5349", "word": "CCCCC", "yy": "07", "banner": "C O N F I D E N T I A L",
              "decl": "11/09/2017", "mark": "C"}
    values.update(kw)
    return parse_text(CABLE.format(**values))


FLAG_CASES = [
    ({}, {"flag_classification_mismatch": False, "flag_id_year_mismatch": False, "flag_serial_mismatch": False,
          "flag_decl_before_dtg": False, "flag_decl_over_25y": False}),
    ({"word": "SSSSS"}, {"flag_classification_mismatch": True}),
    ({"mark": "S"}, {"flag_classification_mismatch": True}),
    ({"serial": "5350"}, {"flag_serial_mismatch": True}),
    ({"decl": "11/01/2007"}, {"flag_decl_before_dtg": True}),
    ({"decl": "11/09/2054"}, {"flag_decl_over_25y": True}),
    ({"decl": "N/A"}, {"flag_decl_before_dtg": None, "flag_decl_over_25y": None}),
]


@pytest.mark.parametrize("kw,expected", FLAG_CASES)
def test_flags(kw: dict[str, str], expected: dict[str, Any]) -> None:
    row = _cable(**kw)
    assert {k: row[k] for k in expected} == expected


def test_id_year_mismatch_against_published_id() -> None:
    row = parse(Rec(header="O 091341Z NOV 07\n", body="CONFIDENTIAL MOSCOW 005349\n",
                    meta={"reference_id": "08MOSCOW5349"}))
    assert row["flag_id_year_mismatch"] is True


PEER_BUG_CASES = [
    # DECL 2-digit year: the peer always adds 2000
    ({"decl": "12/31/98", "yy": "88"}, "decl_date", date(1998, 12, 31)),
    # impossible calendar date: the peer returns 2019-13-45
    ({"decl": "13/45/2019"}, "decl_date", None),
    ({"decl": "OADR"}, "decl_kind", "oadr"),
    ({"decl": "25X1-HUMAN"}, "decl_kind", "25x"),
    ({"decl": "TWENTY YEARS"}, "decl_kind", "duration"),
    # mixed TAGS separators: the peer gives ['PGOV', 'KPKO UN SU', 'RS']
    ({}, "tags", ["PGOV", "KPKO", "UN", "SU", "RS"]),
]


@pytest.mark.parametrize("kw,field,expected", PEER_BUG_CASES)
def test_peer_bugs(kw: dict[str, str], field: str, expected: Any) -> None:
    assert _cable(**kw)[field] == expected


def test_impossible_decl_is_reported() -> None:
    assert any("impossible date" in p for p in _cable(decl="13/45/2019")["_problems"])


def test_created_is_not_released() -> None:
    # the peer takes the Released column of cablegate pages as `created`
    row = parse(Rec(header="", body="CONFIDENTIAL ASTANA 000095\n",
                    meta={"created": "2009-01-20 05:05", "released": "2010-12-02 21:09", "created_precision": "hour"}))
    assert row["sent_at"] == datetime(2009, 1, 20, 5, 0, tzinfo=UTC)
    assert row["reference_id"] == "09ASTANA95"


def test_classified_by_without_normalize_bug() -> None:
    # the peer's normalize=False always returns []
    assert _cable()["classified_by_name"] is None
    row = parse_text(CABLE.format(serial="5349", word="CCCCC", yy="07", banner="CONFIDENTIAL", decl="11/09/2017",
                                  mark="C").replace("1. (C) Text.", "Classified By: Ambassador William J. Burns: "
                                                                    "1.4 (b, d).\n\n1. (C) Text."))
    assert row["classified_by_name"] == "William J. Burns"


def test_partial_record() -> None:
    row = parse(Rec(header="This record is a partial extract of the original cable.\n\nPAGE 01 HARARE 05461 01 OF 02 "
                           "271458Z\nACTION AF-00\n", body="C O N F I D E N T I A L SECTION 01 OF 02 HARARE 005461\n",
                    meta={"partial": "1"}))
    assert row["is_partial"] is True
    assert row["to_addressees"] == []


def test_squashed_page_subject_ref_and_glued_paragraph_marks() -> None:
    """Pages whose line breaks were lost: ``SUBJECT: X  REF: A. ...`` on one line and ``1.(C)`` paragraphs."""
    from etl.parse import parse_text

    text = (
        "C O N F I D E N T I A L SECTION 01 OF 04 BERN 000141\n\nE.O. 12958: DECL: 01/20/2016\n"
        "TAGS: PTER SZ\nSUBJECT: SWISS OVERVIEW - SCENESETTER  REF: A. BERN 100  B. 2005 BERN 1865\n\n"
        "1.(C) Summary: first.\n\n2.(S/NF) Second paragraph.\n"
    )
    row = parse_text(text, {"created": "2006-01-20 16:00", "created_precision": "hour"})
    assert row["subject"] == "SWISS OVERVIEW - SCENESETTER"
    assert [r["reference_id"] for r in row["references"]] == ["06BERN100", "05BERN1865"]
    assert [(p["number"], p["portion_mark"]) for p in row["paragraphs"]] == [(1, "C"), (2, "S/NF")]
