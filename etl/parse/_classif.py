"""Classification banners, levels and their normalization."""

from __future__ import annotations

import re
from functools import lru_cache

_SPACED = re.compile(r"(?<![A-Za-z])(?:[A-Za-z] ){2,}[A-Za-z](?![A-Za-z])")

# A banner level at the start of a line, spaced or not, any case (``S e c r e t state 068250``).
LEVEL = (
    r"(?:T ?O ?P[ \t]+S ?E ?C ?R ?E ?T|S ?E ?C ?R ?E ?T|E C R E T|O N F I D E N T I A L|NCLAS(?:SIFIED)?|C ?O ?N ?F ?I ?D ?E ?N ?T ?I ?A ?L"
    r"|(?:U ?)?U ?N ?C ?L ?A ?S(?: ?S ?I ?F ?I ?E ?D)?|L ?I ?M ?I ?T ?E ?D[ \t]+O ?F ?F ?I ?C ?I ?A ?L[ \t]+U ?S ?E"
    r"|S ?E ?N ?S ?I ?T ?I ?V ?E[ \t]+B ?U ?T[ \t]+U ?N ?C ?L ?A ?S ?S ?I ?F ?I ?E ?D)(?![A-Za-z])"
)
LEVEL_RE = re.compile(LEVEL, re.I)

RANK = {"UNCLASSIFIED": 0, "LIMITED OFFICIAL USE": 1, "CONFIDENTIAL": 2, "SECRET": 3, "TOP SECRET": 4}


_SPACED_HINT = re.compile(r" [A-Za-z] [A-Za-z](?![A-Za-z])")
"""The last two letters of a letter-spaced run: every _SPACED match holds them (a literal-prefix scan, far cheaper
than _SPACED, whose look-behind is tried at every character)."""


def _join_letters(m: re.Match[str]) -> str:
    return m.group(0).replace(" ", "")


def despace(text: str) -> str:
    """``C O N F I D E N T I A L MOSCOW`` -> ``CONFIDENTIAL MOSCOW`` (only letter-spaced runs)."""
    hint = _SPACED_HINT.search(text)
    if hint is None:
        return text
    # A run never spans a line (and a line break is no letter for the look-arounds): only the lines holding
    # a hint are rewritten.
    out: list[str] = []
    done = 0
    while hint is not None:
        start = text.rfind("\n", 0, hint.start()) + 1
        end = text.find("\n", hint.end())
        end = len(text) if end < 0 else end
        out += (text[done:start], _SPACED.sub(_join_letters, text[start:end]))
        done = end
        hint = _SPACED_HINT.search(text, end)
    out.append(text[done:])
    return "".join(out)


_BLANKS = re.compile(r"[ \t]+")
_MARK_SEP = re.compile(r"[/ -]")


@lru_cache(maxsize=1024)
def level_of(text: str) -> str | None:
    """Normalized level named at the start of ``text`` (a banner), or None (cached: a banner's level is
    written a dozen ways across a whole dump)."""
    m = LEVEL_RE.match(text.strip())
    if not m:
        return None
    word = _BLANKS.sub(" ", despace(m.group(0))).upper()
    word = word.replace(" ", "") if word.replace(" ", "") in ("TOPSECRET",) else word
    if word.startswith("UU"):  # a doubled first letter: UUNCLAS
        word = word[1:]
    if word.startswith("TOP") or word == "TOPSECRET":
        return "TOP SECRET"
    if word.startswith("SECRET") or word == "ECRET":
        return "SECRET"
    if word.startswith("CONF") or word == "ONFIDENTIAL":
        return "CONFIDENTIAL"
    if word.startswith(("UNCLAS", "NCLAS", "SENSITIVE")):
        return "UNCLASSIFIED"
    if word.startswith("LIMITED"):
        return "LIMITED OFFICIAL USE"
    return None


_MARK_LEVEL = {
    "U": "UNCLASSIFIED", "SBU": "UNCLASSIFIED", "C": "CONFIDENTIAL", "S": "SECRET", "TS": "TOP SECRET",
    "LOU": "LIMITED OFFICIAL USE",
}


@lru_cache(maxsize=4096)
def mark_level(mark: str) -> str | None:
    """Level of a portion mark (``S/NF`` -> SECRET, ``SBU`` -> UNCLASSIFIED, ``U//FOUO``...)."""
    head = _MARK_SEP.split(mark.strip().upper(), maxsplit=1)[0]
    return _MARK_LEVEL.get(head)


@lru_cache(maxsize=1024)
def meta_level(classification: str) -> str | None:
    """Level part of a publisher classification (``SECRET//NOFORN`` -> SECRET; cached: a dump states a few
    dozen)."""
    head = classification.upper().split("//")[0].strip()
    return head if head in RANK else level_of(head)


# Where the caveat lines end: the E.O., TAGS or SUBJECT line (at a line start, or glued on as ``E.O. 12958``).
_CAVEAT_HEAD_END = re.compile(
    r"""^[ \t]*(?:E\.?[ \t]?O\.?[ \t]*1\d{4}|TAGS?\b|SUBJ)   # the E.O. / TAGS / SUBJECT line
      | E\.O\.[ \t]*1\d{4}                                 # an E.O. glued onto the caveat text
      | TAGS[ \t]*:                                        # a TAGS glued onto the caveat text
    """,
    re.M | re.X,
)
# SENSITIVE as a handling caption (``SENSITIVE``, ``SENSITIVE SIPDIS``, glued ``001557SENSITIVE``); the
# phrase ``SENSITIVE BUT UNCLASSIFIED`` is a plain UNCLASSIFIED cable in the publisher's convention.
_SENSITIVE_CAPTION = re.compile(r"SENSITIVE(?![ \t]*(?:BUT\b|ISSUE))")


# A database row leaked before the banner states the publisher's classification on a line of its own.
_ROW_NOFORN = re.compile(r"^[ \t]*(?:CONFIDENTIAL|SECRET|TOP SECRET)//NOFORN[ \t]*$", re.M)


def caveat_head(text: str, start: int = 0) -> str:
    """The caveat lines of a cable: from its banner (``start``) to the E.O./TAGS/SUBJECT line, at most 1500
    characters (``SIPDIS``, ``NOFORN``, ``SENSITIVE``, addressee lines)."""
    head = text[start:start + 1500]
    nl = head.find("\n")  # the banner line itself may carry glued caveats (``LONDON 000255NOFORNSIPDIS``)
    end = _CAVEAT_HEAD_END.search(head, max(nl, 0))
    return head[: end.start()] if end else head


def with_caveat(level: str, text: str, start: int = 0) -> str:
    """The publisher's classification of a banner level: ``//NOFORN`` when a classified cable's caveat lines
    say NOFORN (on a line of their own or glued on), ``//FOR OFFICIAL USE ONLY`` for an UNCLASSIFIED cable
    captioned SENSITIVE."""
    head = caveat_head(text, start).upper()
    if level != "UNCLASSIFIED" and ("NOFORN" in head or (start and _ROW_NOFORN.search(text, 0, start))):
        return level + "//NOFORN"
    if level == "UNCLASSIFIED" and "SENSITIVE" in head and _SENSITIVE_CAPTION.search(head):
        return level + "//FOR OFFICIAL USE ONLY"
    return level
