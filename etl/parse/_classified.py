"""The Classified By line: who classified the cable (name and title) and the reasons (E.O. section, letters).

``Classified By: Acting Deputy Chief of Mission Marc Wall for Reasons 1.4 (b) and (d)`` ->
(``Marc Wall``, ``Acting Deputy Chief of Mission``, ``1.4``, ``[b, d]``).

The rules, general over the ways drafters wrote the line:

* **Title words are not the name.** The name is read backwards from the end of the "who" part: surname (and
  ``Jr.``/``III``), middle initials, a given name, a leading initial (``F. Daniel Sainz``) or a second given
  name (``Mary Grace McGeehan``) only right after a title or at the start. A word is a title word when it is
  a known title, rank, office or bureau word, a near miss of a long one (edit distance: ``Ambassaor``,
  ``Counsleor``, ``Direcotr``, ``AMBASSAD0R``), an office abbreviation (``A/DCM``, ``PolMinCouns``, ``ARSO``).
* **Reasons** start at a reason word, also misspelt or broken by the wrap (``Reasons``, ``Resons``, ``Re asons``),
  at ``E.O. 12958``, or at the section itself with the word before it (``under 1.4``, ``per 1.5``, ``based on``,
  ``due to 1,4``).
* **The publisher's wrap**: cablegate pages re-wrap the line at 71 characters, mid-word; the broken line keeps
  its trailing space and no space opens the next line (``...Hoyt Y `` / ``ee for reasons``): such a break is
  joined. A break between words puts the space at the start of the next line (``1.4`` / `` (b)``).
"""

from __future__ import annotations

import re
from functools import lru_cache

CLASSIFIED_BY = re.compile(r"(?<![A-Za-z])CLASS?I?FI?E?D[ \t]+BY[ \t]*[:;.]?[ \t]*", re.I)
"""``Classified By:`` (also ``Classfied By:``)."""

# Where the "who" part ends and the reasons begin: a reason word (or the section's E.O.) at a word start, or the
# section itself, with the punctuation and blanks before it.
_REASON_WORD_ALTS = r"""
        \b(?:for[ \t]+|fr[ \t]+|f0r[ \t]+|per[ \t]+|under[ \t]+|based[ \t]+(?:up)?[o0]n[ \t]+|due[ \t]+to[ \t]+)*
          (?:re[ \t]?a?[ \t]?s[ \t]?o?[ \t]?n[ \t]?s?|rea?s0ns?|reaons?|resons?|rasons?|reas\b)(?:\(s\))?\b  # Reason(s), Resons, Re asons
      | \b(?:for[ \t]+|per[ \t]+|under[ \t]+|based[ \t]+(?:up)?[o0]n[ \t]+|due[ \t]+to[ \t]+)+
          (?=(?:section[ \t]+|se[ \t]?ction[ \t]+|e\.?[ \t]?o\.?[ \t]*)?(?:12958|1[ \t]*[.,][ \t]*\d))   # under 1.4, per E.O.
      | \bE\.?[ \t]?O\.?[ \t]*1[23]\d{3}                                                # E.O. 12958
"""
REASON_START = re.compile(
    r"[,;:.\-]?[ \t]*(?:" + _REASON_WORD_ALTS + r"""
      | (?<![\d.])1[ \t]*[.,][ \t]*[2-6](?!\d)                                          # the section: 1.4, 1,4
    )""",
    re.I | re.X,
)
_REASON_WORDS = re.compile(r"\b(?=[fpubdre])(?:" + _REASON_WORD_ALTS + ")", re.I | re.X)
"""REASON_START's word alternatives alone, at a word start whose letter opens one of them (f, p, u, b, d, r, E)."""
_REASON_SECTION = re.compile(r"1(?<![\d.]1)[ \t]*[.,][ \t]*[2-6](?!\d)")
"""REASON_START's section alternative alone, written literal first (its look-behind after the ``1``)."""
_REASON_LEAD = ",;:.-"
"""The punctuation REASON_START may take before its blanks."""


def reason_start(text: str) -> re.Match[str] | None:
    """``REASON_START.search(text)``. The pattern opens with optional punctuation and blanks, so the engine enters
    all four alternatives at every character; instead the first place where one of them matches is found by two
    cheaper searches (the word alternatives only at word starts with their letters, the section by its literal
    ``1``), and the pattern is matched once, from the punctuation and blanks before that place: no earlier match
    exists (a match's alternative starts right after its punctuation and blanks, at a letter or a ``1``)."""
    w = _REASON_WORDS.search(text)
    s = _REASON_SECTION.search(text)
    if w is None:
        if s is None:
            return None
        at = s.start()
    else:
        at = w.start() if s is None else min(w.start(), s.start())
    while at > 0 and text[at - 1] in " \t":
        at -= 1
    if at > 0 and text[at - 1] in _REASON_LEAD:
        at -= 1
    return REASON_START.match(text, at)


def reason_stated(line: str) -> bool:
    """``REASON_START.search(line)`` finds something: one of its alternatives matches somewhere (see
    :func:`reason_start`)."""
    return _REASON_WORDS.search(line) is not None or _REASON_SECTION.search(line) is not None


_SECTION = re.compile(r"1(?<![\d.]1)[ \t]*[.,][ \t]*(?P<s>[45])(?!\d)")
"""The E.O. section 1.4 / 1.5 (``1`` first, its look-behind after it: a pattern that opens with a look-behind is
tried at every character, one that opens with a literal is scanned for)."""
_LETTER = re.compile(r"(?<![A-Za-z])([a-hA-H])(?![A-Za-z])")
_WRAP_WIDTH = (70, 71, 72)
_WHOLE_WORD_OPENS = re.compile(r"(?:for|per|and|under|based|due|reasons?|e\.o\.)\b", re.I)
"""A line opening with one of these words starts a word (``SHARON WIENER`` / ``FOR REASONS``)."""
"""Line widths of the publisher's re-wrap (71 characters, +-1 for a trailing character)."""

TITLE_WORDS = frozenset("""
AMBASSADOR AMB AMBASSADOR-AT-LARGE CHARGE CHARGE' D'AFFAIRES D'AFFAIRS AFFAIRES AFFAIRS A.I. AI A.I CDA DCM ADCM COM
DEPUTY CHIEF MISSION POLITICAL ECONOMIC POL ECON POLOFF ECONOFF POLCOUNS ECONCOUNS POLMINCOUNS ECONMINCOUNS MINCOUNS
POLMIN ECMIN EMIN ECONMIN POLMINCONS POLCOUN POL-MIL POLMIL COUNSELOR COUNSELLOR COUNSELOUR COUNSEL COUNS COUN
COUNCILOR MINISTER MINISTER-COUNSELOR MINISTER-COUNSELLOR MCOUNSELOR MC M/C M-C MIN OFFICER OFFICE OFF SECTION
HEAD UNIT TEAM LEADER ACTING CONSUL CONSUL-GENERAL GENERAL CONGEN CG DPO PO PRINCIPAL DIRECTOR DIR ASSISTANT
SECRETARY UNDER DEPARTMENT STATE PUBLIC DIPLOMACY MANAGEMENT MILITARY DEFENSE ATTACHE LEGAL LEGATT RSO ARSO
REGIONAL SECURITY EXECUTIVE SPECIAL ENVOY REPRESENTATIVE PERMANENT COORDINATOR ADVISOR ADVISER CONSULAR PAO PA
LABOR AGRICULTURAL COMMERCIAL INTERNATIONAL NARCOTICS LAW ENFORCEMENT MEMBER CHAIRMAN CHAIR DAS PDAS A/S U/S S/S
CONOFF ECOPOL POLECON ECONPOL POL/ECON POL-ECON POL/ECONOFF E/P P/E A/DCM A/POLCOUNS DELEGATE DELEGATION ARMS CONTROL
INTERAGENCY PROVINCIAL GOVERNANCE ANALYST ECONOMICAL TDY PRT AIT USEU USUN USNATO USOSCE UNVIE USDEL IPO ECPO
MISSION EMBASSY CONSULATE DEPT U.S. US ISN NEA EUR WHA AF EAP SCA IO INR DRL PRM OES EEB EB CT S/CT VCI PM INL
LTC LTCOL COL MAJ CAPT GEN LT CDR RADM ADM VADM BG MG SGT MSGT CMDR COMMANDER
EST&H ESTH PUBLIC-AFFAIRS CLASSIFICATION GUIDE MESSAGE THIS CLASSIFIED BY
""".split())
_CONNECTORS = frozenset("FOR OF TO AND IN AT THE ON & A AN BY WITH FROM AS OR - -- ? / PER UNDER".split())
_SUFFIXES = frozenset({"JR", "SR", "II", "III", "IV"})
_PARTICLES = frozenset({"van", "von", "de", "della", "del", "da", "di", "le", "la", "bin", "al", "der", "du"})
_CAMEL_PART = re.compile(r"[A-Z][a-z]{1,5}")
_CAMEL_TITLE_PARTS = frozenset("POL ECON EC ECO CON GEN PERM REP MIN COUNS CONS COUN OFF DEP CHIEF MIL AMB MGMT PUB "
                               "COMM AG DIR ADMIN".split())
"""Parts of a camel-case office abbreviation: ``PolMinCouns``, ``ConGen``, ``PermRep`` (not ``JoAnne``,
``FitzGibbon``, ``McNerney``)."""
_INITIALS = re.compile(r"^(?:[A-Z]\.?|(?:[A-Z]\.){2,3}[A-Z]?)$")
_NEAR_TITLES_BY_LETTER: dict[str, tuple[str, ...]] = {}
for _t in sorted(w for w in TITLE_WORDS if len(w) >= 5 and w.isalpha()):
    _NEAR_TITLES_BY_LETTER[_t[0]] = (*_NEAR_TITLES_BY_LETTER.get(_t[0], ()), _t)
_TITLE_LETTERS = {t: frozenset(t) for near in _NEAR_TITLES_BY_LETTER.values() for t in near}
"""The letters of each near-title word (see :func:`_near_title`)."""
_PAREN = re.compile(r"\([^)]{0,20}\)")
_A_I = re.compile(r"a(?<![A-Za-z]a)\.?[ \t]?i\.?(?![A-Za-z])")
# A title glued to the name by a colon or slash: AMB:RCROCKER, Acting DCM/Ted Osius (not Pol/Econ, A/DCM).
_GLUED_NAME = re.compile(r"(?<=[A-Za-z])(?P<sep>:(?=[A-Z])|/(?=[A-Z][a-z]+\b))(?P<right>(?<=:)[A-Z][A-Za-z]*|(?<=/)[A-Z][a-z]+)")
_SENTENCE_END = re.compile(r"(?<=[a-z]{2})\.[ \t]+(?=[A-Z])")
_LEADING_NOISE = re.compile(
    r"^(?:[ \t]*(?:\(U\)|\d{1,2}\.|classified[ \t]+by[ \t]*[:;]?|classfied[ \t]+by[ \t]*:?|this[ \t]+message"
    r"(?:[ \t]+is)?))+[ \t]*",
    re.I,
)


def osa_distance(a: str, b: str, limit: int = 3) -> int:
    """Edit distance with adjacent transpositions (``Direcotr`` -> ``Director`` is 1); ``limit`` when larger."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit:
            return limit
        prev2, prev = prev, cur
    return min(prev[-1], limit)


@lru_cache(maxsize=8192)
def _near_title(word: str) -> bool:
    """A misspelt long title word (``Ambassaor``, ``AMBSSADOR``, ``Counsleor``, ``CIEF``, ``AMBASSAD0R``): within
    edit distance 1 (2 from 8 letters) of a title word with the same first letter (cached: names and titles
    repeat from cable to cable)."""
    w = word.replace("0", "O")
    if w in TITLE_WORDS:
        return True
    if len(w) < 4:
        return False
    if len(w) < 8:  # one edit allowed: checked in one pass, without the distance table
        return any(one_edit(w, t) for t in _NEAR_TITLES_BY_LETTER.get(w[0], ()) if abs(len(t) - len(w)) <= 1)
    # an edit takes at most one letter out of a word's set and puts at most one in: a title whose letters and
    # the word's differ by more than two either way is more than two edits away (no distance table needed)
    letters = set(w)
    return any(osa_distance(w, t, 3) <= 2 for t in _NEAR_TITLES_BY_LETTER.get(w[0], ())
               if abs(len(t) - len(w)) <= 2 and len(letters - _TITLE_LETTERS[t]) <= 2
               and len(_TITLE_LETTERS[t] - letters) <= 2)


def one_edit(a: str, b: str) -> bool:
    """``osa_distance(a, b) <= 1``: equal, or one substitution, insertion, deletion or swap of neighbours apart."""
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) <= 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                   and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if len(a) < len(b):
        a, b = b, a
    if len(a) != len(b) + 1:
        return False
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), len(b))  # noqa: B905 - b is one shorter
    return a[i + 1:] == b[i:]


@lru_cache(maxsize=16384)
def is_title(token: str, mixed_case: bool) -> bool:
    """A title, rank, office or bureau word (or an abbreviation or misspelling of one)."""
    bare = token.strip(".,;:'\"-")
    if not bare:
        return True
    up = bare.upper()
    if up in TITLE_WORDS or up.rstrip(".") in TITLE_WORDS or "/" in bare or "&" in bare:
        return True
    if "-" in up and all(p in TITLE_WORDS or _near_title(p) for p in up.split("-") if p):
        return True
    if mixed_case and bare.isupper() and bare.isalpha() and 2 <= len(bare) <= 5:
        return True  # an office acronym in a mixed-case line: ARSO, ECPO, IPO
    parts = _CAMEL_PART.findall(bare)
    if len(parts) >= 2 and "".join(parts) == bare and any(x.upper() in _CAMEL_TITLE_PARTS for x in parts):
        return True
    plain = up.replace("'", "").replace("0", "O")
    if bare[:1].isupper() and plain.isalpha() and _near_title(plain):
        return True
    return False


def _is_suffix(token: str) -> bool:
    return token.strip(" .,").upper() in _SUFFIXES


_NAME_WORD = re.compile(r"^[A-Za-z][A-Za-z'\-.0]*$")
_INITIAL = re.compile(r"^[A-Z]\.$")
_WHO_SEP = re.compile(r"[,;]")


def _name_like(token: str, mixed_case: bool) -> bool:
    bare = token.strip(".,;:\"")
    if not bare or not bare[0].isalpha():
        return False
    if mixed_case and bare[0].islower():
        return False
    return bool(_NAME_WORD.match(bare)) or set(bare) == {"X"}


def _connector(token: str) -> bool:
    return token.strip(".,;:").upper() in _CONNECTORS


def _has_lower(text: str) -> bool:
    """A lower-case letter in ``text`` (ASCII text: it changes when upper-cased, one C call instead of a loop)."""
    return text != text.upper() if text.isascii() else any(c.islower() for c in text)


def _has_upper(text: str) -> bool:
    """An upper-case letter in ``text`` (see :func:`_has_lower`)."""
    return text != text.lower() if text.isascii() else any(c.isupper() for c in text)


def name_of(segment: str, mixed_case: bool) -> tuple[str | None, int]:
    """The personal name at the end of ``segment`` and the token index where it starts."""
    tokens = segment.split()
    if mixed_case and not _has_upper(segment):  # an all-lower-case name (``kathy schleigh, OMS``)
        if len(tokens) < 2 or any(len(t) < 2 for t in tokens):
            return None, 0
        mixed_case = False
    if mixed_case and not _has_lower(segment):
        mixed_case = False
    if mixed_case:  # an all-caps name after mixed-case titles (``Acting E/P CIEF JEFF ZAISER``)
        tail = tokens[-3:]
        if all(t.isupper() or not t.isalpha() for t in tail):
            mixed_case = False
    tokens = _glue_fragments(tokens) if mixed_case else tokens
    end = len(tokens)
    # trailing words that cannot end a name: lower-case fragments, connectors, numbers, titles (``..., ACTING``)
    while end and (not _name_like(tokens[end - 1], mixed_case) or _connector(tokens[end - 1])
                   or (is_title(tokens[end - 1], mixed_case) and not _is_suffix(tokens[end - 1]))):
        if end >= 2 and _name_like(tokens[end - 1], mixed_case) and _INITIAL.match(tokens[end - 2]):
            break  # Damian R. Leader: a title word after an initial is the surname
        end -= 1
    i = end
    while i and _is_suffix(tokens[i - 1]):
        i -= 1
    if not i or not _name_like(tokens[i - 1], mixed_case) or _INITIALS.match(tokens[i - 1].strip(",")):
        return None, end
    i -= 1  # the surname
    while i and _INITIALS.match(tokens[i - 1].strip(",")) and not is_title(tokens[i - 1], mixed_case):
        i -= 1  # middle initials
    while i and tokens[i - 1] in _PARTICLES:  # Carol van Voorst, Claire van der Berg
        i -= 1
    given = i and _name_like(tokens[i - 1], mixed_case) and not is_title(tokens[i - 1], mixed_case) \
        and not _connector(tokens[i - 1]) and not _INITIALS.match(tokens[i - 1])
    if given:
        i -= 1

        def opens(k: int) -> bool:  # the name may start at token k: a title, punctuation or the start before it
            return k == 0 or tokens[k - 1].endswith((":", ",", "-")) or tokens[k - 1] in ("-", "?") or (
                is_title(tokens[k - 1], mixed_case) and not _connector(tokens[k - 1]))

        if i and _INITIALS.match(tokens[i - 1]) and not is_title(tokens[i - 1], mixed_case) and opens(i - 1):
            i -= 1  # F. Daniel Sainz
        elif (i and _name_like(tokens[i - 1], mixed_case) and not is_title(tokens[i - 1], mixed_case)
              and not _connector(tokens[i - 1]) and opens(i - 1)):
            i -= 1  # Mary Grace McGeehan
    return " ".join(tokens[i:end]).strip(" ,;:-") or None, i


def _glue_fragments(tokens: list[str]) -> list[str]:
    """``Dona ld A. Blome`` -> ``Donald A. Blome``: a short lower-case fragment inside a mixed-case name."""
    out: list[str] = []
    for k, t in enumerate(tokens):
        nxt = tokens[k + 1] if k + 1 < len(tokens) else ""
        if (out and t.isalpha() and t.islower() and len(t) <= 4 and t not in _PARTICLES and t.upper() not in _CONNECTORS
                and out[-1].isalpha()
                and out[-1][:1].isupper() and nxt[:1].isupper()):
            out[-1] += t
        else:
            out.append(t)
    return out


def _unwrap(chunk: str, offset: int = 0) -> str:
    """Join the lines of the publisher's 71-character re-wrap that broke a word (no space opens the next line).
    ``offset``: the characters of the first line before ``chunk`` (``Classified By: ``)."""
    if "\n" not in chunk:
        return chunk
    lines = chunk.split("\n")
    out = lines[0]
    for k, (prev, line) in enumerate(zip(lines, lines[1:], strict=False)):
        width = len(prev.rstrip()) + (offset if k == 0 else 0)
        if (width in _WRAP_WIDTH and prev.endswith(" ") and line[:1].isalpha() and prev.rstrip()[-1:].isalpha()
                and not _WHOLE_WORD_OPENS.match(line)):
            out = out.rstrip() + line
        else:
            out += "\n" + line
    return out


@lru_cache(maxsize=4096)
def split_who(who: str) -> tuple[str | None, str | None]:
    """(name, title) of the "who" part of a Classified By line."""
    who = _PAREN.sub(" ", who.replace("\\", ""))
    who = _A_I.sub(lambda m: " " + m.group(0).replace(" ", "") + " ", who)  # "a. i." -> one token
    if ":" in who or "/" in who:  # (every _GLUED_NAME match holds one)
        who = _GLUED_NAME.sub(lambda m: m.group(0) if is_title(m.group("right"), True) else m.group("sep") + " " + m.group("right"),
                             who)
    mixed = _has_lower(who)
    cut = next((m for m in _SENTENCE_END.finditer(who)
                if not is_title(who[: m.start()].split()[-1], mixed)), None) if "." in who else None
    if cut:
        who = who[: cut.start()]
    who = who.strip(" ,;:.-")
    if not who:
        return None, None
    segments = _WHO_SEP.split(who)
    for k, seg in enumerate(segments):
        name, start = name_of(seg, mixed)
        if name is None:
            continue
        given = segments[k + 1].split() if k + 1 < len(segments) else []
        if (seg.split() == [name] and 1 <= len(given) <= 2 and not _is_suffix(segments[k + 1])
                and all(_name_like(g, False) and not is_title(g, mixed) for g in given)):
            name += ", " + " ".join(given)  # Martinez, Vilma, Ambassador (surname first)
            segments[k + 1] = ""
        elif k + 1 < len(segments) and _is_suffix(segments[k + 1]):  # THOMAS W. SIMONS, JR.
            name += ", " + segments[k + 1].strip()
            if not name.endswith("."):
                name += "." if segments[k + 1].strip().upper().startswith(("JR", "SR")) else ""
        before = " ".join(seg.split()[:start])
        parts = segments[:k] + ([before] if before else []) + segments[k + 1 + (name.count(",") > 0):]
        title = ", ".join(" ".join(p.split()) for p in parts if p.strip()).strip(" ,;:-") or None
        return name, title
    return None, who


_REASON_WORD = re.compile(r"REASONS?\b[ \t:]*", re.I)
"""The word REASON(S) before the reason letters when no section (1.4) is given."""


_AND_BROKEN_BY_WRAP = re.compile(r"\bA ND\b|\bAN D\b", re.I)
"""AND broken by a line wrap (``(B) A\\nND (D)``)."""


_REASONS_END = re.compile(r"\.(?:\s|$)|\bE\.?O\b")
"""Where the reason letters end: the end of a sentence or the E.O. number."""


_JUNIOR_SENIOR = re.compile(r"\b(?:Jr|JR|Sr|SR)$")
"""A name ending in Jr/Sr, whose period was taken for the end of a sentence."""


def parse_line(chunk: str, offset: int = 0) -> tuple[str | None, str | None, str | None, list[str]]:
    """(name, title, section, letters) of the text after ``Classified By`` (``offset`` characters into its line)."""
    chunk = " ".join(_unwrap(chunk, offset).split())
    chunk = _LEADING_NOISE.sub("", chunk)
    r = reason_start(chunk)
    who = chunk[: r.start()] if r else chunk[:120]
    reasons = chunk[r.start():] if r else ""
    sec = _SECTION.search(reasons)
    section = f"1.{sec.group('s')}" if sec else None
    letters: list[str] = []
    rs = sec or _REASON_WORD.search(reasons)
    if rs:
        tail = reasons[rs.end():rs.end() + 40]
        tail = _AND_BROKEN_BY_WRAP.sub("AND", tail)  # "(B) A\nND (D)": a word broken by the wrap
        tail = _REASONS_END.split(tail)[0]
        for x in _LETTER.findall(tail):
            x = x.lower()
            if x not in letters:
                letters.append(x)
    name, title = split_who(who.strip(" ,;:.-"))
    if name and name.endswith(("r", "R")) and _JUNIOR_SENIOR.search(name):  # the period of "Jr." was taken for the end of a sentence
        name += "."
    if name and len(name.split()) > 6:
        return None, who.strip() or None, section, letters
    return name, title, section, letters
