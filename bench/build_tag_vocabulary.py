"""Build schemas/vocabularies/tags.csv (tag,kind,description).

Sources: FIPS 10-4 codes (bench/_fips.py, public knowledge), subject TAGS of 5 FAH-3 / cablemap
subject-tags.txt (names only) with descriptions from the PlusD pages' ``title=`` attributes where the
corpus has them, organisation TAGS (cablemap organization-tags.txt names + common ones), program
``K???`` TAGS seen at least twice in the corpus. Run: ``.venv/bin/python bench/build_tag_vocabulary.py``.
"""

from __future__ import annotations

import collections
import csv
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from _fips import FIPS  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus"
CATEGORY = {
    "A": "Administration", "B": "Business Services", "C": "Consular Affairs", "E": "Economic Affairs",
    "K": "Program/keyword", "L": "Legal Affairs", "M": "Military and Defense Affairs", "O": "Operations",
    "P": "Political Affairs", "S": "Social Affairs", "T": "Technology and Science",
}
SUBJECT = """AADP ABLD ABUD ACOA ACKM ADCO ADPM AEMR AFIN AFSI AFSN AGAO AINF AINR AINT ALOW AMED AMGT AMTC ANET
AODE AOMS AORC APCS APER ASCH ASEC ASIG BBSR BEXP BMGT BTIO CASC CFED CJAN CLOK CMGT CPAS CVIS EAGR EAID EAIR ECON
ECPS EFIN EFIS EIND EINT EINV ELAB ELTN EMIN ENRG EPET ETRD ETTC EWWT MARR MASS MCAP MNUC MOPS ODIP OEXC OFDP OIIP
OPDC OPRC OREP OSCI OTRA OVIP PARM PBTS PGOV PHSA PHUM PINR PINS PNAT PREF PREL PROP PTER SCUL SENV SMIG SNAR SOCI
TBIO TINT TNGD TPHY TRGY TSPA TSPL ACOM AFSP AORG CGEN EGEN ESTC ETRN PFOR PDIP PINT PBIO SWMN SHUM SCRM SMED
SEDU SHLH SPOP SREF EUNC EPAT ECIP ETEL ECTRD EAGRI""".split()
SUBJECT_DESC = {
    "PGOV": "Political Affairs: Government; Internal Governmental Affairs", "PREL": "Political Affairs: External Political Relations",
    "PHUM": "Political Affairs: Human Rights", "PTER": "Political Affairs: Terrorists and Terrorism",
    "PINR": "Political Affairs: Intelligence", "PINS": "Political Affairs: Internal Security",
    "PARM": "Political Affairs: Arms Controls and Disarmament", "PREF": "Political Affairs: Refugees",
    "MARR": "Military and Defense Affairs: Military and Defense Arrangements", "MOPS": "Military and Defense Affairs: Military Operations",
    "MASS": "Military and Defense Affairs: Military Assistance and Sales", "MNUC": "Military and Defense Affairs: Military Nuclear Applications",
    "ECON": "Economic Affairs: Economic Conditions, Trends and Potential", "EFIN": "Economic Affairs: Financial and Monetary Affairs",
    "ETRD": "Economic Affairs: Foreign Trade", "ENRG": "Economic Affairs: Energy and Power", "EAID": "Economic Affairs: Foreign Assistance",
    "SNAR": "Social Affairs: Narcotics", "SOCI": "Social Affairs: Social Conditions", "SENV": "Social Affairs: Environmental Affairs",
    "SMIG": "Social Affairs: Migration", "SCUL": "Social Affairs: Cultural Affairs", "CVIS": "Consular Affairs: Visas",
    "CASC": "Consular Affairs: Assistance to Citizens", "ASEC": "Administration: Security", "AMGT": "Administration: Management Operations",
    "OVIP": "Operations: Visits of Important Persons", "OEXC": "Operations: Educational and Cultural Exchange",
    "OPRC": "Operations: Public Relations and Correspondence", "OIIP": "Operations: International Information Programs",
    "KPAO": "Public Affairs Office", "TBIO": "Technology and Science: Biological and Medical Science",
    "TSPA": "Technology and Science: Space Activities", "TRGY": "Technology and Science: Energy Technology",
}
PROGRAM_DESC = {
    "KPKO": "Peacekeeping operations", "KDEM": "Democratization", "KCRM": "Criminal activity", "KNNP": "Nuclear nonproliferation",
    "KJUS": "Administration of justice", "KTIP": "Trafficking in persons", "KWMN": "Women's issues",
    "KIRF": "International religious freedom", "KHIV": "HIV/AIDS", "KFLU": "Avian and pandemic influenza",
    "KTFN": "Terrorism financing", "KISL": "Islamic affairs", "KMDR": "Media reaction", "KCOR": "Corruption",
    "KSUM": "Summits", "KPAL": "Palestinian affairs", "KGHG": "Greenhouse gases", "KMCA": "Millennium Challenge Account",
    "KMPI": "Middle East Partnership Initiative", "KFRD": "Fraud", "KOLY": "Olympics", "KAWC": "Atrocities and war crimes", "KPAO": "Public affairs", "KCFE": "Conventional Armed Forces in Europe treaty", "KIPR": "Intellectual property rights",
    "KHLS": "Homeland security", "KCIP": "Critical infrastructure protection", "KOCI": "Children's issues", "KWBG": "West Bank and Gaza",
    }
ORGS_EXTRA = """UN NATO EUN EU IAEA AU OAS OSCE ASEAN APEC WTO IMF IBRD OECD OPEC ICRC UNSC UNGA UNHCR UNDP UNICEF WHO
FAO ILO IOM ICTY ICTR ICC INTERPOL G8 G-8 G20 G-20 G-77 GCC ECOWAS SADC IGAD MERCOSUR CARICOM SICA CIS SCO CSTO PA
HAMAS HIZBALLAH FATAH PLO ZANU-PF MDC FARC ELN AUC SPLM NCP ANC LTTE ETA PKK KDP PUK AQ AQIM MEK UNMIK UNIFIL
UNAMA UNAMI MONUC MINUSTAH UNMIS UNAMID UNMIL UNOCI UNFICYP UNTSO UNRWA UNEP UNESCO UNODC OHCHR UNHRC EBRD IADB
ADB AFDB IDB IFAD WFP ICAO IMO ITU UPU WIPO WMO CTBTO OPCW MFO EC ECB EP COE NAM OIC ARF EAS QUAD PSI""".split()


def cablemap_orgs() -> list[str]:
    p = HERE / "_cablemap_orgs.txt"
    return p.read_text().split("\n") if p.exists() else []


def corpus_tags() -> collections.Counter[str]:
    from etl.parse import _body
    from etl.parse._tags import split_tags

    counts: collections.Counter[str] = collections.Counter()
    for f in (CORPUS / "cablegate-html").rglob("*.html"):
        page = f.read_text(encoding="utf-8", errors="replace")
        blocks = re.findall(r"<code><pre>(.*?)</pre></code>", page, re.S)
        if not blocks:
            continue
        body = re.sub(r"<a\b[^>]*>(.*?)</a>", r"\1", blocks[-1]).replace("&#x000A;", "\n")
        raw = _body.find_tags(_body.top_of(body))
        if raw:
            counts.update(split_tags(raw))
    return counts


def plusd_titles() -> dict[str, str]:
    out: dict[str, str] = {}
    for f in (CORPUS / "plusd-html").glob("*.html"):
        for tag, desc in re.findall(r'title="([A-Z][A-Z0-9-]{1,7}) - ([^"]*?)(?: \(\d+ documents\))?"', f.read_text()):
            out.setdefault(tag, desc.replace("--", ": "))
    return out


def main() -> None:
    rows: dict[str, tuple[str, str]] = {}
    titles = plusd_titles() if CORPUS.is_dir() else {}
    for code, name in FIPS.items():
        rows[code] = ("geographic", name)
    for tag in ORGS_EXTRA + [t for t in cablemap_orgs() if t]:
        rows.setdefault(tag.upper(), ("organization", titles.get(tag.upper(), "")))
    for tag in SUBJECT:
        if len(tag) == 4 and tag[0] in CATEGORY:
            desc = SUBJECT_DESC.get(tag) or titles.get(tag) or f"{CATEGORY[tag[0]]} (subject)"
            rows[tag] = ("subject", desc)
    for tag, desc in titles.items():
        if len(tag) == 4 and tag[0] in CATEGORY and tag[0] != "K":
            rows[tag] = ("subject", desc)
    for tag, desc in PROGRAM_DESC.items():
        rows[tag] = ("program", desc)
    if CORPUS.is_dir():
        for tag, n in corpus_tags().items():
            if n >= 2 and re.fullmatch(r"K[A-Z]{3}", tag) and tag not in rows:
                rows[tag] = ("program", "Program/keyword TAGS (seen in the corpus)")
    rows["UN"] = ("organization", "United Nations")
    out = REPO / "schemas" / "vocabularies" / "tags.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["tag", "kind", "description"])
        for tag in sorted(rows):
            w.writerow([tag, *rows[tag]])
    print(f"{len(rows)} tags -> {out}")


if __name__ == "__main__":
    main()
