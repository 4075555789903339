"""Assemble all fields of one cable (called by :func:`etl.parse.parse`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from etl.parse import _body, _classif, _decl, _dtg, _header, _ids, _layout, _paras, _refs, _tags, _vocab
from etl.parse._lines import BodyLines, line_matches, line_search
from etl.parse._text import normalize, plain_spaces

_ID_POST_CLEAN = re.compile(r"[^A-Z0-9]")
_TAGS_SPLIT = re.compile(r"\s*(?:\b|(?<=\d))TAGS?\s*:", re.I)
_ID_YEAR = re.compile(r"^(\d{2})[A-Z]")
_ID_SERIAL = re.compile(r"(\d+)$")


def _serial(ref: str) -> str | None:
    """The digits that end ``ref`` (``_ID_SERIAL``'s group; ASCII without a line break: read by hand, the pattern
    is tried at every character)."""
    if ref.isascii() and "\n" not in ref:
        serial = ref[len(ref.rstrip("0123456789")):]
        return serial or None
    m = _ID_SERIAL.search(ref)
    return m.group(1) if m else None

FIELDS: tuple[str, ...] = (
    "reference_id", "reference_id_source", "dtg", "sent_at", "sent_at_source", "precedence_raw", "precedence",
    "origin", "classification_raw", "classification", "eo_raw", "eo", "decl_raw", "decl_date", "tags_raw",
    "tags", "subject_raw", "subject", "references_raw", "header", "body",
    # phase 2: routing header
    "transmission_id", "routing_precedence", "relay_ris", "de_station", "de_serial", "de_section", "de_julian_day",
    "de_time", "security_line", "security_word", "dtg_zone", "dtg_valid", "to_addressees", "info_addressees",
    # body header
    "banner_level", "banner_section", "banner_post", "banner_serial", "caveats", "decl_kind", "tag_details",
    "subject_portion_mark", "references", "classified_by_name", "classified_by_title", "classification_reason_section",
    "classification_reasons",
    # body
    "paragraphs", "max_portion_level", "summary", "comment", "signature", "redaction_count", "is_partial",
    "body_length",
    # origin / identity
    "origin_name", "canonical_id", "plusd_id",
    # consistency flags
    "flag_classification_mismatch", "flag_id_year_mismatch", "flag_serial_mismatch", "flag_decl_before_dtg",
    "flag_decl_over_25y",
)
_LIST_FIELDS = ("tags", "relay_ris", "to_addressees", "info_addressees", "caveats", "tag_details", "references",
                "classification_reasons", "paragraphs")


_EMPTY_ROW: dict[str, Any] = dict.fromkeys(FIELDS)


def empty_row() -> dict[str, Any]:
    row = _EMPTY_ROW.copy()  # a copy of the all-None row, then a fresh list for each list field
    for f in _LIST_FIELDS:
        row[f] = []
    row["_problems"] = []
    return row


TRUST = {"jsonl": "export"}
"""Trust rule of a dump format's metadata (see :func:`_choose_id`); any other format's table is ``publisher``."""


def parse_parts(header: str, body: str, meta: Mapping[str, str], source_format: str | None = None) -> dict[str, Any]:
    """Never raises: an unexpected error becomes a problem and the fields found so far are kept."""
    row = empty_row()
    try:
        _fill(row, header, body, meta, TRUST.get(source_format or "", "publisher"))
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        row["_problems"].append(f"parser error: {type(exc).__name__}: {exc}")
    return row


def _meta(meta: Mapping[str, str], key: str) -> str | None:
    v = meta.get(key)
    return (v.strip() or None) if isinstance(v, str) else None


# A leaked database row of another cable (``50133  2006-01-19  06THEHAGUE131  Embassy The Hague ...``) or a
# second banner naming another post/serial, followed by that cable's own TAGS/SUBJECT: a page that glued a
# second cable onto this one.
_LEAKED_ROW = re.compile(r"^[ \t]*\d{1,7}[ \t]+\d{4}-\d{2}-\d{2}(?:[ \t]+[\d:]{5,8})?[ \t]+(?P<id>\d{2}[A-Z][A-Z\-]*\d+)\b", re.M)
ROW_DATE_AS_WRITTEN = r"(?:19|20)\d\d-[01]\d-[0-3]\d(?=[ \t])"
"""A row's date (``2006-01-19``) before a blank."""
_ROW_DATE = re.compile(r"-(?<=(?:19|20)\d\d-)[01]\d-[0-3]\d(?=[ \t])")
"""ROW_DATE_AS_WRITTEN found from its first ``-``, a literal the engine scans for (the written pattern is tried at
every character), the year read behind it: a match starts 4 characters into the date, so a scan from ``pos``
starts at ``pos + 4``."""
_GLUED_ID_LINE = re.compile(r"(?:^[ \t]*\d{2}[A-Z]+\d+[ \t]*\n(?:[ \t]*\n)*)$")


_SUBJ_WORDS = re.compile(r"S(?:UBJ|ubj)")
_TAGS_WORDS = re.compile(r"T(?:AGS|ags)")
"""The body-header words a second cable's header would repeat (each with a one-letter literal prefix: a
pattern whose alternatives start with different letters is tried at every character, ten times slower)."""
_TAGS_OR_SUBJECT_LINE = re.compile(r"^[ \t]*(?:TAGS|SUBJ(?:ECT)?)\b", re.M)
"""A TAGS or SUBJECT line: a body header follows the banner before it."""


_NOT_DIGIT = re.compile(r"\D")


def _glued_cable(b: str, banner: _body.Banner, stated_id: str | None) -> tuple[int, str] | None:
    own_serial = int(banner.serial) if banner.serial else None
    after = banner.start + len(banner.raw)
    subj = len(_SUBJ_WORDS.findall(b, after))  # a literal-prefix scan: two words for the price of one
    if subj < 2 and len(_TAGS_WORDS.findall(b, after)) < 2:  # no room for a second cable's header
        return None
    for d in _ROW_DATE.finditer(b, after + 4):  # cheap scan for the row's date, then the whole row from its line start
        m = _LEAKED_ROW.match(b, b.rfind("\n", 0, d.start()) + 1)
        if m is None:
            continue
        rid = m.group("id")
        serial = int(_NOT_DIGIT.sub("", rid[-7:]) or 0)
        if (stated_id and rid != stated_id) or (own_serial is not None and serial != own_serial):
            return m.start(), rid
    for m in line_matches(_body.BANNER, b, _body.BANNER_FIRST, after):
        other = _body.banner_from(m)
        if not (other.post and other.serial) or own_serial is None or not banner.post:
            continue
        if int(other.serial) == own_serial and other.post.replace(" ", "") == banner.post.replace(" ", ""):
            continue
        if _TAGS_OR_SUBJECT_LINE.search(b[m.end():m.end() + 800]):
            start = m.start()
            idl = _GLUED_ID_LINE.search(b, 0, start)  # "08STATE15228" on the line before
            return (idl.start() if idl else start), f"{other.post} {other.serial}"
    return None


@dataclass
class _Cable:
    """One cable's text as the field rules read it, and what the blocks already read pass to the later ones."""

    header: str
    """The routing header, normalized (tabs expanded, page breaks dropped)."""
    body: str
    """The body, normalized and cut at the cable's end (and where another cable was glued on)."""
    banner: _body.Banner | None
    meta: Mapping[str, str]
    """The dump's own metadata (a page's table, a csv row's columns)."""
    preamble: Mapping[str, str]
    """Metadata read from a preamble above the cable text (headerless layouts)."""
    lines: BodyLines
    """The body's typed lines (paragraph starts, rule lines), found once for every rule that reads them."""
    header_lines: _header.HeaderLines | None = None
    """The routing header's landmark lines (DTG, FM, prosign, DE, ZNY, TO/INFO), found once by :func:`_routing`."""
    low: str = ""
    """The body lower-cased once, for the cheap word scans of the body rules (summary, comment, Classified By)."""
    top: str = ""
    """The body header: the body before its first numbered paragraph."""
    top_lines: _body.TopLines | None = None
    """The body header's landmark lines (E.O., SUBJECT, REF), found once by :func:`_banner`."""
    level: str | None = None
    """The banner's classification level."""
    sent_at: datetime | None = None
    """The time of the DTG."""
    year: int | None = None
    """The cable's year (DTG, else the record's date, else the id), for two-digit years in DECL and REF."""


def _fill(row: dict[str, Any], header: str, body: str, meta: Mapping[str, str], trust: str) -> None:
    """All fields, one block of the cable after the other, in the order the blocks feed each other."""
    cable = _locate(row, header, body, meta)
    _routing(row, cable)
    _banner(row, cable)
    _identity(row, cable, trust)
    _eo_and_decl(row, cable)
    _body_header(row, cable)
    _routing_details(row, cable)
    _banner_details(row, cable)
    _classified_by(row, cable)
    _references(row, cable)
    _body_fields(row, cable)
    _origin_and_ids(row, cable)
    _flags(row, cable.level, _meta(meta, "classification") or _meta(cable.preamble, "classification"))


def _locate(row: dict[str, Any], header: str, body: str, meta: Mapping[str, str]) -> _Cable:
    """Header and body as written (a headerless text is split at its landmarks), then normalized: the text
    ends at the cable's last line, a leaked row's routing header joins the header, a glued-on cable is cut."""
    problems: list[str] = row["_problems"]
    pmeta: dict[str, str] = {}
    if not header.strip():
        lay = _layout.locate(normalize(body) if "\r" in body else body)
        if lay.found:
            header, body = lay.header, lay.body
        pmeta = lay.preamble
        problems.extend(lay.notes)
    row["header"] = header
    row["body"] = body
    h = _layout.strip_page_breaks(_layout.untab(normalize(header)))
    # the typed lines of the body as written, read by the rewriting steps and kept when they change nothing
    # (most bodies); a body with CR line ends or tabs is rewritten: its lines are found once, after
    if "\r" not in body and "\t" not in body:
        lines: BodyLines | None = BodyLines(body)
        b = normalize(body, lines, cr=False)  # (no tab to expand: normalizing adds none)
    else:
        lines = None
        b = _layout.untab(normalize(body))
    b = _layout.restore_blocks(_layout.strip_page_breaks(b, lines))
    written = _layout.stripped_len(b)
    end = _layout.text_end(b, written)  # NNNN, export and page furniture after the cable's last line are not text
    if end < written:
        b = b[:end] + "\n"
    banner = _body.find_banner(b)
    if banner is not None and banner.start > 0 and not line_search(_dtg.DTG_LINE, h, _dtg.DTG_LINE_FIRST):
        # leaked-row bodies carry their own routing header before the banner
        pre = b[: banner.start]
        if line_search(_dtg.DTG_LINE, pre, _dtg.DTG_LINE_FIRST) or line_search(_header.FM_LINE, pre, _header.FM_FIRST):
            h = h + "\n" + pre

    if banner is not None:
        glued = _glued_cable(b, banner, _meta(meta, "reference_id"))
        if glued is not None:
            problems.append(f"body: another cable glued on at character {glued[0]} ({glued[1]}); cut there")
            b = b[: glued[0]]
    if lines is None or lines.text is not b:  # rewritten or cut: its own typed lines
        lines = BodyLines(b)
    return _Cable(header=h, body=b, banner=banner, meta=meta, preamble=pmeta, lines=lines, low=b.lower())


def _routing(row: dict[str, Any], cable: _Cable) -> None:
    """Routing header: the DTG and precedence, the FM line; the time sent (DTG, else the record's date)."""
    h, problems = cable.header, row["_problems"]
    sent_at: datetime | None = None
    found = cable.header_lines = _header.HeaderLines(h)  # one pass over the header's lines, for every rule
    # the precedence + DTG line; else a line holding only a DTG (partial extracts: "281413Z Jul 03")
    m = found.dtg or found.bare
    if m:
        row["dtg"] = m.group("dtg").strip()
        row["dtg_zone"] = m.group("zone").upper()
        if "prec" in m.re.groupindex:
            row["precedence_raw"] = m.group("prec")
            row["precedence"] = m.group("prec")[0]
        sent_at = _dtg.dtg_to_datetime(m["day"], m["hh"], m["mm"], m["zone"], m["mon"], m["yy"])
        row["dtg_valid"] = sent_at is not None
        if sent_at is None:
            problems.append(f"dtg: not a real time {row['dtg']!r}")
    fm = found.fm
    if fm:
        row["origin"] = fm.group("fm")
    cable.sent_at = sent_at
    if sent_at is not None:
        row["sent_at"], row["sent_at_source"] = sent_at, "dtg"
        return
    for source, m_ in (("metadata", cable.meta), ("preamble", cable.preamble)):
        created = _meta(m_, "created")
        if created:
            row["sent_at"] = _dtg.parse_created(created, _meta(m_, "created_precision"))
            if row["sent_at"] is not None:
                row["sent_at_source"] = source
                break
            problems.append(f"{'meta' if source == 'metadata' else source}: unreadable created {created!r}")


def _banner(row: dict[str, Any], cable: _Cable) -> None:
    """Banner and classification (the dump's metadata, else the banner, else the preamble)."""
    banner, b = cable.banner, cable.body
    if banner:
        row["classification_raw"] = banner.raw
        cable.level = _classif.level_of(banner.level_raw)
    cable.top = _body.top_of(b, cable.lines)
    cable.top_lines = _body.TopLines(cable.top)  # one pass over the body header's lines, for every rule
    meta_cls = _meta(cable.meta, "classification")
    if meta_cls:
        row["classification"] = " ".join(meta_cls.upper().split())
    elif cable.level:
        row["classification"] = _classif.with_caveat(cable.level, b, banner.start if banner else 0)
    elif cable.preamble.get("classification"):
        row["classification"] = " ".join(cable.preamble["classification"].upper().split())


def _identity(row: dict[str, Any], cable: _Cable, trust: str) -> None:
    """The reference id, one trust rule per kind of source (see :func:`_choose_id`), and the cable's year."""
    h, b = cable.header, cable.body
    year: int | None = cable.sent_at.year if cable.sent_at else None
    _choose_id(row, cable.meta, cable.preamble, trust, cable.banner, year, h, b)
    if year is None and row["sent_at"] is not None and row["reference_id_source"] != "metadata":
        year = row["sent_at"].year
    if row["reference_id"] is None:
        row["_problems"].append("reference_id: not stated and not derivable (banner post/serial + DTG year)")
    if year is None:
        year = _year_of_id(row["reference_id"])
    cable.year = year


def _eo_and_decl(row: dict[str, Any], cable: _Cable) -> None:
    """The E.O. line: the executive order and the declassification instruction (DECL) with its kind and date."""
    assert cable.top_lines is not None  # (found by _banner)
    eo_line = cable.top_lines.eo  # an EO_LINE match: its groups are read as they stand (no second match)
    eo_m = eo_line or _decl.EO_ANY.search(cable.top)
    if eo_m:
        line = eo_m.group(0).strip()
        num, rest = _decl.eo_parts(line, eo_line)
        # every _TAGS_SPLIT match holds "tag" (ASCII text: in any case); the pattern is tried at every character
        glued = not line.isascii() or "tag" in line.lower()
        row["eo_raw"] = (_TAGS_SPLIT.split(line, maxsplit=1)[0] if glued else line).rstrip()
        row["eo"] = num
        row["decl_raw"] = _decl.decl_value(rest)
        kind, d, problem = _decl.classify_decl(row["decl_raw"], cable.year)
        row["decl_date"] = d
        row["decl_kind"] = kind
        if problem:
            row["_problems"].append(problem)


def _body_header(row: dict[str, Any], cable: _Cable) -> None:
    """TAGS, SUBJECT and the REF block as written."""
    top, found = cable.top, cable.top_lines
    tags_raw = _body.find_tags(top)
    if tags_raw is not None:
        row["tags_raw"] = tags_raw
        details = _tag_details(tags_raw)
        row["tag_details"] = [{"tag": tag, "kind": kind, "raw": raw} for tag, kind, raw in details]
        row["tags"] = [d[0] for d in details]
    subject = _body.subject_block(top, found)
    row["subject_raw"], row["subject"], row["subject_portion_mark"] = _body.find_subject(top, block=subject)
    if row["subject"] is None and cable.preamble.get("subject"):
        row["subject"] = " ".join(cable.preamble["subject"].split())
    row["references_raw"] = _body.find_references(top, subject, found)


@lru_cache(maxsize=4096)
def _tag_details(tags_raw: str) -> tuple[tuple[str, str, str], ...]:
    """(tag, kind, raw token) of each clean tag of a TAGS value (cached: a post's cables repeat their TAGS); a value
    of known codes only (most) read off the vocabulary (:func:`_tags.known_details`)."""
    known = _tags.known_details(tags_raw, _vocab.vocabulary())
    return known if known is not None else _vocab.tag_details(_tags.split_tags(tags_raw))


def _derived_id(banner: _body.Banner | None, year: int | None) -> str | None:
    if banner and banner.post and banner.serial and year is not None:
        return f"{year % 100:02d}{_ID_POST_CLEAN.sub('', banner.post.upper())}{int(banner.serial)}"
    return None


_FOUR_DIGIT_ID_YEAR = re.compile(r"^(?:19|20)(\d{2})")
"""An id stated with a four-digit year (``2006STATE1234``): its last two digits."""


def _id_conflict(stated: str, banner: _body.Banner | None, year: int | None) -> str | None:
    """How a stated id disagrees with the text: its serial with the banner's, its year with the record's date."""
    serial = _serial(stated)
    if serial and banner is not None and banner.serial and int(serial) != int(banner.serial):
        return f"serial {int(serial)} vs the banner's {banner.post or ''} {banner.serial}".replace("  ", " ")
    yy = _ID_YEAR.match(stated) or _FOUR_DIGIT_ID_YEAR.match(stated)
    if yy and year is not None and int(yy.group(1)) != year % 100:
        return f"year {yy.group(1)} vs the record's date {year}"
    return None


def _choose_id(row: dict[str, Any], meta: Mapping[str, str], pre: Mapping[str, str], trust: str,
               banner: _body.Banner | None, year: int | None, h: str, b: str) -> None:
    """reference_id by the trust rule of its source (README "How right the fields are"):

    * ``publisher`` (a publisher's table: cablegate and PlusD pages, the cables.csv release): its id is taken
      as stated; the text's disagreements are flagged (flag_serial_mismatch, flag_id_year_mismatch).
    * ``export`` (fields of unknown quality: a JSON-lines ``_id``) and ``preamble`` (lines before the cable):
      the stated id is taken only when it agrees with the text: its serial is the banner's serial and its
      year the record's own date (the DTG, else the record's date field). Otherwise the id derived from the
      text (banner post + serial + year) is used; when nothing can be derived, a stated id whose year is wrong
      gets the record's year. The stated value stays in ``source_meta`` and the choice is noted in
      ``parse_problems``.
    * nothing stated: derived from the banner + the DTG year (else the dump's date), else from teletype residue.
    """
    problems: list[str] = row["_problems"]
    stated, source = _meta(meta, "reference_id"), "metadata"
    if stated and not _LOOKS_LIKE_ID.match(stated):
        problems.append(f"reference_id: the dump's id {stated!r} is not a cable id; derived from the text instead")
        stated = None
    pre_id = _meta(pre, "reference_id")
    if pre_id and not _LOOKS_LIKE_ID.match(pre_id):
        pre_id = None
    if stated is None and pre_id:
        stated, source, trust = pre_id, "preamble", "preamble"
    elif stated and pre_id and _ids.canonical_id(pre_id) != _ids.canonical_id(stated):
        problems.append(f"reference_id: the preamble states {pre_id!r}, the dump {stated!r}; the dump's is used")
    if year is None and row["sent_at"] is not None:
        year = row["sent_at"].year
    if stated and trust == "publisher":
        row["reference_id"], row["reference_id_source"] = stated, source
        return
    derived = _derived_id(banner, year)
    if stated:
        conflict = _id_conflict(stated, banner, year)
        if conflict is None:
            row["reference_id"], row["reference_id_source"] = stated, source
            return
        if derived is None and year is not None and conflict.startswith("year"):
            derived = f"{year % 100:02d}{stated[2:] if _ID_YEAR.match(stated) else stated[4:]}"
        if derived is None:
            row["reference_id"], row["reference_id_source"] = stated, source
            problems.append(f"reference_id: the {source} id {stated!r} disagrees with the text ({conflict}); kept")
            return
        problems.append(f"reference_id: the {source} id {stated!r} disagrees with the text ({conflict}); "
                        f"{derived} derived from the text is used")
    if derived is None:
        derived = _id_from_residue(f"{h[:3000]}\n{b[:3000]}" if h else b[:3000], year)  # (the heads: built only here)
    if derived is None and "DE" in h:
        de = line_search(_header.DE_LINE, h, "D")
        derived = _ids.id_from_routing(banner.post if banner else None, row["origin"],
                                       de.group("serial") if de else None, year)
    if derived:
        row["reference_id"], row["reference_id_source"] = derived, "derived"


_LOOKS_LIKE_ID = re.compile(r"^(?:\d{2}|\d{4})[A-Z][A-Z0-9\-]*?\d{1,8}(?:_[a-z0-9]+)?$")
"""A plausible published id (07MOSCOW5349, 7575LIBREVILLE1895, 1974ATHENS02959_b); not ``A|B`` lists or words."""
_PLUSD_LINE = re.compile(r"^[ \t]*(?P<yyyy>(?:19|20)\d\d)(?P<post>[A-Z]{2,})(?P<serial>\d{1,8})\b", re.M)
_PAGE_LINE = re.compile(r"^[ \t]*PAGE[ \t]+\d+[ \t]+(?P<post>[A-Z][A-Z ]*?[A-Z])[ \t]+(?P<serial>\d{3,8})\b", re.M)


def _id_from_residue(text: str, year: int | None) -> str | None:
    """Id of a "partial extract" record from its residue: ``2000HANOI00686 - CONFIDENTIAL`` (PlusD-style
    line) or the teletype page line ``PAGE 01 HANOI 00686 01 OF 07 050821Z`` with the cable's year."""
    m = _PLUSD_LINE.search(text)
    if m:
        return f"{m.group('yyyy')[2:]}{m.group('post')}{int(m.group('serial'))}"
    m = _PAGE_LINE.search(text)
    if m and year is not None:
        post = _ID_POST_CLEAN.sub("", m.group("post").upper())
        return f"{year % 100:02d}{post}{int(m.group('serial'))}"
    return None


def _year_of_id(ref: str | None) -> int | None:
    if not ref or len(ref) < 2 or not ref[:2].isdigit():
        return None
    return _dtg.century(int(ref[:2]))


# The publisher's notice marks a partial extract; teletype residue (``PAGE 01 ...``) alone does not: full
# PlusD telegrams and some complete cablegate pages carry it too.
_PARTIAL = re.compile(r"partial extract", re.I)


def _partial_notice(head: str) -> bool:
    """The publisher's notice in ``head``. ASCII text is lower-cased and searched for the words (a case-blind
    pattern is tried at every character); other text keeps the pattern (``re.I`` matches more than ASCII
    cases there: the Kelvin sign for k, the long s...)."""
    if head.isascii():
        return "partial extract" in head.lower()
    return _PARTIAL.search(head) is not None


def _routing_details(row: dict[str, Any], cable: _Cable) -> None:
    """The routing header line by line (transmission id, relay, DE and ZNY lines) and the TO/INFO addressees."""
    row.update(_header.routing(cable.header, cable.header_lines))
    row["to_addressees"], row["info_addressees"] = _header.addressees(cable.header, cable.header_lines)


def _banner_details(row: dict[str, Any], cable: _Cable) -> None:
    """The banner's level, section, post and serial; the caveats of the head of the body."""
    banner = cable.banner
    if banner is not None:
        row["banner_level"] = cable.level
        row["banner_section"] = banner.section
        row["banner_post"] = banner.post
        row["banner_serial"] = banner.serial
    assert cable.top_lines is not None  # (found by _banner)
    eo = cable.top_lines.eo_or_subject
    head = cable.top[: eo.start()] if eo else cable.top[:1500]
    row["caveats"] = _paras.caveats(head, cable.body, cable.low)


def _classified_by(row: dict[str, Any], cable: _Cable) -> None:
    """The Classified By line: who, their title, the E.O. section and the reason letters."""
    name, title, section, letters = _paras.classified_by(cable.body, cable.low)
    row["classified_by_name"], row["classified_by_title"] = name, title
    row["classification_reason_section"], row["classification_reasons"] = section, letters


def _references(row: dict[str, Any], cable: _Cable) -> None:
    """The REF items; a dump id that is one of the cable's own REFs gives way to the id of the text."""
    banner, year = cable.banner, cable.year
    row["references"] = _refs.parse_references(row["references_raw"], year, row["reference_id"])
    if row["reference_id_source"] == "metadata" and banner and banner.post and banner.serial and year is not None:
        # Some exports put a REF id in ``_id``: the dump's id is one of the cable's own references and the
        # banner serial says otherwise -> the text's id wins (85STATE323960 is BAGHDAD 3988).
        stated = row["reference_id"]
        serial = _serial(stated or "")
        refs_all = (
            _refs.parse_references(row["references_raw"], year)
            if serial and int(serial) != int(banner.serial) and row["references_raw"]
            else []
        )
        if any(r["reference_id"] == stated for r in refs_all):
            row["reference_id"], row["reference_id_source"] = _derived_id(banner, year), "derived"
            row["references"] = refs_all
            row["_problems"].append(f"reference_id: the dump's id {stated!r} is one of the cable's REFs; derived from the text")


def _body_fields(row: dict[str, Any], cable: _Cable) -> None:
    """The body: paragraphs and their portion marks, summary, comment, signature, redactions, partial extract."""
    b = cable.body
    plain = plain_spaces(b)  # read by the paragraphs, the summary and the comment
    paras = _paras.paragraphs(b, cable.banner.start if cable.banner is not None else 0, cable.lines, plain)
    row["paragraphs"] = paras
    # each mark once (a cable's marks repeat; every level has its own rank, so the order does not matter)
    levels = [lv for mark in {p["portion_mark"] for p in paras} if isinstance(mark, str)
              for lv in [_classif.mark_level(mark)] if lv]
    row["max_portion_level"] = max(levels, key=_classif.RANK.__getitem__) if levels else None
    row["summary"] = _paras.summary(b, cable.low, cable.lines, plain)
    row["comment"] = _paras.comment(b, cable.low, cable.lines, plain)
    row["signature"] = _paras.signature(b)
    row["redaction_count"] = _paras.redaction_count(b, cable.low)
    row["is_partial"] = cable.meta.get("partial") == "1" or _partial_notice(cable.header[:400])
    row["body_length"] = len(row["body"] or "")


def _origin_and_ids(row: dict[str, Any], cable: _Cable) -> None:
    """The originator's name as publishers write it, the canonical id and the PlusD id."""
    row["origin_name"] = _meta(cable.meta, "origin") or _ids.origin_name(row["origin"]) or _meta(cable.preamble, "origin")
    row["canonical_id"] = _ids.canonical_id(row["reference_id"])
    row["plusd_id"] = _ids.plusd_id(row["canonical_id"], row["reference_id"])


def _flags(row: dict[str, Any], level: str | None, meta_cls: str | None) -> None:
    """The consistency flags. The levels seen are gathered in one list (LIMITED OFFICIAL USE counted as
    UNCLASSIFIED inline, no call a level), and the id's year and serial read only when the DTG and the DE line
    give something to compare them with (per cable, in the hot path)."""
    word = row["security_word"]
    seen = [lv for lv in (_classif.meta_level(meta_cls) if meta_cls else None, level,
                          _header.SECURITY_WORD_LEVEL.get(word) if word else None, row["max_portion_level"]) if lv]
    row["flag_classification_mismatch"] = (
        len({"UNCLASSIFIED" if lv == "LIMITED OFFICIAL USE" else lv for lv in seen}) > 1 if len(seen) >= 2 else None
    )
    when = row["sent_at"]
    rid = row["canonical_id"] or ""
    if when is not None and row["sent_at_source"] == "dtg":
        id_m = _ID_YEAR.match(rid)
        row["flag_id_year_mismatch"] = (f"{when.year % 100:02d}" != id_m.group(1)) if id_m else None
    else:
        row["flag_id_year_mismatch"] = None
    de_serial = row["de_serial"]
    id_serial = _serial(rid) if de_serial else None
    row["flag_serial_mismatch"] = int(de_serial) != int(id_serial) if id_serial else None
    decl = row["decl_date"]
    if decl is not None and when is not None:
        d0 = when.date()
        row["flag_decl_before_dtg"] = decl <= d0
        try:
            limit = d0.replace(year=d0.year + 25)
        except ValueError:  # 29 February
            limit = d0.replace(year=d0.year + 25, day=28)
        row["flag_decl_over_25y"] = decl > limit
