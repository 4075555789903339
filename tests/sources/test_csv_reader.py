"""The C++ csv path gives exactly the records of the project's tokenizer, on clean and damaged input."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from etl.sources import Limits
from etl.sources._context import Context
from etl.sources._formats import csv as csv_format
from etl.sources._model import Dump, RawRecord


def _records(data: bytes, tokenizer_only: bool) -> list[RawRecord]:
    ctx = Context(dump=Dump("mem.csv", "0" * 64, len(data)), member=None, limits=Limits())
    read = csv_format.read_tokenizer_only if tokenizer_only else csv_format.read
    return list(read(ctx, io.BytesIO(data)))


def _same(data: bytes) -> list[RawRecord]:
    fast, slow = _records(data, False), _records(data, True)
    assert [(r.lineage.location, r.lineage.encoding, r.error) for r in fast] == [
        (r.lineage.location, r.lineage.encoding, r.error) for r in slow
    ]
    assert fast == slow
    return fast


def _row(i: int, body: str) -> bytes:
    esc = body.replace("\\", "\\\\").replace('"', '\\"').replace("'", "\\'")
    return (f'"{i}","2/16/2007 19:02","07BOGOTA{i}","Embassy Bogota","UNCLASSIFIED","",'
            f'"R 161902Z FEB 07\nFM AMEMBASSY BOGOTA","UNCLAS \\"x\\" it\\\'s\n{esc}\n"\n').encode()


@pytest.fixture()
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few rows, so that block cuts, halving and retries all happen on small inputs."""
    monkeypatch.setattr(csv_format, "BLOCK", 2048)
    monkeypatch.setattr(csv_format, "CHUNK", 2048)
    monkeypatch.setattr(csv_format, "MIN_SPLIT", 512)


def test_clean_rows_come_from_the_cpp_reader(small_blocks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"".join(_row(i, "PARA 1. TEXT " * (i % 7) + "a \\ b 'c'") for i in range(1, 60))
    calls: list[int] = []
    monkeypatch.setattr(csv_format._Reader, "step", lambda self: calls.append(1))  # the tokenizer is not used
    fast = _records(data, False)
    assert not calls
    assert [r.lineage.location for r in fast] == [f"row {i}" for i in range(1, 60)]
    assert fast[4].body == "UNCLAS \"x\" it's\nPARA 1. TEXT PARA 1. TEXT PARA 1. TEXT PARA 1. TEXT PARA 1. TEXT " \
        "a \\ b 'c'\n"
    assert fast[4].raw == _row(5, "PARA 1. TEXT " * 5 + "a \\ b 'c'").decode()


def test_damage_reads_the_same_as_the_tokenizer(small_blocks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    emitted: list[int] = []
    emit = csv_format._Reader._emit

    def counting(self: csv_format._Reader, table: object, rows: object) -> object:
        emitted.append(len(rows))  # type: ignore[arg-type]
        return emit(self, table, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(csv_format._Reader, "_emit", counting)
    total = 0
    rows = [_row(i, f"BODY {i} " * (i % 11)) for i in range(1, 80)]
    damages = [
        lambda r: r.replace(b'"Embassy', b'"Emb"assy', 1),  # broken quoting
        lambda r: r.split(b',"UNCLASSIFIED"')[0] + b"\n",  # a short row
        lambda r: r.replace(b"BODY", b"B\xe9DY", 1),  # cp1252, not UTF-8
        lambda r: r.replace(b"\n", b"\r\n"),  # CRLF
        lambda r: r.replace(b"\\'", b"'"),  # an apostrophe left unescaped (the tokenizer accepts it)
        lambda r: b"\n\n" + r,  # blank lines
        lambda r: b'"\n' + r,  # the stray quote line of a split chunk
        lambda r: r[: len(r) // 2],  # a row cut in the middle, the next row glued on
        lambda r: r.replace(b'","', b'",  "', 1),  # stray text between fields
    ]
    rnd = random.Random(17)
    for trial in range(40):
        damaged = list(rows)
        for _ in range(rnd.randint(1, 4)):
            k = rnd.randrange(len(damaged))
            damaged[k] = rnd.choice(damages)(damaged[k])
        data = b"".join(damaged)
        if trial % 3 == 0:
            data = data[: rnd.randrange(len(data) // 2, len(data))]  # cut off at end of file
        records = _same(data)
        total += len(records)
        assert any(r.error for r in records) or trial % 3 != 0 or data.endswith(b"\n")
    assert total / 2 < sum(emitted) < total  # most rows came through C++, not all


def test_corpus_release_rows(corpus: Path, small_blocks: None) -> None:
    for path in sorted((corpus / "cables-csv").glob("*.csv")):
        records = _same(path.read_bytes())
        assert sum(r.error is None for r in records) >= 2


def test_oversized_row_is_quarantined_and_reading_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_format, "BLOCK", 4096)
    monkeypatch.setattr(csv_format, "CHUNK", 4096)
    data = _row(1, "x") + _row(2, "Y" * 50_000) + _row(3, "z")
    ctx = Context(dump=Dump("m.csv", "0" * 64, len(data)), member=None,
                  limits=Limits(max_record_bytes=10_000))
    got = list(csv_format.read(ctx, io.BytesIO(data)))
    assert [(r.lineage.location, (r.error or "").split(":")[0]) for r in got] == [
        ("row 1", ""), ("row 2", "record_too_large"), ("row 3", "")]
