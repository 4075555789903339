"""Done-when numbers: every record of the real corpus accounted for, plain and inside archives/over HTTP."""

from __future__ import annotations

import gzip
import shutil
import tarfile
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from etl.sources import RawRecord
from tests.sources.conftest import read_all

pytestmark = pytest.mark.corpus

EXPECTED = {
    "cablegate-html": (["cablegate-html", "cablegate-html-variants"], 2053 + 36, 0),
    "csv": (["cables-csv"], 39, 1),
    "text": (["raw-text"], 24, 0),
    "jsonl": (["jsonl"], 437, 0),
    "plusd-html": (["plusd-html"], 3, 0),
    "pdf": (["pdf"], 14, 0),
    "markdown": (["markdown"], 1, 0),
}


def signature(records: list[RawRecord]) -> Counter[tuple[str, str | None, str, str]]:
    """What must not change when the same files come zipped, tarred or over HTTP."""
    return Counter(
        (r.lineage.format, r.error.split(":")[0] if r.error else None, r.meta.get("reference_id", ""), r.body[:200])
        for r in records
    )


@pytest.mark.parametrize("fmt", sorted(EXPECTED))
def test_every_format_counts(corpus: Path, fmt: str) -> None:
    folders, count, errors = EXPECTED[fmt]
    records = read_all([corpus / f for f in folders])
    assert len(records) == count
    assert {r.lineage.format for r in records} == {fmt}
    bad = [r for r in records if r.error]
    assert len(bad) == errors, [r.error for r in bad]
    if fmt == "csv":
        assert bad[0].error is not None and bad[0].error.startswith("truncated_row:")
        assert bad[0].lineage.location == "row 37"
    for rec in records:
        assert rec.lineage.source_sha256 and rec.lineage.location
        assert rec.error or rec.body.strip()


def _whole_corpus(corpus: Path) -> list[RawRecord]:
    return read_all([corpus / f for folders, _, _ in EXPECTED.values() for f in folders])


@pytest.fixture(scope="module")
def plain(corpus: Path) -> list[RawRecord]:
    return _whole_corpus(corpus)


def test_total(plain: list[RawRecord]) -> None:
    assert len(plain) == sum(n for _, n, _ in EXPECTED.values()) == 2607


def _copy_tree(corpus: Path, dest: Path) -> Path:
    for folders, _, _ in EXPECTED.values():
        for folder in folders:
            shutil.copytree(corpus / folder, dest / folder)
    return dest


@pytest.mark.slow
def test_zip_tar_gzip_give_the_same_records(corpus: Path, tmp_path: Path, plain: list[RawRecord]) -> None:
    tree = _copy_tree(corpus, tmp_path / "tree")
    zpath = tmp_path / "corpus.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tree).as_posix())
    tpath = tmp_path / "corpus.tar.gz"
    with tarfile.open(tpath, "w:gz") as tf:
        tf.add(tree, arcname="corpus")
    gz_dir = tmp_path / "gz"  # single gzip streams: every non-HTML file plus a slice of the HTML pages
    picked = [p for p in sorted(tree.rglob("*")) if p.is_file() and (p.suffix != ".html" or sum(p.name.encode()) % 8 == 0)]
    for path in picked:
        if path.is_file():
            out = gz_dir / (path.relative_to(tree).as_posix().replace("/", "__") + ".gz")
            out.parent.mkdir(exist_ok=True)
            out.write_bytes(gzip.compress(path.read_bytes()))
    want = signature(plain)
    for dump in (zpath, tpath):
        got = read_all([dump])
        assert signature(got) == want, dump
        assert all(r.lineage.member for r in got)
    gz_plain = signature(read_all(picked))
    gz_got = read_all([gz_dir])
    assert signature(gz_got) == gz_plain
    assert all(r.lineage.member for r in gz_got)
    [one] = [r for r in read_all([tpath]) if r.meta.get("reference_id") == "06BOGOTA2291"]
    assert one.lineage.member == "corpus.tar!corpus/cablegate-html/cable/2006/03/06BOGOTA2291.html"


def test_nested_archive_member_paths(corpus: Path, tmp_path: Path) -> None:
    inner = tmp_path / "inner.tar"
    with tarfile.open(inner, "w") as tf:
        tf.add(corpus / "raw-text" / "07BOGOTA1165.txt", arcname="07BOGOTA1165.txt")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "inner.tar")
    [rec] = read_all([outer])
    assert rec.error is None
    assert rec.lineage.member == "inner.tar!07BOGOTA1165.txt"
    assert rec.lineage.source_uri == str(outer)
