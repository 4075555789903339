"""Property tests over mangled real cables: truncated, spliced, re-encoded, salted with random
bytes, a dump never makes the sources or the parser raise, and every record found ends in exactly one place."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.pipeline import parse_record
from etl.sources import discover, iter_records

SAMPLE = Path(__file__).resolve().parents[1] / "sample" / "dumps"
CABLES = [p.read_bytes() for p in sorted(SAMPLE.glob("*.txt"))]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "ascii"]


@st.composite
def mangled(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(CABLES))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["truncate", "splice", "reencode", "salt", "crlf", "dup"]))
        if op == "truncate" and data:
            data = data[: draw(st.integers(0, len(data)))]
        elif op == "splice":
            other = draw(st.sampled_from(CABLES))
            data = data[: draw(st.integers(0, len(data)))] + other[draw(st.integers(0, len(other))):]
        elif op == "reencode":
            text = data.decode("utf-8", errors="replace")
            data = text.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")
        elif op == "salt":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
        elif op == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif op == "dup":
            data = data + b"\n\nNNNN\n\n" + data
    return data


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled())
def test_mangled_dump_never_raises_and_loses_nothing(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dump.txt"
        path.write_bytes(data)
        [dump] = discover([str(path)])
        records = list(iter_records(dump))
        assert records, "every file is at least one record (a cable or a reader error)"
        now = datetime.now(UTC)
        for rec in records:
            assert rec.lineage.source_uri and rec.lineage.location
            table, row = parse_record(rec, "prop-run", now)
            assert table in ("cables", "quarantine")
            if table == "quarantine":
                assert row["reasons"] and row["source_uri"]
