"""``cablelake dashboard --lake s3://...`` (moto's S3 server on 127.0.0.1): the page is written into the lake's
local work folder (never into the store, never into a ``s3:`` folder of the working directory) and shows the
lake's figures; a prefix without a lake gets a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
from _s3 import bucket_keys, search_lake_on_s3
from test_dashboard import _data_of

from etl import dashboard
from etl.cli import main
from etl.lake import read_table
from etl.lake._store import work_dir


def test_dashboard_of_a_lake_on_s3(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with search_lake_on_s3(tmp_path) as uri:
        capsys.readouterr()
        assert main(["dashboard", "--lake", uri]) == 0
        index = work_dir(uri) / "_dashboard" / "index.html"
        assert dashboard.default_out(uri) == index.parent and index.parent.is_relative_to(tmp_path / "work")
        assert index.is_file() and index.as_uri() in capsys.readouterr().out
        data = _data_of(index.parent)
        assert data["lake"] == uri
        assert data["totals"]["cables"] == read_table(uri, "cables").num_rows == 7
        assert data["totals"]["quarantined"] == read_table(uri, "quarantine").num_rows >= 1
        assert not [k for k in bucket_keys(uri) if "_dashboard" in k]
        nolake = uri.removesuffix("/lake") + "/nolake"
        assert main(["dashboard", "--lake", nolake]) == 1
        err = capsys.readouterr().err
        assert f"cablelake dashboard: no lake at {nolake}" in err and "Traceback" not in err
    assert not (tmp_path / "s3:").exists()
