"""Hostile and garbage input: every problem is one error record with a reason and a location; the rest of
the dump is still read; nothing is written or followed outside."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import tarfile
import zipfile
from pathlib import Path

from etl.sources._limits import Limits
from tests.sources.conftest import read_all

CABLE = b"VZCZCXRO0594\nR 161902Z FEB 07\nFM AMEMBASSY BOGOTA\nTO RUEHC/SECSTATE WASHDC 2786\nTAGS: PGOV CO\n"
ROW = b'"1","2/16/2007 19:02","07BOGOTA1165","Embassy Bogota","UNCLASSIFIED","","R 161902Z FEB 07","UNCLAS \\"x\\" it\\\'s"\n'


def reasons(records: list) -> list[str | None]:  # type: ignore[type-arg]
    return [r.error.split(":")[0] if r.error else None for r in records]


def test_tar_traversal_links_devices(tmp_path: Path) -> None:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tf:
        for name, kind in (("../escape.txt", tarfile.REGTYPE), ("/etc/passwd", tarfile.REGTYPE),
                           ("link", tarfile.SYMTYPE), ("hard", tarfile.LNKTYPE), ("dev", tarfile.CHRTYPE),
                           ("ok.txt", tarfile.REGTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.SYMTYPE or kind == tarfile.LNKTYPE:
                info.linkname = "/etc/shadow"
            data = CABLE if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    records = read_all([path])
    assert reasons(records) == ["unsafe_member"] * 5 + [None]
    assert records[0].lineage.member == "../escape.txt" and records[0].lineage.location == "member 1"
    assert "symlink -> /etc/shadow" in (records[2].error or "")
    assert not (tmp_path.parent / "escape.txt").exists()


def test_zip_traversal_and_symlink(tmp_path: Path) -> None:
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../x.txt", CABLE)
        link = zipfile.ZipInfo("link")
        link.external_attr = (0o120777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("good.txt", CABLE)
    assert reasons(read_all([path])) == ["unsafe_member", "unsafe_member", None]


def test_bombs_stopped_by_limits(tmp_path: Path) -> None:
    zeros = CABLE * (20 * 1024 * 1024 // len(CABLE))  # compresses ~1000:1, read in full as text
    (tmp_path / "z.gz").write_bytes(gzip.compress(zeros))
    (tmp_path / "z.bz2").write_bytes(bz2.compress(zeros))
    (tmp_path / "z.xz").write_bytes(lzma.compress(zeros))
    with zipfile.ZipFile(tmp_path / "z.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", zeros)
    small = Limits(max_ratio=50, ratio_grace_bytes=1024 * 1024)
    records = read_all([tmp_path], small)
    last: dict[str, str | None] = {}
    for rec in records:  # records before the limit are streamed out; the bomb record ends each dump
        last[Path(rec.lineage.source_uri).name] = rec.error
    assert sorted(last) == ["z.bz2", "z.gz", "z.xz", "z.zip"]
    assert all(err is not None and err.startswith("bomb:") for err in last.values()), last
    nested = tmp_path / "nest"
    nested.mkdir()
    data = CABLE
    for _ in range(6):
        data = gzip.compress(data)
    (nested / "deep.gz").write_bytes(data)
    [rec] = read_all([nested], Limits(max_depth=3))
    assert rec.error is not None and rec.error.startswith("too_deep")
    [ok] = read_all([nested], Limits(max_depth=8))
    assert ok.error is None and ok.lineage.member is not None


def test_member_count_limit(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "many.zip", "w") as zf:
        for n in range(5):
            zf.writestr(f"{n}.txt", CABLE)
    records = read_all([tmp_path / "many.zip"], Limits(max_members=3))
    assert reasons(records)[:3] == [None, None, None]
    assert reasons(records)[-1] == "bomb"


def test_garbage_files(tmp_path: Path) -> None:
    files = {
        "empty.txt": b"",
        "nul.txt": CABLE + b"\x00\x00garbage",
        "binary.bin": bytes(range(256)) * 10,
        "nocable.html": b"<html><body><p>nothing</p></body></html>",
        "truncated.zip": b"PK\x03\x04" + b"\x00" * 20,
        "truncated.gz": gzip.compress(CABLE * 100)[:60],
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    got = {Path(r.lineage.source_uri).name: r for r in read_all([tmp_path])}
    assert set(got) == set(files)
    assert all(r.error for r in got.values()), {k: r.error for k, r in got.items()}
    assert got["empty.txt"].error.startswith("empty_file")  # type: ignore[union-attr]
    assert got["nul.txt"].error.startswith(("nul_bytes", "binary_content"))  # type: ignore[union-attr]
    assert got["binary.bin"].error.startswith("binary_content")  # type: ignore[union-attr]
    assert got["nocable.html"].error.startswith("no_cable")  # type: ignore[union-attr]
    assert got["truncated.zip"].error.startswith("bad_archive")  # type: ignore[union-attr]


def test_giant_line_skipped_rest_read(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(CABLE + b"X" * (3 * 1024 * 1024) + b"\n" + b"NNNN\n" + CABLE)
    records = read_all([path], Limits(max_record_bytes=1024 * 1024))
    assert "line_too_long" in reasons(records)
    assert reasons(records).count(None) >= 1


def test_csv_broken_rows_resync(tmp_path: Path) -> None:
    bad_quotes = b'"2","1/1/2007 1:00","07X1","O","C","","H"oops","B"\n'
    short = b'"3","1/1/2007 1:00","07X2","O"\n'
    cut = b'"4","1/1/2007 1:00","07X3","O","C","","H","BODY CUT'
    path = tmp_path / "cables.csv"
    path.write_bytes(b'"\n' + ROW + bad_quotes + short + ROW.replace(b'"1"', b'"5"') + cut)
    records = read_all([path])
    assert reasons(records) == [None, "bad_row", "bad_row", None, "truncated_row"]
    assert [r.lineage.location for r in records] == ["row 1", "row 2", "row 3", "row 4", "row 5"]
    first = records[0]
    assert first.body == "UNCLAS \"x\" it's"
    assert first.meta["created"] == "2007-02-16 19:02" and first.meta["created_precision"] == "minute"


def test_jsonl_bad_lines_and_ids(tmp_path: Path) -> None:
    lines = [
        b'{ "_id" : "85STATE1", "origin" : "Embassy X", "date_time" : "11/24/1985 11:15", "classification" : "SECRET", "body" : "S E C R E T  E.O. 12356: DECL:OADR TAGS: PREL SUBJECT: X  1. TEXT."}',
        b'{ "_id" : "", "date_time" : "2004-01-20 12:12", "body" : "C o n f i d e n t i a lSipdisE.o. 12958: decl"}',
        b"{not json",
        b'{ "_id" : {"$oid": "5f"}, "body" : "TAGS: X SUBJECT: Y"}',
    ]
    (tmp_path / "x.json").write_bytes(b"\n".join(lines) + b"\n")
    records = read_all([tmp_path / "x.json"])
    assert reasons(records) == [None, None, "bad_json", None]
    assert records[0].meta["created"] == "1985-11-24 11:15"
    assert "\nTAGS: PREL\nSUBJECT: X" in records[0].body
    assert "reference_id" not in records[1].meta and records[1].meta["created_precision"] == "hour"
    assert "reference_id" not in records[3].meta
    assert records[2].lineage.location == "line 3"


def test_limits_from_env() -> None:
    lim = Limits.from_env({"CABLELAKE_LIMIT_MAX_DEPTH": "2", "CABLELAKE_LIMIT_MAX_EXPANDED_BYTES": "1G",
                           "CABLELAKE_LIMIT_MAX_RATIO": "oops"})
    assert lim.max_depth == 2 and lim.max_expanded_bytes == 1024**3 and lim.max_ratio == Limits().max_ratio
    assert Limits().with_overrides({"max_members": "10k"}).max_members == 10240


def test_jsonl_header_line_breaks_restored(tmp_path: Path) -> None:
    """Exports that carry the routing header lost its line breaks too; the landmarks give them back."""
    squashed = ("VZCZCXYZ0015PP RUEHWEBDE RUEHAK #4688/01 2231453ZNY CCCCC ZZHP 111453Z AUG 06FM AMEMBASSY ANKARA"
                "TO RUEHC/SECSTATE WASHDC PRIORITY 7906INFO RUEHBS/AMEMBASSY BRUSSELS PRIORITY 5386"
                "RUCNIRA/IRAN COLLECTIVE PRIORITYRHEHNSC/NSC WASHDC PRIORITY")
    partial = "This record is a partial extract of the original cable. The full text is not available.201247Z Jan 04"
    lines = [json.dumps({"_id": "06ANKARA4688", "body": "CONFIDENTIAL ANKARA 004688 SUBJECT: X", "header": squashed}),
             json.dumps({"_id": "04ANKARA348", "body": "C o n f i d e n t i a l ankara 000348", "header": partial})]
    (tmp_path / "x.json").write_text("\n".join(lines) + "\n")
    full, part = read_all([tmp_path / "x.json"])
    assert full.header.split("\n") == [
        "VZCZCXYZ0015", "PP RUEHWEB", "DE RUEHAK #4688/01 2231453", "ZNY CCCCC ZZH", "P 111453Z AUG 06",
        "FM AMEMBASSY ANKARA", "TO RUEHC/SECSTATE WASHDC PRIORITY 7906", "INFO RUEHBS/AMEMBASSY BRUSSELS PRIORITY 5386",
        "RUCNIRA/IRAN COLLECTIVE PRIORITY", "RHEHNSC/NSC WASHDC PRIORITY",
    ]
    assert part.header.endswith("not available.\n201247Z Jan 04") and part.meta["partial"] == "1"
    assert "partial" not in full.meta
