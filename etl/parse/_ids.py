"""Reference ids: station canonicalization, malformed-id repair, PlusD id, publisher origin names."""

from __future__ import annotations

import re
from functools import lru_cache

from etl.parse._stations import repair_station

# Origins as written in REF lines / banners -> station as used in reference ids.
STATION_ALIASES = {
    "SECSTATE": "STATE", "SECSTATE WASHDC": "STATE", "STATE": "STATE", "SECTSTATE": "STATE", "DEPT": "STATE",
    "DEPARTMENT": "STATE", "RIO DE JAN": "RIODEJANEIRO", "RIO": "RIODEJANEIRO", "USUN": "USUNNEWYORK",
    "USUN NEW YORK": "USUNNEWYORK", "USUN NY": "USUNNEWYORK", "USMISSION USUN NEW YORK": "USUNNEWYORK",
    "USNATO": "USNATO", "HAGUE": "THEHAGUE", "THE HAGUE": "THEHAGUE", "USEU": "USEUBRUSSELS", "USEU BRUSSELS": "USEUBRUSSELS", "UNVIE": "UNVIEVIENNA",
    "UNVIE VIENNA": "UNVIEVIENNA", "USVIENNA": "UNVIEVIENNA", "PAUP": "PORTAUPRINCE", "PORT AU PRINCE": "PORTAUPRINCE",
    "HCMC": "HOCHIMINHCITY", "HO CHI MINH CITY": "HOCHIMINHCITY", "BA": "BUENOSAIRES", "SAO PAULO": "SAOPAULO",
    "TAIPEI": "AITTAIPEI", "AIT TAIPEI": "AITTAIPEI", "SECDEF": "SECDEF", "USOSCE": "USOSCE",
    "GENEVA": "GENEVA", "MISSION GENEVA": "GENEVA", "USMISSION GENEVA": "GENEVA", "KUWAIT CITY": "KUWAIT",
    "PORT OF SPAIN": "PORTOFSPAIN", "TEL AVIV": "TELAVIV", "PORT-OF-SPAIN": "PORTOFSPAIN", "CIUDAD JUAREZ": "CIUDADJUAREZ",
}
_STATION_OK = re.compile(r"^[A-Z]{2,20}$")


def canonical_station(origin: str) -> str | None:
    """``SECSTATE`` -> STATE, ``RIO DE JAN`` -> RIODEJANEIRO, ``LA PAZ`` -> LAPAZ; None if not a station."""
    o = " ".join(origin.upper().replace("-", " ").split())
    if o in STATION_ALIASES:
        return STATION_ALIASES[o]
    for prefix in ("AMEMBASSY ", "AMCONSUL ", "AMCONGEN ", "USMISSION ", "USINT "):
        if o.startswith(prefix):
            o = o[len(prefix):]
    o = o.replace(" ", "").replace("'", "").replace(".", "")
    if o in STATION_ALIASES:
        return STATION_ALIASES[o]
    return o if _STATION_OK.match(o) else None


# Known malformed Cablegate ids (from the release) -> canonical; generic rules below catch the families.
MALFORMED = {
    "07SOIA828": "07SOFIA828",
    "85NOFORNMOGADISHU1643": "85MOGADISHU1643",
    "7575LIBREVILLE1895": "75LIBREVILLE1895",
}
_PLUSD_ID = re.compile(r"^(?P<yyyy>(?:19|20)\d\d)(?P<station>[A-Z]+?)(?P<serial>\d{1,8})(?:_[A-Z0-9]+)?$")
_ID = re.compile(r"^(?P<yy>\d{2})(?P<station>[A-Z][A-Z\-]*?)(?P<serial>\d{1,7})$")
# A section marker glued in after the year, spelt any way: 08SECTION01OF02MANAMA492, 07SETION02OF02BAKU1501,
# 08ECTION01OF02MANAMA492 (letters, then NNOFNN: no station name holds digits).
_GARBLED_SECTION = re.compile(r"(?<=^\d\d)[A-Z]{2,9}\d{1,2}OF\d{1,2}(?=[A-Z])")
# A teletype marker after the serial: an operating signal with a duplicate number (06MADRID002583ZFR2585,
# ZDK, ZFF), a TOSEC/SECTO number (90STATE255577TOSEC140323) -> the id ends at the first serial. Other text
# after the serial (``03MOSCOW5349ANDMORE``) is not repaired: the id stays malformed.
_TRAILING_MARKER = re.compile(r"^(\d{2}[A-Z][A-Z\-]*?\d{1,7})(?:Z[A-Z]{2}\d*|TOSEC\d+|SECTO\d+)$")
_JUNK_IN_ID = re.compile(r"S(?:E)?CTION\d{1,2}OF\d{1,2}|^(?:NOFORN|EFTO|SIPDIS|AMEMBASSY|AMCONSUL|USMISSION|CONFIDENTIAL|SECRET|UNCLAS)")
_STATION_FIX = {"SECTSTATE": "STATE", "SECSTATE": "STATE", "PAUP": "PORTAUPRINCE", "BA": "BUENOSAIRES",
                "PORT-OF-SPAIN": "PORTOFSPAIN", "TAIPEI": "AITTAIPEI", "USUN": "USUNNEWYORK"}


_SPACES = re.compile(r"\s+")
_DOUBLED_YEAR = re.compile(r"^(\d{2})\1(?=[A-Z])")
_PLUSD_AS_PUBLISHED = re.compile(r"^\d{4}[A-Z]+\d+_[a-z]$")


_PLAIN_ID = re.compile(r"([0-9]{2})([A-Z]+)([0-9]{1,7})")
"""An id of two year digits, letters and a serial of at most seven digits (``07MOSCOW5349``; most ids): no rule of
:func:`canonical_id` but the station's repairs applies to it (a PlusD or doubled year has four digits in front,
a section or teletype marker letters after digits), its _ID groups are these."""


def canonical_id(ref: str | None) -> str | None:
    """Canonical reference id: known malformed forms repaired (``08SECTION01OF02MANAMA492`` -> 08MANAMA492)."""
    if not ref:
        return None
    rid = ref.upper()
    plain = _PLAIN_ID.fullmatch(rid)
    if plain and rid not in MALFORMED:  # only the station repaired (the rules below would find nothing else)
        station = _id_station(plain.group(2))
        return f"{plain.group(1)}{station}{int(plain.group(3))}" if station else rid
    return _canonical_by_rules(rid)


def _canonical_by_rules(rid: str) -> str:
    """:func:`canonical_id` of an upper-cased id, rule by rule."""
    if not rid.isalnum():  # (no blank in a letters-and-digits id)
        rid = _SPACES.sub("", rid)
    plusd = _PLUSD_ID.match(rid)  # 1974ATHENS02959_b -> 74ATHENS2959 (PlusD truncates long posts to 5 letters)
    if plusd:
        return f"{plusd.group('yyyy')[2:]}{plusd.group('station')}{int(plusd.group('serial'))}"
    if rid in MALFORMED:
        return MALFORMED[rid]
    m = _DOUBLED_YEAR.match(rid)  # 7575LIBREVILLE1895
    if m:
        rid = rid[2:]
    garbled = _GARBLED_SECTION.match(rid, 2) if "OF" in rid else None  # (every match holds OF; its only place:
    if garbled:                                                          # after the two digits of the year)
        rid = rid[:2] + rid[garbled.end():]
    dup = _TRAILING_MARKER.match(rid) if _marker_tail(rid) else None
    if dup:
        rid = dup.group(1)
    m2 = _ID.match(rid)
    if not m2:
        return rid
    station = _id_station(m2.group("station"))
    return f"{m2.group('yy')}{station}{int(m2.group('serial'))}" if station else rid


def _marker_tail(rid: str) -> bool:
    """``rid`` may end in a _TRAILING_MARKER marker: its last letters (the digits after them dropped) are ``Z``
    and two more, TOSEC or SECTO; an id that is not ASCII is always tried (``\\d`` matches more digits)."""
    if not rid.isascii():
        return True
    tail = rid.rstrip("0123456789")
    return tail[-3:-2] == "Z" or tail.endswith(("TOSEC", "SECTO"))


@lru_cache(maxsize=4096)
def _id_station(station: str) -> str:
    """The station of an id as read (``_ID``'s group), cleaned of glued junk and repaired (cached: the posts
    repeat from cable to cable)."""
    prev = None
    while prev != station:
        prev = station
        station = _JUNK_IN_ID.sub("", station)
    return repair_station(_STATION_FIX.get(station, station).replace("-", ""))


def plusd_id(canonical: str | None, meta_id: str | None = None) -> str | None:
    """PlusD canonical id: a PlusD id as published (``1974ATHENS02959_b``), else ``<cablegate id>_a``."""
    if meta_id and _PLUSD_AS_PUBLISHED.match(meta_id):
        return meta_id
    return f"{canonical}_a" if canonical else None


# ----------------------------------------------------------------------------- origin names
_SPECIAL_ORIGINS = {
    "SECSTATE WASHDC": "Secretary of State", "SECSTATE": "Secretary of State",
    "USMISSION USUN NEW YORK": "USUN New York", "USUN NEW YORK": "USUN New York",
    "USMISSION UNVIE VIENNA": "UNVIE", "USMISSION USNATO": "Mission USNATO", "USNATO": "Mission USNATO",
    "USEU BRUSSELS": "USEU Brussels", "AIT TAIPEI": "American Institute Taiwan, Taipei",
    "USLO TRIPOLI": "Embassy Tripoli", "RPO DUBAI": "Iran RPO Dubai", "USDEL SECRETARY": "US Delegation, Secretary",
    "SECDEF WASHDC": "Secretary of Defense", "USOSCE": "Mission USOSCE", "USMISSION USOSCE": "Mission USOSCE",
}
_PREFIX_NAMES = (
    ("AMEMBASSY ", "Embassy "), ("AMCONSUL ", "Consulate "), ("AMCONGEN ", "Consulate "),
    ("USINT ", "US Interests Section "), ("USMISSION ", "Mission "), ("USDEL ", "US Delegation "),
    ("USOFFICE ", "US Office "), ("AIT ", "American Institute Taiwan, "), ("REO ", "REO "), ("RPO ", "RPO "),
)
def _title(words: str) -> str:
    """The publisher's capitalisation: every word and hyphen part capitalised, particles too
    (``Consulate Rio De Janeiro``, ``Embassy Dar Es Salaam``, ``Embassy Port-Au-Prince``)."""
    return " ".join("-".join(p[:1].upper() + p[1:] for p in w.split("-")) for w in words.lower().split())


_FM_PRECEDENCE_AND_MCN = re.compile(r"[ \t]+(?:IMMEDIATE|PRIORITY|ROUTINE|NIACT IMMEDIATE|FLASH)(?:[ \t]+\d+)?$")
"""The precedence (and message number) that ends an FM line: not part of the originator's name."""


def origin_name(fm: str | None) -> str | None:
    """Publisher form of an FM line: AMEMBASSY MOSCOW -> Embassy Moscow, SECSTATE WASHDC -> Secretary of State."""
    if not fm:
        return None
    f = " ".join(fm.upper().split())
    f = _FM_PRECEDENCE_AND_MCN.sub("", f)
    if f in _SPECIAL_ORIGINS:
        return _SPECIAL_ORIGINS[f]
    for prefix, name in _PREFIX_NAMES:
        if f.startswith(prefix):
            rest = f[len(prefix):]
            if prefix == "USMISSION " and rest.startswith("US"):
                return "Mission " + rest.split()[0] + ((" " + _title(" ".join(rest.split()[1:]))) if len(rest.split()) > 1 else "")
            return name + _title(rest)
    return _title(f)


_FM_PRECEDENCE_ON = re.compile(r"[ \t]+(?:FLASH|NIACT[ \t]+IMMEDIATE|IMMEDIATE|PRIORITY|ROUTINE)\b.*$")
"""The precedence of an FM line and everything after it."""


_WASHINGTON_DC = re.compile(r"[ \t]+WASH(?:INGTON)?[ \t]*DC$|[ \t]+WASHDC$")
"""The city after a Washington originator (``SECSTATE WASHDC``)."""


def id_from_routing(post: str | None, fm: str | None, de_serial: str | None, year: int | None) -> str | None:
    """The id of a cable whose banner lost its serial (``C O N F I D E N T I A L SECTION 01 OF 02 TEL AVIV``,
    a banner wrapped over two lines, no banner at all): the DE line's serial (``DE RUEHTV #4032/01 2851507``,
    the originator's own message number) with the banner's post, else the FM line's post, and the DTG year."""
    if de_serial is None or year is None:
        return None
    station = canonical_station(post) if post else None
    if station is None and fm:
        f = _FM_PRECEDENCE_ON.sub("", fm.upper())
        f = _WASHINGTON_DC.sub("", f.strip())
        station = canonical_station(f)
    if station is None or station == "STATE":  # the DE line keeps 4 digits: STATE 049854 is "#9854"
        return None
    return f"{year % 100:02d}{station}{int(de_serial)}"
