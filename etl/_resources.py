"""Locate the declarative files shipped beside the package (``schemas/``, ``expectations/``).

In a source checkout (editable install) they are the top-level folders of the repository; in a wheel
they are force-included under ``etl/_resources/``.
"""

from __future__ import annotations

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the directory ``schemas`` or ``expectations``.

    ``$CABLELAKE_<NAME>_DIR`` overrides the lookup (used by tests that plant modified suites).
    """
    override = os.environ.get(f"CABLELAKE_{name.upper()}_DIR")
    if override:
        return Path(override)
    for candidate in (_PKG.parent / name, _PKG / "_resources" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cablelake resource folder {name!r} not found beside {_PKG}")
