"""Sources stage: find dumps, open archives, detect formats, yield raw records.

Public face:

* :class:`Lineage` - where a record came from (dump, member, place, format, sha256, encoding).
* :class:`RawRecord` - one cable as found in a dump, not yet parsed (or a reader error).
* :func:`discover` - expand paths/dirs/globs/URLs into :class:`Dump` objects.
* :func:`iter_records` - stream every record of one dump.
* :func:`landmarks` - the telegram landmarks a text shows, with their lines (for quarantine details).

Nothing here parses fields: that is :mod:`etl.parse`.
"""

from __future__ import annotations

from etl.sources._detect import landmarks
from etl.sources._discover import discover, sha256_file
from etl.sources._limits import Limits
from etl.sources._model import Dump, Lineage, RawRecord
from etl.sources._read import iter_records

__all__ = ["Dump", "Limits", "Lineage", "RawRecord", "discover", "iter_records", "landmarks", "sha256_file"]
