"""Case tables per field (dateutil style): real variants from docs/cable-conventions.md."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from types import SimpleNamespace as Rec

import pytest

from etl.parse import _body, _classif, _decl, _dtg, _refs, _tags, _vocab, parse, parse_text, split_cable

# ---------------------------------------------------------------- DTG
DTG_CASES = [
    ("O 091341Z NOV 07", ("O", "091341Z NOV 07", datetime(2007, 11, 9, 13, 41, tzinfo=UTC))),
    ("R 250930Z FEB 72 ", ("R", "250930Z FEB 72", datetime(1972, 2, 25, 9, 30, tzinfo=UTC))),
    ("P 291359Z Nov 00", ("P", "291359Z Nov 00", datetime(2000, 11, 29, 13, 59, tzinfo=UTC))),
    ("O R 011405Z AUG 06", ("O R", "011405Z AUG 06", datetime(2006, 8, 1, 14, 5, tzinfo=UTC))),
    ("P R 311200Z DEC 99", ("P R", "311200Z DEC 99", datetime(1999, 12, 31, 12, 0, tzinfo=UTC))),
    ("R 010000Z JAN 66", ("R", "010000Z JAN 66", datetime(1966, 1, 1, 0, 0, tzinfo=UTC))),
    ("Z 101010Z JAN 10", ("Z", "101010Z JAN 10", datetime(2010, 1, 10, 10, 10, tzinfo=UTC))),
    # military zone letter: T = UTC-7
    ("R 091630T JUL 11", ("R", "091630T JUL 11", datetime(2011, 7, 9, 23, 30, tzinfo=UTC))),
    ("O 311341Z FEB 07", ("O", "311341Z FEB 07", None)),  # impossible day
    ("O 091341Z XYZ 07", ("O", "091341Z XYZ 07", None)),  # not a month
    ("P R 221828 Z MAY 73", ("P R", "221828 Z MAY 73", datetime(1973, 5, 22, 18, 28, tzinfo=UTC))),  # PlusD spacing
]


@pytest.mark.parametrize("line,expected", DTG_CASES)
def test_dtg_line(line: str, expected: tuple[str, str, datetime | None]) -> None:
    m = _dtg.DTG_LINE.search(line)
    assert m is not None
    got = (m["prec"], m["dtg"].strip(), _dtg.dtg_to_datetime(m["day"], m["hh"], m["mm"], m["zone"], m["mon"], m["yy"]))
    assert got == expected


NOT_DTG = ["FM AMEMBASSY MOSCOW", "DE RUEHMO #5349 3131341", "O 0913Z NOV 07", "TO RUEHC/SECSTATE WASHDC 5172"]


@pytest.mark.parametrize("line", NOT_DTG)
def test_not_dtg(line: str) -> None:
    assert _dtg.DTG_LINE.search(line) is None


CENTURY_CASES = [(66, 1966), (72, 1972), (99, 1999), (0, 2000), (7, 2007), (10, 2010)]


@pytest.mark.parametrize("yy,year", CENTURY_CASES)
def test_century(yy: int, year: int) -> None:
    assert _dtg.century(yy) == year


CREATED_CASES = [
    (("2007-11-09 13:41", "minute"), datetime(2007, 11, 9, 13, 41, tzinfo=UTC)),
    # cablegate HTML: minutes repeat the hour (12-hour clock) -> only the hour is kept
    (("2009-01-20 05:05", "hour"), datetime(2009, 1, 20, 5, 0, tzinfo=UTC)),
    (("11/9/2007 13:41", None), datetime(2007, 11, 9, 13, 41, tzinfo=UTC)),
    (("2007-02-30 10:00", None), None),
    (("yesterday", None), None),
]


@pytest.mark.parametrize("value,expected", CREATED_CASES)
def test_parse_created(value: tuple[str, str | None], expected: datetime | None) -> None:
    assert _dtg.parse_created(*value) == expected


# ---------------------------------------------------------------- classification
LEVEL_CASES = [
    ("NCLAS SECTION 01 OF 02 BRASILIA 001017", "UNCLASSIFIED"),  # the U lost (09BRASILIA1017)
    ("C O N F I D E N T I A L MOSCOW 005349", "CONFIDENTIAL"),
    ("CONFIDENTIAL MOSCOW 005349", "CONFIDENTIAL"),
    ("S E C R E T STATE 015113", "SECRET"),
    ("S e c r e t state 068250", "SECRET"),
    ("UNCLAS BOGOTA 001165", "UNCLASSIFIED"),
    ("UNCLAS E F T O SECTION 01 OF 02 ROME 000123", "UNCLASSIFIED"),
    ("UNCLASSIFIED", "UNCLASSIFIED"),
    ("LIMITED OFFICIAL USE LIMA 000456", "LIMITED OFFICIAL USE"),
    ("L I M I T E D OFFICIAL USE LIMA 000456", "LIMITED OFFICIAL USE"),
    ("TOP SECRET STATE 000001", "TOP SECRET"),
    ("SECRETARY RICE VISIT", None),
    ("SECSTATE WASHDC", None),
    ("", None),
]


@pytest.mark.parametrize("banner,level", LEVEL_CASES)
def test_level_of(banner: str, level: str | None) -> None:
    assert _classif.level_of(banner) == level


BANNER_CASES = [
    ("C O N F I D E N T I A L MOSCOW 005349\n", ("CONFIDENTIAL", None, "MOSCOW", "005349")),
    ("C O N F I D E N T I A L SECTION 01 OF 03 MOSCOW 005349 \n", ("CONFIDENTIAL", "01 OF 03", "MOSCOW", "005349")),
    ("UNCLAS SECTION 01 OF 04 SAN JOSE 000612 \n", ("UNCLASSIFIED", "01 OF 04", "SAN JOSE", "000612")),
    ("C O N F I D E N T I A L BUENOS AIRES 000123 SIPDIS\n", ("CONFIDENTIAL", None, "BUENOS AIRES", "000123")),
    ("S E C R E T SECTION 01 OF 05 ANKARA 008305S/CT FOR REAPE.O. 12958: DECL: 11/14/2012",
     ("SECRET", "01 OF 05", "ANKARA", "008305")),
    ("Cable dated:2005-05-23T14:26:00\nS E C R E T SECTION 01 OF 02 SANAA 001352SIPDIS",
     ("SECRET", "01 OF 02", "SANAA", "001352")),
    ("UNCLAS E F T O SECTION 02 OF 03 USUN NEW YORK 000987\n", ("UNCLASSIFIED", "02 OF 03", "USUN NEW YORK", "000987")),
]


@pytest.mark.parametrize("text,expected", BANNER_CASES)
def test_banner(text: str, expected: tuple[str, str | None, str | None, str | None]) -> None:
    b = _body.find_banner(text)
    assert b is not None
    assert (_classif.level_of(b.level_raw), b.section, b.post, b.serial) == expected


# ---------------------------------------------------------------- E.O. / DECL
EO_CASES = [
    ("E.O. 12958: DECL: 11/09/2017", ("12958", "11/09/2017", date(2017, 11, 9))),
    ("EO 12958 DECL: 2020/02/23", ("12958", "2020/02/23", date(2020, 2, 23))),
    ("E.o. 12958: decl: 6/3/08", ("12958", "6/3/08", date(2008, 6, 3))),
    ("E.O.12958: N/A", ("12958", "N/A", None)),
    ("E.O. 12958:  N/A ", ("12958", "N/A", None)),
    ("E.O. 12958: DECL:  4/4/2012 ", ("12958", "4/4/2012", date(2012, 4, 4))),
    ("E.O. 12958: DECL: 11/15/17", ("12958", "11/15/17", date(2017, 11, 15))),
    ("E.O. 12958: DECL: 01/04/2015 TAGS: PGOV", ("12958", "01/04/2015", date(2015, 1, 4))),
    ("E.O. 12958: DECL: 05/21/2015TAGS: PREL PGOV", ("12958", "05/21/2015", date(2015, 5, 21))),
    ("E.O. 12958: DECL: 12-29-13", ("12958", "12-29-13", date(2013, 12, 29))),
    ("E.O. 12958: DECL: TWENTY YEARS", ("12958", "TWENTY YEARS", None)),
    ("E.O. 12356: DECL: OADR", ("12356", "OADR", None)),
    ("E.O. 12958: DECL: 25X1-HUMAN", ("12958", "25X1-HUMAN", None)),
    ("E.O. 12958: DNG: CO 01/26/2021", ("12958", "DNG: CO 01/26/2021", date(2021, 1, 26))),
    ("E.O. 11652: GDS", ("11652", "GDS", None)),
    ("E.O. 12958: DECL: 13/45/2019", ("12958", "13/45/2019", None)),
    ("E.0. 12958: DECL: 03/05/11", ("12958", "03/05/11", date(2011, 3, 5))),  # zero typed for O (01VATICAN1261)
]


@pytest.mark.parametrize("line,expected", EO_CASES)
def test_eo_line(line: str, expected: tuple[str, str, date | None]) -> None:
    num, rest = _decl.eo_parts(line)
    raw = _decl.decl_value(rest)
    _kind, d, _problem = _decl.classify_decl(raw, 2007)
    assert (num, raw, d) == expected


# The peer (cablemap) always adds 2000 to a 2-digit year and never range-checks.
DECL_DATE_CASES = [
    (("12/31/98", 1988), date(1998, 12, 31)),
    (("12/31/98", None), date(1998, 12, 31)),
    (("11/15/17", 2007), date(2017, 11, 15)),
    (("6/3/08", 1998), date(2008, 6, 3)),
    (("1/1/05", 1995), date(2005, 1, 1)),
    (("02/29/2012", 2002), date(2012, 2, 29)),
    (("02/29/2011", 2001), None),
    (("13/45/2019", 2009), None),
    (("00/00/2010", 2000), None),
]


@pytest.mark.parametrize("value,expected", DECL_DATE_CASES)
def test_decl_date(value: tuple[str, int | None], expected: date | None) -> None:
    kind, d, problem = _decl.classify_decl(*value)
    assert kind == "date"
    assert d == expected
    assert (problem is not None) == (expected is None)


DECL_KIND_CASES = [
    ("11/09/2017", "date"), ("N/A", "n/a"), ("n/a", "n/a"), ("OADR", "oadr"), ("X1", "x1-x8"), ("X6", "x1-x8"),
    ("25X1", "25x"), ("25X1-HUMAN", "25x"), ("GDS", "gds"), ("XGDS-2", "gds"), ("TWENTY YEARS", "duration"),
    ("TEN YEARS AFTER KOREAN UNIFICATION", "duration"), ("DNG: CO 01/26/2021", "downgrade"),
    ("DECLASSIFIED BY NARA 09/02/2009", "text"), ("FIVE YEARS AFTER ICTY CLOSURE", "duration"),
    ("SEE BELOW", "text"), ("", "none"), (None, "none"),
]


@pytest.mark.parametrize("value,kind", DECL_KIND_CASES)
def test_decl_kind(value: str | None, kind: str) -> None:
    assert _decl.classify_decl(value, 2007)[0] == kind


# ---------------------------------------------------------------- TAGS
TAGS_CASES = [
    ("PGOV KPKO UN SU RS", ["PGOV", "KPKO", "UN", "SU", "RS"]),
    ("PGOV, KPKO UN SU RS", ["PGOV", "KPKO", "UN", "SU", "RS"]),  # the peer gives 3
    ("PREL, PGOV, PHUM, IZ", ["PREL", "PGOV", "PHUM", "IZ"]),
    ("PREL,PGOV,IZ", ["PREL", "PGOV", "IZ"]),
    ("PHUM, OPRC, OPRC, OPRC", ["PHUM", "OPRC"]),
    ("PREL PGOV SIPDIS", ["PREL", "PGOV"]),
    ("OVIP (CLINTON, HILLARY) PREL", ["OVIP", "CLINTON, HILLARY", "PREL"]),
    ("pgov prel", ["PGOV", "PREL"]),
    ("  PTER ;  TU.", ["PTER", "TU"]),
    ("", []),
    # comma-separated phrases of non-code words are one topic tag (New Delhi's house style)
    ("PREL, PGOV, INDIAN DOMESTIC POLITICS, IN", ["PREL", "PGOV", "INDIAN DOMESTIC POLITICS", "IN"]),
    ("GOI EXTERNAL, PREL", ["GOI EXTERNAL", "PREL"]),
    ("prel, pgov, pins, tu", ["PREL", "PGOV", "PINS", "TU"]),
    # an unbracketed person tag SURNAME, GIVEN NAMES
    # (the initial keeps its period, as written and as in the parenthesised form ``(STEINBERG, JAMES B.)``)
    ("PREL, STEINBERG, JAMES B., CH", ["PREL", "STEINBERG, JAMES B.", "CH"]),
]


TAGS_LINE_CASES = [
    # wrapped without a trailing comma: the next line holds only codes (09ALGIERS1077, 06NEWDELHI5237)
    ("TAGS: PREL PGOV PTER PBTS KPAL KWBG US IR IZ IS\nAF, XA \nSUBJECT: X", ["PREL", "PGOV", "PTER", "PBTS", "KPAL",
                                                                            "KWBG", "US", "IR", "IZ", "IS", "AF", "XA"]),
    ("TAGS: KACT PREF\nPREL, IN, IR \nSUBJECT: GOI", ["KACT", "PREF", "PREL", "IN", "IR"]),
    ("TAGS: PREL, PGOV,\nRS\n\nSUBJECT: X", ["PREL", "PGOV", "RS"]),
    ("TAGS: PREL PGOV\nSIPDIS\nSUBJECT: X", ["PREL", "PGOV"]),
    ("TAGS: PREL PGOV\nTHE MINISTER SAID\n", ["PREL", "PGOV"]),
    ("TAGS: PREL\n\nUK\n", ["PREL"]),
    # a PDF text layer: one tag a line, blank lines between (00ABUDHABI5893.pdf)
    ("TAGS: \nPREL\n \nXF\n \nTC\nSUBJECT:  SULTAN", ["PREL", "XF", "TC"]),
]


@pytest.mark.parametrize("top,tags", TAGS_LINE_CASES)
def test_tags_line(top: str, tags: list[str]) -> None:
    assert _tags.split_tags(_body.find_tags(top) or "") == tags


@pytest.mark.parametrize("raw,tags", TAGS_CASES)
def test_split_tags(raw: str, tags: list[str]) -> None:
    assert _tags.split_tags(raw) == tags


# TAGS kinds and fixes: each tag's kind, run-together tags split, misspelt ones mended.
TAG_FIX_CASES = [
    (["VTPREL"], [("VT", "geographic"), ("PREL", "subject")]),
    (["ECONEFIN"], [("ECON", "subject"), ("EFIN", "subject")]),
    (["IZPREL"], [("IZ", "geographic"), ("PREL", "subject")]),
    (["POGOV"], [("PGOV", "subject")]),
    (["MASSMNUC"], [("MASS", "subject"), ("MNUC", "subject")]),
    (["KPKO", "UN", "SU", "RS"], [("KPKO", "program"), ("UN", "organization"), ("SU", "geographic"),
                                  ("RS", "geographic")]),
    (["GM", "SP", "IZ", "CH", "KS", "UK", "IS"], [(t, "geographic") for t in ("GM", "SP", "IZ", "CH", "KS", "UK", "IS")]),
    (["NATO", "IAEA", "EUN", "ZANU-PF"], [(t, "organization") for t in ("NATO", "IAEA", "EUN", "ZANU-PF")]),
    (["CLINTON, HILLARY"], [("CLINTON, HILLARY", "person")]),
    (["ECIN"], [("ECIN", "subject")]),  # a real subject tag, never split into EC + IN
]


@pytest.mark.parametrize("tags,expected", TAG_FIX_CASES)
def test_tag_details(tags: list[str], expected: list[tuple[str, str]]) -> None:
    assert [(d["tag"], d["kind"]) for d in _vocab.fix_tags(tags)] == expected


def test_tags_column_is_clean_list() -> None:
    row = parse_text("UNCLAS STATE 000001\nE.O. 12958: N/A\nTAGS: PGOV, KPKO UN SU RS VTPREL\nSUBJECT: X\n")
    assert row["tags"] == ["PGOV", "KPKO", "UN", "SU", "RS", "VT", "PREL"]
    assert row["tag_details"][-1] == {"tag": "PREL", "kind": "subject", "raw": "VTPREL"}


# ---------------------------------------------------------------- SUBJECT
SUBJECT_CASES = [
    ("SUBJECT: RUSSIAN DFM SALTANOV ON DARFUR AVIATION AND\nTRANSPORTATION SUPPORT\n\nREF: A. STATE 1\n",
     "RUSSIAN DFM SALTANOV ON DARFUR AVIATION AND TRANSPORTATION SUPPORT"),
    ("SUBJECT: (C) GERMANY: MERKEL ON IRAN\n\n1. (C) text", "GERMANY: MERKEL ON IRAN"),
    ("SUBJ: TFIZ01: UPDATE\nREF: BAGHDAD 12\n", "TFIZ01: UPDATE"),
    ("Subject: turkish p.m. Erdogan visit\n\nClassified By: x", "turkish p.m. Erdogan visit"),
    ("SUBJECT: COSTA RICA: PROPOSED LABOR PROJECTS UNDER CAFTA-DR \nIMPLEMENTATION INITIATIVE \n \nREF: STATE 26123",
     "COSTA RICA: PROPOSED LABOR PROJECTS UNDER CAFTA-DR IMPLEMENTATION INITIATIVE"),
    ("SUBJECT: IRAN NUCLEAR (S/NF)\n\n1. (S) x", "IRAN NUCLEAR"),
    ("SUBJECT: LONG\nSECOND LINE\nClassified By: Amb", "LONG SECOND LINE"),
    # Markdown: a blank line between wrapped lines; a subject cannot end in AND (07MOSCOW5349)
    ("SUBJECT: RUSSIAN DFM SALTANOV ON DARFUR AVIATION AND\n\nTRANSPORTATION SUPPORT\n\nREF: A. STATE 1",
     "RUSSIAN DFM SALTANOV ON DARFUR AVIATION AND TRANSPORTATION SUPPORT"),
    ("SUBJECT: DONE\n\nNOT THE SUBJECT", "DONE"),
    # REF, Classified By or paragraph 1 squashed onto the SUBJECT line (09ANKARA1676, 10MANAMA52, 88BAGHDAD1177)
    ("SUBJECT: SUPPORT TO NEW KARZAI GOVERMENT REF: A. STATE 118297 B. ANKARA 1661 Classified By: DCM Doug\n\n1.(C) x",
     "SUPPORT TO NEW KARZAI GOVERMENT"),
    ("SUBJECT: NGOS LAUD SPEECH; ALEC ROSS \nENGAGES GOB REF: A. STATE 4203 B. 09 MANAMA 49 Classified By: Amb\n",
     "NGOS LAUD SPEECH; ALEC ROSS ENGAGES GOB"),
    ("SUBJECT: THE REGIME IS PART OF THE PROBLEM  1.  (SECRET-ENTIRE TEXT)\n\n2.  SUMMARY.", "THE REGIME IS PART OF THE PROBLEM"),
    ("SUBJECT: TALKS ON REF: WHY NOT\n", "TALKS ON REF: WHY NOT"),
    ("SUBJECT: QADHAFI TELLS MUBARAK HE \"MAY\" SEEK TO ATTEND UNSC IN NEW YORK TRIPOLI 00000014 001.2 OF 002 "
     "CLASSIFIED BY: John", 'QADHAFI TELLS MUBARAK HE "MAY" SEEK TO ATTEND UNSC IN NEW YORK'),
    # a cut-off preview, the full text repeated below (03THEHAGUE1865)
    ("SUBJECT: A/S JONES VISIT TO THE HAGUE:  MIDDLE EAST AND \nTRANSATLANTIC IS...\n\n\n9608\n\n"
     "SUBJECT: A/S JONES VISIT TO THE HAGUE: MIDDLE EAST AND \nTRANSATLANTIC ISSUES \n\nREF: X",
     "A/S JONES VISIT TO THE HAGUE: MIDDLE EAST AND TRANSATLANTIC ISSUES"),
]


@pytest.mark.parametrize("top,subject", SUBJECT_CASES)
def test_subject(top: str, subject: str) -> None:
    assert _body.find_subject(top)[1] == subject


# Blank lines are not block ends: the same text without them gives the same subject (06SANJOSE2379,
# 07BUENOSAIRES1283, 09CAIRO200, 09CAIRO205, 08TRIPOLI402, 08STATE85615, 09LONDON2180, 05SANJOSE2560, 07MOSCOW1704).
LANDMARK_SUBJECTS = [
    ("SUBJECT: COSTA RICAN IMMIGRATION DIRECTOR PLANS MAJOR \n \nREFORMS \n \nREF: A. SAN JOSE 1529 \n",
     "COSTA RICAN IMMIGRATION DIRECTOR PLANS MAJOR REFORMS"),
    ("SUBJECT: ACTIVE ABROAD, STYMIED AT HOME; ANTI-CORRUPTION \n\nOFFICE STRUGGLES \n\n \n\nREF: SECSTATE 43557 \n",
     "ACTIVE ABROAD, STYMIED AT HOME; ANTI-CORRUPTION OFFICE STRUGGLES"),
    ("SUBJECT:\n\nINVITATION TO NNSA SEMINAR DELIVERED REF: STATE 5535 (U) We delivered\n",
     "INVITATION TO NNSA SEMINAR DELIVERED"),
    ("SUBJECT: LESSONS LEARNED FROM GAZA\n1.Summary: Embassy Cairo evacuated four families.\n\n2.On January 19",
     "LESSONS LEARNED FROM GAZA"),
    ("SUBJECT: REFORM, JAMAHIRIYA-STYLE\n\n001.2 OF 003\n\nCLASSIFIED BY: Chris Stevens", "REFORM, JAMAHIRIYA-STYLE"),
    ("SUBJECT: TFGG01 AUTHORIZED DEPARTURE FROM TBLISI, \nGEORGIA \n \nTREASURY DEPT PASS IRS \nFOR THE AMBASSADOR\n",
     "TFGG01 AUTHORIZED DEPARTURE FROM TBLISI, GEORGIA"),
    ("SUBJECT: HMG'S REACTION TO THE DECISION\n\nC O R R E C T E D C O P Y\n\nREF: STATE 96550\n", "HMG'S REACTION TO THE DECISION"),
    ("SUBJECT: SAN JOSE ACTIVITIES FOR INTERNATIONAL \nEDUCATION WEEK \n \n \nIn celebration of International Education "
     "Week, \nNovember 14-18, Embassy San Jose will program four \nevents: \n \n1.   On November 14",
     "SAN JOSE ACTIVITIES FOR INTERNATIONAL EDUCATION WEEK"),
    ("SUBJECT: RUSSIAN SCIEN...\nC O N F I D E N T I A L MOSCOW 001704 SIPDIS TAGS: KIPR\n\nClassified By: EST Counselor",
     "RUSSIAN SCIEN..."),
]


@pytest.mark.parametrize("top,subject", LANDMARK_SUBJECTS)
def test_subject_ends_at_landmarks(top: str, subject: str) -> None:
    assert _body.find_subject(top)[1] == subject
    assert _body.find_subject(re.sub(r"\n[ \t]*(?=\n)", "", top))[1] == subject


# ---------------------------------------------------------------- REF
REF_BLOCK_CASES = [
    ("REF: A. BOGOTA 1965 AND PREVIOUS \n\n     B. BOGOTA 1987 \n\nClassified By: Ambassador",
     "REF: A. BOGOTA 1965 AND PREVIOUS\n     B. BOGOTA 1987"),
    ("REF: STATE 26123 \n \nEmbassy San Jose submits", "REF: STATE 26123"),
    ("REFS: A) MOSCOW 1\nB) MOSCOW 2\n\n1. (C) x", "REFS: A) MOSCOW 1\nB) MOSCOW 2"),
    ("SUBJECT: X\n\n1. (C) nothing", None),
    ("SUBJECT: NGOS LAUD SPEECH\nENGAGES GOB REF: A. STATE 4203 B. 09 MANAMA 49 Classified By: Amb\n",
     "REF: A. STATE 4203 B. 09 MANAMA 49"),
]


@pytest.mark.parametrize("top,raw", REF_BLOCK_CASES)
def test_references_raw(top: str, raw: str | None) -> None:
    assert _body.find_references(top) == raw


# Blank lines are not block ends (05SANJOSE2037, 06SANJOSE612, cables.csv BEIRUT 1351, 06LIMA1406, 09ROME1048,
# 09TRIPOLI268): lettered items after a blank line go on, prose and metadata lines end the block, a cut preview
# gives way to the full block.
LANDMARK_REFS = [
    ("REF: (A) SAN JOSE 01787 \n \n     (B) SAN JOSE 01875 \n \n1.  According to a poll",
     "REF: (A) SAN JOSE 01787\n     (B) SAN JOSE 01875"),
    ("REF: STATE 26123 \n \nEmbassy San Jose submits the following projects for \ndepartmental consideration",
     "REF: STATE 26123"),
    ("REF:  BEIRUT 1013 \n \nFOLLOWING IS TEXT OF ARTICLE WHICH APPEARED IN \nFEBRUARY 23 REPORTER.", "REF:  BEIRUT 1013"),
    ("REF: 05 LIMA...\n\nid: 60170\nrefid: 06LIMA1406\nheader:\nVZCZCXYZ0000\nPP RUEHWEB\n\nC O N F I D E N T I A L LIMA 001406 "
     "\n\nSUBJECT: X\n\nREF: 05 LIMA 5396 \n\nClassified By: Political Counselor", "REF: 05 LIMA 5396"),
    ("REF: A) ROME 878 B) ROME 678 C) 08 ROME \n     1191 \n \nROME 00001048  001.2 OF 003 \n \n \nClassified By: A/DCM",
     "REF: A) ROME 878 B) ROME 678 C) 08 ROME\n     1191"),
    ("REF: 08 STATE 74840 TRIPOLI 00000268\n\n001.2 OF 003 1.\n\nThe following responses are keyed to reftel.\n\n"
     "a. COUNTRY CONDITIONS:\nFraud Level: Low.", "REF: 08 STATE 74840 TRIPOLI 00000268"),
]


@pytest.mark.parametrize("top,raw", LANDMARK_REFS)
def test_references_end_at_landmarks(top: str, raw: str) -> None:
    assert _body.find_references(top) == raw
    assert _body.find_references(re.sub(r"\n[ \t]*(?=\n)", "", top)) == raw


# REF items: each item's letter and the id of the cable it cites (a two-digit year from the cable's).
REF_ITEM_CASES = [
    (("REF: A. STATE 147667 B. MOSCOW 5190", 2007), [("A", "07STATE147667"), ("B", "07MOSCOW5190")]),
    (("REF: SECSTATE 74879", 2008), [(None, "08STATE74879")]),
    (("REF: RIO DE JAN 138", 2008), [(None, "08RIODEJANEIRO138")]),
    (("REF: A) 06 TBILISI 2601 B) 2007 MANAGUA 2135", 2008), [("A", "06TBILISI2601"), ("B", "07MANAGUA2135")]),
    (("REF: (A) 05 SAO PAULO 405 (B) LA PAZ 12", 2006), [("A", "05SAOPAULO405"), ("B", "06LAPAZ12")]),
    (("REF: BRASILIA 2799 AND 2764", 2005), [(None, "05BRASILIA2799"), (None, "05BRASILIA2764")]),
    (("REF: A. BOGOTA 1965 AND PREVIOUS B. BOGOTA 1987", 2006), [("A", "06BOGOTA1965"), ("B", "06BOGOTA1987")]),
    (("REF: SECDEF MSG DTG 301601z SEP 08", 2008), [(None, None)]),
    (("REF: E-MAIL FROM POLOFF 3/2/08", 2008), [(None, None)]),
    (("REF: USUN 6028", 1975), [(None, "75USUNNEWYORK6028")]),
    # TEL is also the telegram abbreviation: TEL AVIV is still a post (07TELAVIV3515)
    (("REF: STATE -097844", 1974), [(None, "74STATE97844")]),  # PlusD 1974ATHENS02959_b
    (("REF: A. TEL AVIV 03385 B. SEE TEL AVIV 03386", 2007), [("A", "07TELAVIV3385"), ("B", "07TELAVIV3386")]),
]


@pytest.mark.parametrize("value,expected", REF_ITEM_CASES)
def test_reference_items(value: tuple[str, int], expected: list[tuple[str | None, str | None]]) -> None:
    refs = _refs.parse_references(value[0], value[1])
    assert [(r["letter"], r["reference_id"]) for r in refs] == expected
    assert all(r["kind"] == ("cable" if r["reference_id"] else "other") for r in refs)


def test_self_reference_dropped() -> None:
    assert _refs.parse_references("REF: MOSCOW 5349", 2007, "07MOSCOW5349") == [
        {"letter": None, "raw": "MOSCOW 5349", "reference_id": None, "kind": "other"}]


def test_dump_id_that_is_a_ref_is_not_trusted() -> None:
    """An export whose ``_id`` holds the REF (87NEWDELHI17853 on the cable NEW DELHI 19406)."""
    body = ("CONFIDENTIAL NEW DELHI 19406\n\nE.O. 12356: DECL: OADR\nTAGS: PREL\nSUBJECT: X\n\nREF: NEW DELHI 17853\n\n"
            "1. (C) TEXT.\n")
    row = parse(Rec(body=body, meta={"reference_id": "87NEWDELHI17853", "created": "1987-09-01 10:00"}))
    assert row["reference_id"] == "87NEWDELHI19406" and row["reference_id_source"] == "derived"
    assert [r["reference_id"] for r in row["references"]] == ["87NEWDELHI17853"]
    same = parse(Rec(body=body.replace("19406", "17853").replace("REF: NEW DELHI 17853", "REF: NEW DELHI 1"),
                     meta={"reference_id": "87NEWDELHI17853", "created": "1987-09-01 10:00"}))
    assert same["reference_id"] == "87NEWDELHI17853" and same["reference_id_source"] == "metadata"


# ---------------------------------------------------------------- split / id derivation
def test_split_cable_without_header() -> None:
    assert split_cable("UNCLAS STATE 000001\nSUBJECT: X") == ("", "UNCLAS STATE 000001\nSUBJECT: X")


def test_split_cable() -> None:
    text = "VZCZCXRO0594\nRR RUEHAO\nDE RUEHBO #1165 0471902\nZNR UUUUU ZZH\nR 161902Z FEB 07\n" \
           "FM AMEMBASSY BOGOTA\nTO RUEHC/SECSTATE WASHDC 2786\nUNCLAS BOGOTA 001165 \n \nSIPDIS\n"
    header, body = split_cable(text)
    assert header.endswith("TO RUEHC/SECSTATE WASHDC 2786")
    assert body.startswith("UNCLAS BOGOTA 001165")


ID_CASES = [
    ("R 161902Z FEB 07\nFM AMEMBASSY BOGOTA\nUNCLAS BOGOTA 001165\n", "07BOGOTA1165"),
    ("P 011200Z MAR 09\nFM AMEMBASSY BUENOS AIRES\nC O N F I D E N T I A L BUENOS AIRES 000123\n", "09BUENOSAIRES123"),
    ("O 011200Z MAR 99\nFM USMISSION USUN NEW YORK\nUNCLAS SECTION 01 OF 02 USUN NEW YORK 000987\n", "99USUNNEWYORK987"),
    ("R 011200Z MAR 06\nFM SECSTATE WASHDC\nS E C R E T STATE 015113\n", "06STATE15113"),
]


@pytest.mark.parametrize("text,ref", ID_CASES)
def test_derived_reference_id(text: str, ref: str) -> None:
    row = parse_text(text)
    assert (row["reference_id"], row["reference_id_source"]) == (ref, "derived")


def test_metadata_wins() -> None:
    row = parse_text("UNCLAS BOGOTA 001165\n", {"reference_id": "07BOGOTA1165", "classification": "SECRET//NOFORN",
                                                  "created": "2007-02-16 19:07", "created_precision": "hour"})
    assert row["reference_id_source"] == "metadata"
    assert row["classification"] == "SECRET//NOFORN"
    assert row["classification_raw"] == "UNCLAS BOGOTA 001165"
    assert (row["sent_at"], row["sent_at_source"]) == (datetime(2007, 2, 16, 19, 0, tzinfo=UTC), "metadata")
