"""Hostile input end to end: a hostile corpus beside real cables never crashes a run, never writes outside the
lake, never eats the machine, and every hostile input is accounted for in quarantine with a reason."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import psutil

from etl.catalog import connect

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample" / "dumps"
RSS_CAP = 1536 * 2**20  # the run's whole process tree must stay under 1.5 GiB

CABLE = (SAMPLE / "07MOSCOW5349.txt").read_bytes()


def _tar_member(tf: tarfile.TarFile, name: str, kind: bytes, data: bytes = b"", link: str = "") -> None:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def build_hostile(root: Path) -> dict[str, str]:
    """Write one file per attack into ``root``; returns file name -> what it is."""
    root.mkdir(parents=True)
    zeros = b"\0" * (64 * 2**20)
    made: dict[str, str] = {}

    with tarfile.open(root / "traversal.tar", "w") as tf:
        _tar_member(tf, "../../escaped.txt", tarfile.REGTYPE, CABLE)
        _tar_member(tf, "/tmp/cablelake-absolute.txt", tarfile.REGTYPE, CABLE)
        _tar_member(tf, "link-out", tarfile.SYMTYPE, link="/etc/passwd")
        _tar_member(tf, "hard-out", tarfile.LNKTYPE, link="/etc/shadow")
        _tar_member(tf, "dev-null", tarfile.CHRTYPE)
    made["traversal.tar"] = "../, absolute, symlink, hard link and device members"
    with zipfile.ZipFile(root / "traversal.zip", "w") as zf:
        zf.writestr("../../zip-escaped.txt", CABLE)
        link = zipfile.ZipInfo("zip-link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    made["traversal.zip"] = "zip ../ member and symlink"
    with zipfile.ZipFile(root / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.txt", zeros)
    made["bomb.zip"] = "zip bomb"
    (root / "bomb.gz").write_bytes(gzip.compress(zeros))
    made["bomb.gz"] = "gzip bomb"
    (root / "bomb.bz2").write_bytes(bz2.compress(zeros))
    made["bomb.bz2"] = "bz2 bomb"
    (root / "bomb.xz").write_bytes(lzma.compress(zeros))
    made["bomb.xz"] = "xz bomb"
    nested = CABLE
    for _ in range(8):
        nested = gzip.compress(nested)
    (root / "nested.gz").write_bytes(nested)
    made["nested.gz"] = "nested-archive bomb (8 levels)"
    (root / "nul.txt").write_bytes(CABLE[:400] + b"\0" * 64 + CABLE[400:])
    made["nul.txt"] = "NUL bytes"
    (root / "invalid-utf8.txt").write_bytes(b"\xff\xfe\xfa garbage \xc3\x28 \xa0\xa1" * 200)
    made["invalid-utf8.txt"] = "invalid UTF-8, no cable"
    (root / "huge-line.txt").write_bytes(b"TAGS: " + b"X" * (100 * 2**20) + b"\n")
    made["huge-line.txt"] = "a 100 MB line"
    (root / "empty.txt").write_bytes(b"")
    made["empty.txt"] = "empty file"
    full = io.BytesIO()
    with tarfile.open(fileobj=full, mode="w:gz") as tf:
        _tar_member(tf, "07MOSCOW5349.txt", tarfile.REGTYPE, CABLE * 50)
    (root / "truncated.tar.gz").write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    made["truncated.tar.gz"] = "truncated archive"
    (root / "broken.csv").write_bytes(
        b'"1","1/1/2007 1:00","07X1","O","C","","H"oops","B"\n"2","1/1/2007 1:00","07X2","O"\n'
    )
    made["broken.csv"] = "csv with broken quoting and the wrong number of fields"
    (root / "nocable.html").write_bytes(b"<!DOCTYPE html><html><body><h1>Hello</h1><p>no cable</p></body></html>")
    made["nocable.html"] = "HTML with no cable in it"
    (root / "random.bin").write_bytes(os.urandom(200_000))
    made["random.bin"] = "binary file"
    return made


class _Peak:
    def __init__(self, pid: int) -> None:
        self.proc, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                total = sum(p.memory_info().rss for p in [self.proc, *self.proc.children(recursive=True)])
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self.stop.wait(0.05)


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_hostile_corpus_beside_real_cables(tmp_path: Path) -> None:
    hostile = tmp_path / "dumps" / "hostile"
    made = build_hostile(hostile)
    real = tmp_path / "dumps" / "real"
    real.mkdir()
    for p in SAMPLE.iterdir():
        (real / p.name).write_bytes(p.read_bytes())
    work = tmp_path / "cwd"
    work.mkdir()
    lake = tmp_path / "lake"
    before = _snapshot(tmp_path)
    env = {**os.environ, "CABLELAKE_LIMIT_MAX_RATIO": "100", "CABLELAKE_LIMIT_MAX_RECORD_BYTES": "16M"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "run", str(tmp_path / "dumps"), "--lake", str(lake), "--json"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    peak = _Peak(proc.pid)
    out, err = proc.communicate(timeout=600)
    peak.stop.set()
    assert proc.returncode == 0, err[-3000:]
    summary = json.loads(out)
    print(f"hostile run: {time.perf_counter() - t0:.1f}s, peak RSS {peak.peak / 2**20:.0f} MiB")
    assert peak.peak < RSS_CAP

    # nothing written outside the lake (and its staging inside it)
    after = _snapshot(tmp_path)
    outside = {p for p in after - before if not p.startswith("lake")}
    assert outside == set(), outside
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/cablelake-absolute.txt").exists()
    assert not (tmp_path / "dumps" / "zip-escaped.txt").exists()

    con = connect(lake)
    # every real cable is in cables (the corrupt-DTG sample is, by design, in quarantine)
    ids = {r[0] for r in con.execute("select reference_id from cables").fetchall()}
    assert {"07MOSCOW5349", "08VALLETTA412", "09PORTLOUIS77"} <= ids
    # every hostile input is accounted for in quarantine, with a reason and its place
    rows = con.execute(
        "select source_uri, source_member, source_location, reasons from quarantine"
    ).fetchall()
    by_file: dict[str, list[tuple[str | None, str | None, list[str]]]] = {}
    for uri, member, location, reasons in rows:
        by_file.setdefault(Path(uri).name, []).append((member, location, reasons))
    for name, what in made.items():
        assert name in by_file, f"{what} ({name}) not in quarantine"
        assert all(r and loc for _, loc, r in by_file[name]), (name, by_file[name])
    reasons_of = {n: {r for _, _, rs in v for r in rs} for n, v in by_file.items()}
    assert "read:unsafe_member" in reasons_of["traversal.tar"]
    assert any(r.startswith("read:bomb") for r in reasons_of["bomb.zip"])
    assert any(r.startswith("read:too_deep") for r in reasons_of["nested.gz"])
    assert "read:empty_file" in reasons_of["empty.txt"]
    # reconciliation held for the whole run
    assert summary["records_found"] == summary["cables"] + summary["quarantined"]
