"""The one rule that gives a two-digit year its century, shared by parse, validate and the lake's partitions.

Cables run from 1966 to 2010, so ``66``..``99`` are 19xx and ``00``..``65`` are 20xx. The DTG, the reference
id, an E.O. DECL date without a cable year to lean on, the validation's date check and the ``year=``
partition of a row all use :func:`century` (or, for Arrow arrays, :data:`PIVOT` itself).
"""

from __future__ import annotations

PIVOT = 65
"""The last two-digit year read as 20xx; the years above it are 19xx."""


def century(yy: int, pivot: int = PIVOT) -> int:
    """Four-digit year of a two-digit ``yy`` (a year already of four digits is returned as it is)."""
    if yy >= 100:
        return yy
    return 1900 + yy if yy > pivot else 2000 + yy
