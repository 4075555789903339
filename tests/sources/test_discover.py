"""discover(): files, directories, globs; sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from etl.sources import discover, sha256_file


def test_files_dirs_globs(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one.html").write_text("x")
    (tmp_path / "a" / "b" / "two.txt").write_text("yy")
    (tmp_path / "a" / ".hidden").write_text("z")
    (tmp_path / "c.csv").write_text("zzz")
    by_dir = discover([str(tmp_path / "a")])
    assert [Path(d.uri).name for d in by_dir] == ["one.html", "two.txt"]
    by_glob = discover([str(tmp_path / "**" / "*.txt")])
    assert [Path(d.uri).name for d in by_glob] == ["two.txt"]
    both = discover([str(tmp_path / "c.csv"), str(tmp_path / "a"), str(tmp_path / "c.csv")])
    assert len(both) == 3
    assert both[0].size == 3
    assert both[0].sha256 == hashlib.sha256(b"zzz").hexdigest() == sha256_file(tmp_path / "c.csv")


def test_missing_path_gives_nothing(tmp_path: Path) -> None:
    assert discover([str(tmp_path / "nope")]) == []
