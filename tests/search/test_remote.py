"""Search on a lake on S3 (moto's S3 server on 127.0.0.1, started here): the index lives in the lake's local
work folder, follows the lake's version (a publish from another machine is caught up by the next search,
also after a searcher killed mid-way), and a URL that is not a lake gets a clear error, never a traceback."""

from __future__ import annotations

import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _s3 import LATE_ID, REPO, bucket_keys, publish_elsewhere, requests_made, search_lake_on_s3

from etl.catalog import LakeNotFoundError
from etl.cli import main
from etl.lake import read_table
from etl.lake._store import work_dir
from etl.search import (
    Searcher,
    SearchUnavailable,
    check,
    index_dir,
    index_ids,
    lake_version,
    search,
    searcher_for,
)


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(lake URI, local folder): the search test lake published to S3 by the pipeline, which indexes it in
    the work folder ``<folder>/work``."""
    root = tmp_path_factory.mktemp("remote")
    with search_lake_on_s3(root) as uri:
        yield uri, root


def _cables(uri: str) -> set[str]:
    return set(read_table(uri, "cables").column("reference_id").to_pylist())


def test_index_lives_in_the_local_work_folder(remote: tuple[str, Path]) -> None:
    uri, root = remote
    assert index_dir(uri).is_relative_to(root / "work") and (index_dir(uri) / "meta.json").is_file()
    assert check(uri)["current"] and index_ids(uri) == _cables(uri) and len(_cables(uri)) == 7
    keys = bucket_keys(uri)
    assert any(k.startswith("lake/cables/") for k in keys)
    assert not [k for k in keys if re.search(r"/_search/|/_staging/|\.duckdb$", k)]  # nothing local went up


def test_cli_search_on_s3(remote: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    uri, _ = remote
    assert main(["search", "darfur", "--lake", uri, "--facets"]) == 0
    out = capsys.readouterr().out
    assert "07MOSCOW5349" in out and "(3 hits; showing 1-3;" in out and "tag: " in out
    assert main(["search", "darfur OR olive", "--lake", uri, "--format", "json", "--sort", "date", "--limit", "2"]) == 0
    js = json.loads(capsys.readouterr().out)
    assert js["total"] == 3 and [h["reference_id"] for h in js["hits"]] == ["09TUNIS300", "08PARIS100"]
    assert js["lake_version"] == lake_version(uri)
    assert main(["search", "tag:(PGOV", "--lake", uri]) == 2
    err = capsys.readouterr().err
    assert "bad query" in err and "Traceback" not in err


def test_search_in_sql_and_shell_on_s3(remote: tuple[str, Path], capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    uri, _ = remote
    q = "select c.reference_id, s.rank from search('darfur AND tag:PGOV') s join cables c using (reference_id)"
    assert main(["sql", q, "--lake", uri, "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["reference_id,rank", "07MOSCOW5349,1"]
    # DuckDB's own shell cannot read the store (the catalog reads it through this process's filesystem):
    # `cablelake shell` on an s3:// lake is the built-in one, search() included
    monkeypatch.setattr(sys, "stdin", io.StringIO(".mode csv\nselect reference_id from search('helicopters');\n"))
    assert main(["shell", "--lake", uri]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == ["reference_id", "07MOSCOW5190"]
    assert [h.reference_id for h in search(uri, "helicopters").hits] == ["07MOSCOW5190"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("where", ["empty prefix", "no bucket", "no answer"])
def test_a_url_that_is_no_lake(remote: tuple[str, Path], where: str, capsys: pytest.CaptureFixture[str],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    uri, _ = remote
    bucket = uri.removeprefix("s3://").split("/")[0]
    bad = {"empty prefix": f"s3://{bucket}/nolake", "no bucket": f"s3://{bucket}-gone/lake",
           "no answer": uri}[where]
    if where == "no answer":
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    why = "cannot read the lake at" if where == "no answer" else "no lake at"
    for argv in (["search", "x", "--lake", bad], ["serve", "--lake", bad, "--port", "1"],
                 ["sql", "select * from search('x')", "--lake", bad], ["shell", "--lake", bad]):
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        assert f"cablelake {argv[0]}: {why} {bad}" in err and "Traceback" not in err
    with pytest.raises(LakeNotFoundError, match=f"{why} {re.escape(bad)}"):
        search(bad, "x")
    if where != "no answer":
        assert not work_dir(bad).exists()  # nothing was cataloged or indexed for it


def test_an_unchanged_lake_costs_one_list_request_per_version_check(remote: tuple[str, Path]) -> None:
    """The lake's version is read once per lake version: then each check is one LIST of the ``_lake`` log
    (a new commit there is a new newest log entry; the publish test below shows it is seen)."""
    uri, _ = remote
    version = lake_version(uri)
    assert search(uri, "darfur").total == 3  # the searcher holds the index of this version
    with requests_made() as seen:
        assert lake_version(uri) == version
        assert search(uri, "darfur", snippets=False).total == 3  # (snippets read the hits' bodies from Parquet)
    assert len(seen) == 2 and all("list-type=2" in r and "_lake%2F_delta_log" in r for r in seen), seen
    with requests_made() as seen:
        assert search(uri, "darfur").hits[0].snippet
    version_checks = [r for r in seen if "_lake%2F_delta_log" in r]
    assert len(version_checks) == 1 and all(".parquet" in r for r in seen if r not in version_checks), seen


@pytest.mark.parametrize("query", ["helicopters OR darfur", "olive", "tag:PGOV", "NOT id:none"])
def test_snippets_as_on_a_local_lake(remote: tuple[str, Path], lake: Path, query: str) -> None:
    """The same cables on S3 and on a disk give the same snippets (the store reads summary and body at once,
    a disk the summary first; both cut the snippet from the summary when it holds a query word)."""
    uri, _ = remote
    there = Searcher(uri, cache=0).search(query, sort="date", limit=50)
    here = Searcher(lake, cache=0).search(query, sort="date", limit=50)
    assert there.total == here.total > 0
    assert [(h.reference_id, h.snippet, h.highlights) for h in there.hits] == \
        [(h.reference_id, h.snippet, h.highlights) for h in here.hits]


def test_searchers_name_the_lake_by_its_uri(remote: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    uri, _ = remote
    assert searcher_for(uri) is searcher_for(uri + "/") and searcher_for(uri).lake == uri
    behind = Searcher(uri, repair=False, wait=0)
    monkeypatch.setattr("etl.search._search.open_index", lambda _: None)  # an index that cannot be read
    with pytest.raises(SearchUnavailable, match=f"the search index of {re.escape(uri)} is at nothing"):
        behind.current()


# a searcher on this machine: imports, says so, then searches (catching the index up) and prints the ids
SEARCHER = """
import sys
from etl.search import search
print("ready", flush=True)
print(" ".join(h.reference_id for h in search(sys.argv[1], sys.argv[2]).hits), flush=True)
"""


def test_search_catches_up_with_a_publish_from_another_machine(remote: tuple[str, Path],
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Another machine (its own work folder) publishes; searchers here killed during the catch-up leave the
    index at a commit; the next search (in-process, CLI and SQL) sees the new cable, ids = the lake's."""
    uri, root = remote
    assert search(uri, "tobacco").total == 0  # this process's searcher is open at the old version
    before = lake_version(uri)
    publish_elsewhere(uri, root)
    assert lake_version(uri) != before and not check(uri)["current"]  # our index is behind the lake
    rng = random.Random(int(os.environ.get("CABLELAKE_KILL_SEED", "15")))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    states = []
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", SEARCHER, uri, "tobacco"], cwd=REPO, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        try:
            proc.wait(timeout=rng.uniform(0.2, 6.0))  # a catch-up takes seconds here
            states.append("finished")
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            states.append("killed")
        proc.communicate()
        state = check(uri)
        assert state["index"] in (before, state["lake"])  # the old commit or the new one, nothing between
        states[-1] += " at the new version" if state["current"] else " at the old version"
    res = search(uri, "tobacco")
    assert [h.reference_id for h in res.hits] == [LATE_ID] and res.version == lake_version(uri)
    assert check(uri)["current"] and index_ids(uri) == _cables(uri) and len(_cables(uri)) == 8
    assert main(["search", "tobacco", "--lake", uri, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith(f"{LATE_ID},2010-02-03,")
    assert main(["sql", "select count(*) as n from search('tobacco OR darfur')", "--lake", uri, "--format",
                 "csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "4"]
    print("\nsearchers: " + ", ".join(states))
