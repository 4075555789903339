"""The index the lake keeps: always at the lake's version, incremental, repaired after a crash; search()
inside SQL; ``cablelake search``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from _search_lakes import CABLES, REPO, search_lake, telegram, write_dumps

from etl import catalog
from etl.pipeline import run
from etl.search import Searcher, check, index_dir, index_ids, search, sync


def cables_ids(lake: Path) -> set[str]:
    con = catalog.connect(lake)
    try:
        return {r[0] for r in con.execute("select reference_id from cables").fetchall()}
    finally:
        con.close()


def all_hits(lake: Path) -> set[str]:
    return {h.reference_id for h in Searcher(lake).search("NOT id:none", limit=100, facets=False).hits}


def test_index_follows_every_publish(tmp_path: Path) -> None:
    lake = search_lake(tmp_path)
    assert check(lake)["current"]
    assert index_ids(lake) == cables_ids(lake) == all_hits(lake) and len(cables_ids(lake)) == 7
    first = check(lake)["lake"]

    # a new dump: one cable added, nothing else touched
    (tmp_path / "in" / "new.txt").write_text(telegram(
        "OSLO", 77, 2009, 5, 5, tags="SENV NO", subject="FJORD CLIMATE PLAN", paragraphs=["Fjords and glaciers."]))
    run([str(tmp_path / "in")], lake)
    assert check(lake)["current"] and check(lake)["lake"] != first
    assert "09OSLO77" in index_ids(lake) == cables_ids(lake)
    assert {h.reference_id for h in search(lake, "glaciers").hits} == {"09OSLO77"}

    # a better copy of a cable (longer): the lake keeps it, the index replaces the document
    better = CABLES["09TUNIS300"].replace("2. (SBU) Darfur was not discussed.",
                                          "2. (SBU) Darfur was not discussed.\n\n3. (SBU) Dates and phosphates too.")
    assert better != CABLES["09TUNIS300"]
    (tmp_path / "in" / "better.txt").write_text(better)
    run([str(tmp_path / "in")], lake)
    assert {h.reference_id for h in search(lake, "phosphates").hits} == {"09TUNIS300"}
    assert index_ids(lake) == cables_ids(lake)
    assert search(lake, "id:09TUNIS300").total == 1  # replaced, not doubled

    # a full refresh from fewer dumps: the cables it drops leave the index too
    keep = tmp_path / "fewer"
    write_dumps(keep, {k: v for k, v in CABLES.items() if k != "06ATHENS2001"})
    run([str(keep)], lake, full_refresh=True)
    assert "06ATHENS2001" not in index_ids(lake)
    assert index_ids(lake) == cables_ids(lake) == all_hits(lake)
    assert search(lake, "cafe").total == 0


def test_sync_is_incremental(tmp_path: Path) -> None:
    lake = search_lake(tmp_path)
    again = sync(lake)
    assert again.operation == "current" and again.added == 0
    (tmp_path / "in" / "new.txt").write_text(telegram(
        "ROME", 5, 2008, 2, 2, tags="PREL IT", subject="ROME NOTE", paragraphs=["Pasta diplomacy."]))
    lake_before = check(lake)["lake"]
    # publish without the pipeline's own sync, to see what a sync does on its own
    from etl import pipeline

    real = pipeline._publish.sync_search
    pipeline._publish.sync_search = lambda root: None  # type: ignore[assignment]
    try:
        run([str(tmp_path / "in")], lake)
    finally:
        pipeline._publish.sync_search = real
    assert check(lake)["lake"] != lake_before and not check(lake)["current"]
    res = sync(lake)
    assert (res.operation, res.added, res.deleted, res.docs) == ("update", 1, 0, 8)
    assert check(lake)["current"]


def test_sync_follows_compaction(tmp_path: Path) -> None:
    """A compaction rewrites files: the index drops the documents of the old files, indexes the rows of the new
    ones, and every hit's file/row then names that hit's row (snippets and the cable page read it)."""
    from etl.lake import compact, read_current

    lake = search_lake(tmp_path)
    (tmp_path / "in" / "new.txt").write_text(telegram(
        "ROME", 6, 2009, 2, 2, tags="PREL IT", subject="ROME NOTE", paragraphs=["Darfur pasta diplomacy."]))
    run([str(tmp_path / "in")], lake)
    before = {f.path for f in read_current(lake).files("cables")}
    assert compact(lake, "compact-test", force=True)["merged"]  # the lake stage alone: the index is now behind
    assert not check(lake)["current"]
    after = {f.path for f in read_current(lake).files("cables")}
    assert before - after and after - before  # files were rewritten
    res = sync(lake)
    assert res.operation == "update" and res.deleted == res.added > 0
    assert index_ids(lake) == cables_ids(lake) == all_hits(lake)
    s = Searcher(lake)
    hits = s.search("darfur", limit=50).hits
    assert {h.reference_id for h in hits} >= {"09ROME6", "09TUNIS300"}
    assert all(h.file in after for h in hits)
    rows = s.rows(hits, ["reference_id", "subject"])
    assert [rows[(h.file, h.row)]["reference_id"] for h in hits] == [h.reference_id for h in hits]
    assert all("darfur" in h.snippet.lower() for h in hits)


def test_search_repairs_an_index_left_behind(tmp_path: Path) -> None:
    """What a kill between the lake's commit and the index's leaves: the index one version behind."""
    lake = search_lake(tmp_path)
    old = tmp_path / "old-index"
    shutil.copytree(index_dir(lake), old)
    (tmp_path / "in" / "new.txt").write_text(telegram(
        "OSLO", 78, 2009, 6, 6, tags="SENV NO", subject="SALMON QUOTAS", paragraphs=["Salmon quotas rise."]))
    run([str(tmp_path / "in")], lake)
    shutil.rmtree(index_dir(lake))
    shutil.copytree(old, index_dir(lake))
    assert not check(lake)["current"]
    # a search never answers from a stale index: it catches it up first
    assert {h.reference_id for h in Searcher(lake).search("salmon").hits} == {"09OSLO78"}
    assert check(lake)["current"] and index_ids(lake) == cables_ids(lake)


@pytest.mark.parametrize("damage", ["meta", "segments", "missing", "garbage-dir"])
def test_damaged_index_is_rebuilt(tmp_path: Path, damage: str) -> None:
    lake = search_lake(tmp_path)
    d = index_dir(lake)
    if damage == "meta":
        (d / "meta.json").write_text("{not json")
    elif damage == "segments":
        for f in d.glob("*.idx"):
            f.write_bytes(b"\0" * 10)
    elif damage == "missing":
        shutil.rmtree(d)
    else:
        shutil.rmtree(d)
        d.mkdir()
        (d / "junk.bin").write_bytes(b"junk")
    try:
        res = sync(lake)
    except BaseException as exc:  # noqa: BLE001 - a panic in tantivy is a BaseException
        pytest.fail(f"sync did not recover from {damage}: {exc!r}")
    assert res.operation == "rebuild"
    assert index_ids(lake) == cables_ids(lake)


def test_search_in_sql(tmp_path: Path) -> None:
    lake = search_lake(tmp_path)
    from etl.query import QueryError, open_catalog, run_query

    con = open_catalog(lake)
    try:
        rows = run_query(con, "select c.reference_id, s.rank, s.score > 0 from search('darfur AND tag:PGOV') s "
                              "join cables c using (reference_id)").fetchall()
        assert rows == [("07MOSCOW5349", 1, True)]
        n = run_query(con, "select count(*) from search('darfur')").fetchone()
        assert n == (3,)
        top = run_query(con, "select reference_id from search('darfur OR olive', 2, sort := 'date') order by rank")
        assert [r[0] for r in top.fetchall()] == ["09TUNIS300", "08PARIS100"]
        assert run_query(con, "select count(*) from search('nothingatall')").fetchone() == (0,)
        with pytest.raises(QueryError, match=r"search\(\): unbalanced quote"):
            run_query(con, "select * from search('\"darfur')")
    finally:
        con.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "etl.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)


def test_cli_search(tmp_path: Path) -> None:
    lake = search_lake(tmp_path)
    table = _cli("search", "darfur", "--lake", str(lake), "--facets")
    assert table.returncode == 0, table.stderr
    assert "07MOSCOW5349" in table.stdout and "(3 hits; showing 1-3;" in table.stdout and "tag: " in table.stdout
    js = _cli("search", "darfur OR olive", "--lake", str(lake), "--format", "json", "--sort", "date", "--limit", "2")
    out = json.loads(js.stdout)
    assert out["total"] == 3 and [h["reference_id"] for h in out["hits"]] == ["09TUNIS300", "08PARIS100"]
    assert {f["value"] for f in out["facets"]["year"]} == {"2007", "2008", "2009"}
    csv = _cli("search", "tag:PGOV", "--lake", str(lake), "--format", "csv")
    lines = csv.stdout.strip().splitlines()
    assert lines[0] == "reference_id,sent_at,origin,subject,score,snippet" and len(lines) == 4
    bad = _cli("search", "tag:(PGOV", "--lake", str(lake))
    assert bad.returncode == 2 and "bad query" in bad.stderr and "Traceback" not in bad.stderr
    sql = _cli("sql", "select reference_id from search('helicopters')", "--lake", str(lake), "--format", "csv")
    assert sql.returncode == 0 and sql.stdout.split() == ["reference_id", "07MOSCOW5190"]
    nolake = _cli("search", "x", "--lake", str(tmp_path / "none"))
    assert nolake.returncode == 1 and "no lake" in nolake.stderr


def test_catalog_unaffected_by_index(tmp_path: Path) -> None:
    """The index is beside the lake, not in it: the catalog and its views do not change."""
    lake = search_lake(tmp_path)
    con = duckdb.connect(str(lake / "cables.duckdb"), read_only=True, config={"file_search_path": str(lake)})
    try:
        assert con.execute("select count(*) from cables").fetchone() == (7,)
    finally:
        con.close()


def test_index_of_another_schema_is_rebuilt_before_a_search(tmp_path: Path) -> None:
    """An index written by an older cablelake (another SCHEMA_VERSION) is never searched as it is."""
    from etl.search import _index

    lake = search_lake(tmp_path)
    real = _index.SCHEMA_VERSION
    try:
        _index.SCHEMA_VERSION = "cablelake-search/0"
        sync(lake, rebuild=True)
    finally:
        _index.SCHEMA_VERSION = real
    assert not check(lake)["current"]
    hit = Searcher(lake).search("saltanov").hits[0]
    assert check(lake)["current"] and "Saltanov" in hit.snippet


def test_sigkill_during_index_build(tmp_path: Path) -> None:
    """A process killed while it writes the index (a rebuild here) leaves an index the next search can use
    or repair: never one that answers with other ids than the lake's."""
    import os
    import signal
    import time

    lake = search_lake(tmp_path)
    code = f"import etl.search as s; s.sync({str(lake)!r}, rebuild=True); print('done')"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, timeout=120)
    duration = time.perf_counter() - t0
    for i in range(6):
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(duration * (0.3 + 0.12 * i))  # from the imports to the commit
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        assert {h.reference_id for h in Searcher(lake).search("NOT id:none", limit=50).hits} == cables_ids(lake)
        assert check(lake)["current"] and index_ids(lake) == cables_ids(lake)


def test_a_small_update_adds_one_segment(tmp_path: Path) -> None:
    """A nightly's rows go into one segment (one indexing thread), not one per thread: the smallest level of
    tantivy's merge policy fills, and is merged, no faster than one segment a run."""
    import json

    lake = search_lake(tmp_path)

    def segments() -> int:
        return len(json.loads((lake / "_search" / "meta.json").read_text())["segments"])

    before = segments()
    for n in range(40):
        (tmp_path / "in" / f"new{n}.txt").write_text(telegram(
            "ROME", 100 + n, 2008, 2, 2, tags="PREL IT", subject=f"ROME NOTE {n}",
            paragraphs=[f"Pasta diplomacy, course {n}. " * 20]))
    run([str(tmp_path / "in")], lake)
    assert check(lake)["current"]
    assert segments() <= before + 1
    assert len(index_ids(lake)) == len(cables_ids(lake))


def test_point_reads_at_once_give_the_rows_of_one_at_a_time(lake: Path) -> None:
    """Many reads of one file at once (each through a reader of its own, kept for reuse up to a bound) give
    what reads one at a time give, and leave at most that bound of readers open."""
    from concurrent.futures import ThreadPoolExecutor

    from etl.lake import LakePaths
    from etl.search import _index

    store = LakePaths(lake).lake
    files = _index.lake_state(lake).files
    places = [(rel, row) for rel, n in files.items() for row in range(n)]
    one_by_one = {p: _index.read_rows(store, [p], ["reference_id", "body"])[p] for p in places}
    spares = _index._Spares(size=2)
    real = _index._SPARES
    _index._SPARES = spares
    try:
        with ThreadPoolExecutor(8) as pool:
            at_once = list(pool.map(lambda p: _index.read_rows(store, places, ["reference_id", "body"]), range(16)))
    finally:
        _index._SPARES = real
    assert all(got == one_by_one for got in at_once)
    assert 1 <= len(spares._free) <= 2


def test_a_file_removed_after_its_footer_was_read_is_still_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vacuum may remove a file a searcher's version still names: the reader opened with its footer keeps it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from etl.search import _index

    rel = "cables/year=2007/gone.parquet"
    (tmp_path / rel).parent.mkdir(parents=True)
    pq.write_table(pa.table({"reference_id": ["07A1", "07A2"], "body": ["one", "two"]}), tmp_path / rel)
    before = _index.read_rows(str(tmp_path), [(rel, 1)], ["reference_id", "body"])
    (tmp_path / rel).unlink()
    monkeypatch.setattr(_index, "_SPARES", _index._Spares())  # no reader of it kept for reuse
    after = _index.read_rows(str(tmp_path), [(rel, 1)], ["reference_id", "body"])
    assert after == before and after[(rel, 1)]["body"] == "two"
