"""Hard cases per field (dateutil style): each row is (input, expected, why). The "why" names the convention or
the kind of real cable that shows the case. The rows are our own examples of each class, written for the
rules in etl/parse (held-out material has more of each class): they must hold for the class, not the row."""

from __future__ import annotations

from typing import Any

import pytest

from etl.parse import _classif, _ids, _paras, _refs, _tags, parse_text
from etl.parse._classified import osa_distance
from etl.parse._header import addressees


def _rows(table: list[tuple[Any, ...]]) -> list[Any]:
    return [pytest.param(*row[:-1], id=row[-1]) for row in table]


# ---------------------------------------------------------------- Classified By: the name, not the title
CLASSIFIED_BY_NAME = [
    ("Classified By: Ambasador Teresa M. Okafor for reasons 1.4 (b) and (d).", "Teresa M. Okafor",
     "misspelt title (a letter dropped) is still a title"),
    ("Classified By: Ambassdaor Teresa M. Okafor, reasons 1.4 (b,d)", "Teresa M. Okafor",
     "misspelt title (two letters swapped): edit distance with transpositions"),
    ("CLASSIFIED BY: AMBASSAD0R KEITH D. ORLOV. REAS0N: 1.5 (B) AND (D).", "KEITH D. ORLOV",
     "1990s OCR: zero for O in the title"),
    ("Classified By: Charge d'Affaires, a.i., Lena P. Sorensen; reasons 1.4 (b) and (d)", "Lena P. Sorensen",
     "Charge d'Affaires a.i. between commas"),
    ("Classified By: Charge d' Afaires Victor Halloran for reasons 1.4 (b), (d)", "Victor Halloran",
     "split and misspelt d'Affaires"),
    ("Classified By: Acting Deputy Chief of Mission Rosa Delgado-Reyes for Reasons 1.4 (b) and (d)",
     "Rosa Delgado-Reyes", "long title; hyphenated surname"),
    ("Classified By: Political Counselor Ian W. Forsythe, reasons 1.4 (b/d)", "Ian W. Forsythe",
     "title of two title words"),
    ("Classified By: Acting Pol/Econ Chief Nadia Sabri for reasons 1.4 (b) and (d)", "Nadia Sabri",
     "office abbreviation with a slash"),
    ("Classified By: PolMinCouns Derek Lindqvist, reasons 1.4 (b) and (d)", "Derek Lindqvist",
     "camel-case office abbreviation"),
    ("Classified By: ARSO Paul Kettering for reason 1.4 (c)", "Paul Kettering",
     "an office acronym before a mixed-case name"),
    ("Classified By: DEFENSE ATTACHE COL MARTIN J. OYELARAN FOR REASONS 1.4 (B) AND (D)", "MARTIN J. OYELARAN",
     "a military rank is a title word"),
    ("Classified By: Regional Refugee Coordinator Anne-Marie Castellanos for reasons 1.4 (b)",
     "Anne-Marie Castellanos", "a title not in any list ends at a known title word"),
    ("Classified By: Pol/Econ Officer Sarah Beth Whitlow for reasons 1.4 (b) and (d)", "Sarah Beth Whitlow",
     "two given names right after the title"),
    ("Classified By: DCM F. Howard Pellegrino for reasons 1.4 (b) and (d)", "F. Howard Pellegrino",
     "a leading initial"),
    ("CLASSIFIED BY AMBASSADOR TO ERITREA LOUISE HARTIGAN. REASON 1.5 (D).", "LOUISE HARTIGAN",
     "AMBASSADOR TO <country>: the country is not a given name"),
    ("Classified By: Deputy Assistant Secretary for South Asia Omar J. Whitfield, reasons 1.4 (b)",
     "Omar J. Whitfield", "a region after FOR is not a given name"),
    ("Classified By: Acting E/P Counsellor:Grant Ebersole, reasons 1.4 (b and d)", "Grant Ebersole",
     "a colon glued between title and name"),
    ("Classified By: Acting DCM/Ruth Abernathy for reasons 1.4 (b)", "Ruth Abernathy",
     "a slash glued between title and name"),
    ("Classified By: AMB:JKOWALCZYK, Reasons 1.4 (b) and (c)", "JKOWALCZYK",
     "login-style name after AMB:"),
    ("CLASSIFIED BY: HENRY T. ABERNATHY, JR., CONSUL GENERAL. REASON: 1.5 (D).", "HENRY T. ABERNATHY, JR.",
     "a suffix in its own comma field"),
    ("Classified By: Ambassador Lloyd R. Tennant III for reasons 1.4 (b) and (d)", "Lloyd R. Tennant III",
     "a roman-numeral suffix"),
    ("CLASSIFIED BY: Rasmussen, Ingrid, Charge d'Affaires, State, EXEC; REASON: 1.4(B), (D)", "Rasmussen, Ingrid",
     "2009-10 SMART line: surname, given name, title"),
    ("CLASSIFIED BY: Dmitri Volkov, Ambassador, U.S. Embassy, Dept of State. REASON: 1.4 (b), (d)", "Dmitri Volkov",
     "name first, then the title"),
    ("Classified By: PolOff Marianne Dubois (acting) for reasons 1.4 (b)", "Marianne Dubois",
     "a parenthetical after the name"),
    ("Classified By: Econ Counselor Claire van der Berg, reasons 1.4 (b) and (d)", "Claire van der Berg",
     "a lower-case particle inside the surname"),
    ("Classified By: Economic Counselor Harold Winslow based on E.O. 12958 reasons 1.4 (b)", "Harold Winslow",
     "'based on' before the reasons"),
    ("Classified By: Pol Chief Dana Whitcomb under 1.4 b and d", "Dana Whitcomb", "'under 1.4' without a reason word"),
    ("Classified By: CDA Owen Mercer due to 1,4 (c) and (d)", "Owen Mercer", "'due to' and a comma typed for the dot"),
    ("Classified By: Acting Ambassador Beatrix Lund.  Re asons 1.4 (b/d)", "Beatrix Lund",
     "a reason word broken by the wrap after the sentence's end"),
    ("Classified By: Political Minister Counselor Gregory Ashdown-Pryce for re \nasons 1.4 (b/d) ",
     "Gregory Ashdown-Pryce", "the publisher's 71-column re-wrap breaking 'reasons'"),
    ("Classified By: Interagency Provincial Affairs Deputy Director Kyle Boon \nstra for reasons 1.4 (b) and (d) ",
     "Kyle Boonstra", "the 71-column re-wrap breaking the surname (no space opens the next line)"),
    ("Classified By: Political and Economic Counselor Catherine Hollingsworth \nfor reasons 1.4 (b) and (d).",
     "Catherine Hollingsworth", "a short line: a break between words is not joined"),
    ("Classified By: Deputy Political Counselor Adam R. Leader, reasons 1.4 (b)", "Adam R. Leader",
     "a surname that is also a title word, after an initial"),
    ("CLASSIFIED BY: DOS CLASSIFICATION GUIDE BY ELENA MARCHETTI", "ELENA MARCHETTI",
     "a classification guide, then the classifier"),
    ("E.O. 12958 AS AMENDED; DECLASSIFIED BY NARA 09/02/2009", None,
     "DECLASSIFIED BY is not a Classified By line"),
]


@pytest.mark.parametrize("text,name", _rows(CLASSIFIED_BY_NAME))
def test_classified_by_name(text: str, name: str | None) -> None:
    assert _paras.classified_by(text)[0] == name


CLASSIFIED_BY_REASONS = [
    ("Classified By: Pol Chief Dana Whitcomb under 1.4 b and d", ("1.4", ["b", "d"]), "'under 1.4'"),
    ("Classified By: Acting Ambassador Beatrix Lund.  Re asons 1.4 (b/d)", ("1.4", ["b", "d"]), "'Re asons'"),
    ("Classified By: Ambassador Ruth Ng for reaons 1.4 (b) and (d)", ("1.4", ["b", "d"]), "'reaons' misspelt"),
    ("CLASSIFIED BY DCM SEAN O'ROURKE PER 1.5 (B) AND (D)", ("1.5", ["b", "d"]), "'per 1.5'"),
    ("Classified By: CDA Owen Mercer due to 1,4 (c) and (d)", ("1.4", ["c", "d"]), "1,4 typed for 1.4"),
    ("Classified By: Ambassador Ruth Ng for reasons 1. \n4 (b) and (d)", ("1.4", ["b", "d"]),
     "section number wrapped after the dot"),
]


@pytest.mark.parametrize("text,expected", _rows(CLASSIFIED_BY_REASONS))
def test_classified_by_reasons(text: str, expected: tuple[str, list[str]]) -> None:
    _, _, section, letters = _paras.classified_by(text)
    assert (section, letters) == expected


TITLE_NEAR_MISS = [
    ("AMBASSAOR", "AMBASSADOR", 1, "one letter dropped"), ("DIRECOTR", "DIRECTOR", 1, "two letters swapped"),
    ("COUNSLEOR", "COUNSELOR", 1, "two letters swapped"), ("AMBASSSADOR", "AMBASSADOR", 1, "a letter doubled"),
    ("KETTERING", "COUNSELOR", 3, "a surname is far from every title (capped at the limit)"),
]


@pytest.mark.parametrize("a,b,distance", _rows(TITLE_NEAR_MISS))
def test_title_edit_distance(a: str, b: str, distance: int) -> None:
    assert osa_distance(a, b) == distance


# ---------------------------------------------------------------- REF
def _refs_of(body_head: str, year: int) -> list[str | None]:
    row = parse_text(f"R 011200Z JAN {year % 100:02d}\nFM AMEMBASSY NOWHERE\n"
                     f"CONFIDENTIAL NOWHERE 000001\n\nE.O. 12958: N/A\nTAGS: PREL\n{body_head}\n\n1. (C) Text.\n")
    return [r["reference_id"] for r in row["references"] if r["kind"] == "cable"]


REF_BLOCKS = [
    ("SUBJECT: TALKS ON THE NEW AIR SERVICES TREATYREF: A. OSLO 412  B. OSLO 388", 2007,
     ["07OSLO412", "07OSLO388"], "REF glued to the subject's last word (the page lost the line break)"),
    ("SUBJECT: Minister visits the northern provinces Ref(s): A) 08 RIO DE JAN 221; B) 08 RIO DE JAN 0097", 2008,
     ["08RIODEJANEIRO221", "08RIODEJANEIRO97"], "Ref(s): in mixed case inside the subject line"),
    ("SUBJECT: X\n\nREF: (A) Recife 114;\n(B) Recife 98;\n(C) 07 Recife 301", 2008,
     ["08RECIFE114", "08RECIFE98", "07RECIFE301"], "(B)/(C) items are REF items, not portion-marked paragraphs"),
    ("SUBJECT: X\n\nREF A MANILA 1503 B MANILA 1499 C STATE 40210", 2006,
     ["06MANILA1503", "06MANILA1499", "06STATE40210"], "bare bullet letters: not part of the station"),
    ("SUBJECT: X\n\nREF: LIMA 3012-95", 1996, ["95LIMA3012"], "a year written after the serial"),
    ("SUBJECT: X\n\nREF: ANKARA #1277", 2007, ["07ANKARA1277"], "a number sign before the serial"),
    ("SUBJECT: X\n\nREFS: Dhaka 512/498", 2009, ["09DHAKA512", "09DHAKA498"], "two serials joined by a slash"),
    ("SUBJECT: X\n\nREF: A. SECSTATE 88123 B. 06 USUN 1210", 2007, ["07STATE88123", "06USUNNEWYORK1210"],
     "originator names canonicalised"),
    ("SUBJECT: X\n\nREF: KYIV 2210 AND PREVIOUS 1. (C) RUN-ON PARAGRAPH 2211", 2008, ["08KYIV2210"],
     "a run-on paragraph 1 ends the REF block"),
    ("SUBJECT: X\n\nREF: A) PRETORIA 77 B) SMITH-JONES EMAIL 04/02/08", 2008, ["08PRETORIA77"],
     "an e-mail reference is not a cable; its date is not a serial"),
]


@pytest.mark.parametrize("head,year,expected", _rows(REF_BLOCKS))
def test_references(head: str, year: int, expected: list[str]) -> None:
    assert _refs_of(head, year) == expected


def test_ref_letters_follow_the_bullets() -> None:
    refs = _refs.parse_references("REF A MANILA 1503 B MANILA 1499", 2006)
    assert [(r["letter"], r["reference_id"]) for r in refs] == [("A", "06MANILA1503"), ("B", "06MANILA1499")]


# ---------------------------------------------------------------- TAGS
def _tags_of(line: str) -> list[str]:
    row = parse_text(f"CONFIDENTIAL\n\nE.O. 12958: DECL: 01/01/2019\n{line}\nSUBJECT: X\n\n1. (C) Text.\n")
    return list(row["tags"])


TAGS_LINES = [
    ("TAG PREL, PGOV, KDEM, NI", ["PREL", "PGOV", "KDEM", "NI"], "TAG without S or colon"),
    ("TAGS; ECON, EFIN, GM", ["ECON", "EFIN", "GM"], "semicolon after TAGS"),
    ("TAGS, SNAR, KCRM, MX", ["SNAR", "KCRM", "MX"], "comma after TAGS"),
    ("TAGES: ENRG, EPET, RS", ["ENRG", "EPET", "RS"], "TAGES misspelt"),
    ("tags: prel, pgov, tu", ["PREL", "PGOV", "TU"], "lower-case line"),
    ("TAGS PREL, PTER, IS, COUNTERTERRORISM, GOI INTERNAL", ["PREL", "PTER", "IS", "COUNTERTERRORISM", "GOI INTERNAL"],
     "a topic word then a two-word topic: not SURNAME, GIVEN NAMES"),
    ("TAGS PHUM, KJUS, SP, SPPHUM, SPPHUM, SPPHUM", ["PHUM", "KJUS", "SP"],
     "repeated glued codes are split and deduplicated, never merged as a name"),
    ("TAGS: PREL, PGOV, OVIP, KERRY, JOHN, US", ["PREL", "PGOV", "OVIP", "KERRY, JOHN", "US"],
     "an unbracketed person tag SURNAME, GIVEN"),
    ("TAGS: OVIP (GATES, ROBERT M.), PREL, MARR", ["OVIP", "GATES, ROBERT M.", "PREL", "MARR"],
     "a bracketed person tag keeps the initial's period"),
    ("TAGS: PREL, PGOV, \nCONFIDENTIAL\n\nPAGE 02        RABAT  00412  01 OF 02  121212Z\nPINR, MO",
     ["PREL", "PGOV", "PINR", "MO"], "a teletype page break inside a wrapped TAGS line"),
    ("TAGS: PREL PGOV KPAL PAGE 02 STATE 041212 182333Z", ["PREL", "PGOV", "KPAL"],
     "page-break text run into the TAGS line"),
]


@pytest.mark.parametrize("line,tags", _rows(TAGS_LINES))
def test_tags(line: str, tags: list[str]) -> None:
    assert _tags_of(line) == tags


def test_corrected_copy_line_is_not_tags() -> None:
    """``ADDED E.O., TAGS, AND CLASS BY`` in a CORRECTED COPY note: TAGS followed by a comma counts only at a line
    start."""
    row = parse_text("CONFIDENTIAL\n\nC O R R E C T E D COPY -- ADDED E.O., TAGS, AND CLASS BY\n\n"
                     "E.O. 12958: DECL: 01/01/2019\nTAGS: PREL GG\nSUBJECT: X\n\n1. (C) Text.\n")
    assert row["tags"] == ["PREL", "GG"]


def test_split_tags_surname_rule_needs_same_line() -> None:
    assert _tags.split_tags("SOMETHING,\nELSE") == ["SOMETHING", "ELSE"]


# ---------------------------------------------------------------- ids
CANONICAL_IDS = [
    ("07SETION02OF02BAKU1501", "07BAKU1501", "section marker glued in, SECTION misspelt"),
    ("09ECTION01OF03LIMA220", "09LIMA220", "section marker glued in, first letter lost"),
    ("08SECTON3OF4CAIRO77", "08CAIRO77", "one-digit section numbers"),
    ("06MADRID002583ZFR2585", "06MADRID2583", "a duplicate marker and zero-padded serial"),
    ("05ROME004411ZDK", "05ROME4411", "an operating signal after the serial"),
    ("90STATE255577TOSEC140323", "90STATE255577", "a TOSEC number after the serial"),
    ("09EFTOLONDON2239", "09LONDON2239", "the EFTO caveat glued before the station"),
    ("07NAIRBOI1203", "07NAIROBI1203", "a misspelt station (two letters swapped)"),
    ("05COPENHAGN88", "05COPENHAGEN88", "a misspelt station (a letter dropped)"),
    ("08ULAANBAATARR45", "08ULAANBAATAR45", "a misspelt station (a letter doubled)"),
    ("06ADDISABAB310", "06ADDISABABA310", "a station cut short (one station starts so)"),
    ("04EMBASSYSKOPJE77", "04SKOPJE77", "a mission word before the station"),
    ("03ROMEIT901", "03ROME901", "a country code after the station"),
    ("09HCMC455", "09HOCHIMINHCITY455", "a post's abbreviation"),
    ("02PORT-OF-SPAIN1009", "02PORTOFSPAIN1009", "hyphens of a multi-word station"),
    ("08ZZTOPVILLE12", "08ZZTOPVILLE12", "an unknown station not near any known one is kept"),
]


@pytest.mark.parametrize("ref,canonical", _rows(CANONICAL_IDS))
def test_canonical_id(ref: str, canonical: str) -> None:
    assert _ids.canonical_id(ref) == canonical


ROUTING_IDS = [
    ((None, "AMEMBASSY TEL AVIV", "4032", 2006), "06TELAVIV4032", "no banner serial: DE serial + FM post"),
    (("TRIPOLI", None, "0133", 2010), "10TRIPOLI133", "banner post without serial + DE serial"),
    ((None, "USMISSION USUN NEW YORK", "0712", 2008), "08USUNNEWYORK712", "mission prefix dropped"),
    ((None, "SECSTATE WASHDC", "9854", 2009), None, "STATE serials pass 9999; the DE line keeps four digits"),
]


@pytest.mark.parametrize("args,expected", _rows(ROUTING_IDS))
def test_id_from_routing(args: tuple[Any, ...], expected: str | None) -> None:
    assert _ids.id_from_routing(*args) == expected


# ---------------------------------------------------------------- summary
SUMMARIES = [
    ("Classified By: DCM Ann Lee for reasons 1.4 (b)\n\n1. (C) The minister agreed to the visit. END SUMMARY.\n\n"
     "2. (C) Details.", "The minister agreed to the visit", "END SUMMARY. with no opening SUMMARY"),
    ("Classified By: DCM Ann Lee for reasons 1.4 (b)\n\n1. (C) First point.\n\n2. (C) Second point. End summary."
     "\n\n3. (C) Rest.", "First point. Second point", "no opening: from paragraph 1 to the marker"),
    ("1. (S) SUMMARY: Parliament passed the budget. END\nSUMMARY.\n\n2. (S) More.", "Parliament passed the budget",
     "the end marker split over two lines"),
    ("1. Parliament passed the budget\nafter a long debate. End\nSummary.\n\nBACKGROUND\n",
     "Parliament passed the budget after a long debate", "split end marker, no opening"),
    ("1. (C) Summary and Comment: The strike ended. End Summary and Comment.\n", "The strike ended",
     "the heading's words repeated in the end marker"),
]


@pytest.mark.parametrize("body,expected", _rows(SUMMARIES))
def test_summary(body: str, expected: str) -> None:
    assert _paras.summary(body) == expected


# ---------------------------------------------------------------- signature and addressees
SIGNATURES = [
    ("THE TALKS WILL RESUME IN MAY.\n\nHOLBRIDGE##\n", "HOLBRIDGE", "end-of-text marks glued to the signer"),
    ("END COMMENT.\n\nWHITAKER\n\nNOTE BY OC/T:  HEADING AS RECEIVED.  CORRECTION TO FOLLOW.\n", "WHITAKER",
     "the communications center's note after the signer"),
    ("SUPPORT THE PROPOSAL.\n\nDUVALL.\n", "DUVALL", "a period after the signer"),
    ("WE CONCUR.\nMARLOWE\n        CONFIDENTIAL\n\nPAGE 03        LAGOS  01569  03 OF 03  071629Z\n\nNNNN\n",
     "MARLOWE", "page break lines and the trailer after the signer"),
    ("PLEASE CABLE CONCURRENCE. THE EMBASSY APPRECIATES TRINIDAD'S\nASSISTANCE.", None,
     "a sentence's last word wrapped onto its own line is not a signer"),
]


@pytest.mark.parametrize("body,expected", _rows(SIGNATURES))
def test_signature(body: str, expected: str | None) -> None:
    assert _paras.signature(body) == expected


def test_page_break_after_to_is_not_an_addressee() -> None:
    to, _ = addressees("P 182318Z FEB 09\nFM SECSTATE WASHDC\nTO PAGE 02        STATE   041212  182333Z \n"
                       "ALL AFRICAN DIPLOMATIC POSTS COLLECTIVE PRIORITY\nAMEMBASSY NIAMEY PRIORITY")
    assert [(a["address"], a["precedence"]) for a in to] == [
        ("ALL AFRICAN DIPLOMATIC POSTS COLLECTIVE", "PRIORITY"), ("AMEMBASSY NIAMEY", "PRIORITY")]


# ---------------------------------------------------------------- the publisher's classification and names
CAVEATS = [
    ("CONFIDENTIAL", "C O N F I D E N T I A L OSLO 000255NOFORNSIPDIS\nE.O. 12958: DECL: 1/1/2019\n",
     "CONFIDENTIAL//NOFORN", "NOFORN glued to the banner line"),
    ("SECRET", "S E C R E T RABAT 000120\n\nSIPDIS\nNOFORN\n\nE.O. 12958: DECL: 1/1/2019\n", "SECRET//NOFORN",
     "NOFORN on a caveat line"),
    ("SECRET", "S E C R E T RABAT 000120\n\nSIPDIS\n\nE.O. 12958: DECL: 1/1/2019\nSUBJECT: X\n\n1. (S/NF) Text.\n",
     "SECRET", "NF portion marks alone do not make the publisher's NOFORN"),
    ("UNCLASSIFIED", "UNCLAS QUITO 000412\n\nSENSITIVE SIPDIS\n\nE.O. 12958: N/A\n",
     "UNCLASSIFIED//FOR OFFICIAL USE ONLY", "SENSITIVE caption -> FOUO"),
    ("UNCLASSIFIED", "UNCLAS QUITO 000412\n\nSIPDIS\nSENSITIVE BUT UNCLASSIFIED\n\nE.O. 12958: N/A\n",
     "UNCLASSIFIED", "SENSITIVE BUT UNCLASSIFIED is a plain UNCLASSIFIED cable"),
    ("CONFIDENTIAL", "C O N F I D E N T I A L LIMA 000077\n\nSIPDIS\n\nE.O. 12958: DECL: 1/1/2019\n"
     "SUBJECT: TALKS ON THE NOFORN RULES\n", "CONFIDENTIAL", "NOFORN in the subject is not a caveat line"),
]


@pytest.mark.parametrize("level,text,expected", _rows(CAVEATS))
def test_classification_caveat(level: str, text: str, expected: str) -> None:
    assert _classif.with_caveat(level, text) == expected


def test_doubled_first_letter_banner() -> None:
    assert _classif.level_of("UUNCLAS MANAGUA 001002") == "UNCLASSIFIED"


ORIGIN_NAMES = [
    ("AMCONSUL RIO DE JANEIRO", "Consulate Rio De Janeiro", "the publisher capitalises particles"),
    ("AMEMBASSY DAR ES SALAAM", "Embassy Dar Es Salaam", "the publisher capitalises particles"),
    ("AMEMBASSY PORT OF SPAIN", "Embassy Port Of Spain", "the publisher capitalises particles"),
]


@pytest.mark.parametrize("fm,name", _rows(ORIGIN_NAMES))
def test_origin_name(fm: str, name: str) -> None:
    assert _ids.origin_name(fm) == name


def test_dtg_with_relay_comment() -> None:
    row = parse_text("O 091547Z OCT 09 (CCY ADC1AECC MSI3311-632)\nFM AMEMBASSY BERLIN\n\n"
                     "C O N F I D E N T I A L BERLIN 001273\n\n1. (C) Text.\n")
    assert (row["dtg"], row["reference_id"]) == ("091547Z OCT 09", "09BERLIN1273")
