"""Coverage-guided fuzz target (atheris) for the format detector, the readers and the parser (issue 10).

Runnable by hand, not part of ``make test``::

    .venv/bin/pip install atheris==3.0.0
    .venv/bin/python bench/fuzz.py -atheris_runs=200000          # libFuzzer flags work: -max_len=65536 ...
    .venv/bin/python bench/fuzz.py corpus_dir/                   # start from a folder of seed files

Each input is written to a file and read as a dump (format detected from content, archives opened, records
streamed), every record is parsed, and the invariant of the pipeline is checked: a record becomes exactly
one ``cables`` or ``quarantine`` row, and nothing raises. A crash is a bug: libFuzzer saves the input.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from etl.parse import parse_text
    from etl.pipeline import parse_record
    from etl.sources import Limits, discover, iter_records
    from etl.sources._detect import detect_format

_TMP = Path(tempfile.mkdtemp(prefix="cablelake-fuzz-"))
_LIMITS = Limits(max_expanded_bytes=64 << 20, max_member_bytes=16 << 20, max_record_bytes=8 << 20)
_NOW = datetime.now(UTC)


def test_one_input(data: bytes) -> None:
    detect_format(data)
    parse_text(data.decode("utf-8", errors="replace"))
    path = _TMP / "input"
    path.write_bytes(data)
    for dump in discover([str(path)]):
        for rec in iter_records(dump, _LIMITS):
            table, row = parse_record(rec, "fuzz", _NOW)
            if table not in ("cables", "quarantine"):
                raise AssertionError(f"record went to {table!r}")
            if table == "quarantine" and not row["reasons"]:
                raise AssertionError("a quarantine row without a reason")


def main() -> None:
    if len(sys.argv) == 1 or all(a.startswith("-") for a in sys.argv[1:]):
        # libFuzzer writes new inputs into its first corpus folder: seed a scratch copy, never sample/dumps
        corpus = Path(tempfile.mkdtemp(prefix="cablelake-fuzz-corpus-"))
        for seed in (Path(__file__).resolve().parents[1] / "sample" / "dumps").iterdir():
            (corpus / seed.name).write_bytes(seed.read_bytes())
        sys.argv.append(str(corpus))
        print(f"fuzz corpus: {corpus}", file=sys.stderr)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
