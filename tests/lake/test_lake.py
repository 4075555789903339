"""The lake stage alone (no parsing, no Great Expectations): commits, merge rule, compaction, GC, lock."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from etl import lake
from etl.lake import _txn
from etl.lake._merge import merge
from etl.schema import to_table

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cable(rid: str, *, body: str = "body", header: str = "HDR", uri: str = "/d/a.txt", run: str = "r1",
          at: datetime = T0, source: str = "derived", year: int = 2007, loc: str = "byte 0") -> dict[str, Any]:
    return {
        "reference_id": rid, "reference_id_source": source, "header": header, "body": body, "source_uri": uri,
        "source_sha256": "sha-" + uri, "source_location": loc, "source_format": "text", "run_id": run,
        "ingested_at": at, "year": year, "dq_warnings": [],
    }


def publish(root: Path, run: str, rows: list[dict[str, Any]], at: datetime = T0, **kw: Any) -> lake.PublishResult:
    for r in rows:
        r["run_id"], r["ingested_at"] = run, at
    return lake.publish(
        root, run, to_table(rows, "cables"), to_table([], "quarantine"), ingested_at=at,
        dumps={f"sha-{run}": {"uri": run}}, runs_row={"run_id": run, "started_at": at}, **kw,
    )


def ids(root: Path) -> list[str]:
    return sorted(lake.read_table(root, "cables").column("reference_id").to_pylist())


@pytest.mark.parametrize("reverse", [False, True])
def test_merge_rule_is_documented_order_and_input_order_free(reverse: bool) -> None:
    rows = [
        cable("A", header="", body="x" * 50, uri="/d/1"),  # no header: loses to any copy with one
        cable("A", body="x" * 10, uri="/d/2"),
        cable("A", body="x" * 20, uri="/d/3"),  # longest body with a header: wins
        cable("B", body="same", uri="/d/4"),
        cable("B", body="same", uri="/d/5", source="metadata"),  # id stated by the dump: wins the tie
        cable("C", body="same", uri="/d/7", at=T0),
        cable("C", body="same", uri="/d/6", at=T0 + timedelta(days=1)),  # newer run wins the tie
        cable("D", body="same", uri="/d/9"),
        cable("D", body="same", uri="/d/8"),  # full tie: smallest lineage wins
    ]
    if reverse:
        rows.reverse()
    res = merge(to_table(rows, "cables"), [True] * len(rows), "run", T0)
    won = {r["reference_id"]: r["source_uri"] for r in res.winners.to_pylist()}
    assert won == {"A": "/d/3", "B": "/d/5", "C": "/d/6", "D": "/d/8"}
    seen = {r["reference_id"]: sorted(s["source_uri"] for s in r["also_seen_in"]) for r in res.winners.to_pylist()}
    assert seen == {"A": ["/d/1", "/d/2"], "B": ["/d/4"], "C": ["/d/7"], "D": ["/d/9"]}
    assert len(res.duplicates) == 5 and all(d["reasons"] == ["duplicate"] for d in res.duplicates)


def test_publish_is_invisible_until_commit_and_replaces_better_copies(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with lake.lake_lock(root):
        publish(root, "r1", [cable("A"), cable("B")])
        assert ids(root) == ["A", "B"]
        r2 = publish(root, "r2", [cable("A", body="a much longer body", uri="/d/b.txt")], at=T0 + timedelta(days=1))
    assert (r2.records, r2.cables, r2.displaced, r2.duplicates) == (1, 1, 1, 0)
    t = lake.read_table(root, "cables")
    a = next(r for r in t.to_pylist() if r["reference_id"] == "A")
    assert a["source_uri"] == "/d/b.txt" and [s["source_uri"] for s in a["also_seen_in"]] == ["/d/a.txt"]
    q = lake.read_table(root, "quarantine").to_pylist()
    assert [(r["reasons"], r["stage"], r["source_uri"]) for r in q] == [(["duplicate"], "lake", "/d/a.txt")]
    assert "/d/b.txt" in q[0]["details"][0]
    # version 1 is still readable (previous catalog's readers) and still says what it said
    v1 = lake.read_version(root, 1)
    assert v1 is not None and sorted(lake.read_table(root, "cables", v1).column("reference_id").to_pylist()) == ["A", "B"]


def _data_files(where: Path, run: str, groups: list[list[dict[str, Any]]]) -> list[lake.DataFile]:
    """Each group of rows as the data files of one FileSet (as a parse worker writes them)."""
    out = []
    for k, rows in enumerate(groups):
        for r in rows:
            r["run_id"], r["ingested_at"] = run, T0 + timedelta(days=1)
        files = lake.FileSet(where / str(k), run)
        writer = files.writer("cables", tag="w")
        writer.write(to_table(rows, "cables"))
        out += [lake.DataFile(str(where / str(k)), f) for f in writer.close()]
    return out


def test_writer_bounds_the_rows_of_its_open_files(tmp_path: Path) -> None:
    """With ``open_rows``, the writer finishes its largest open file whenever the open files hold more rows
    than that (an open Parquet file keeps every row group's metadata): every row is written once, a large
    partition gets several files, and the open files never hold more than the bound after a write."""
    years = [2009] * 5 + [2008] * 3 + [1999]  # a skewed run: most rows in one partition
    rows = [cable(f"{i:05d}", year=years[i % len(years)], body="x" * (i % 97)) for i in range(3_000)]
    files = lake.FileSet(tmp_path / "stage", "r1")
    writer = files.writer("cables", tag="w", buffer_bytes=20_000, open_rows=700)
    for start in range(0, len(rows), 150):
        writer.write(to_table(rows[start:start + 150], "cables"))
        assert writer.open_file_rows <= 700
    written = writer.close()
    assert sum(f.rows for f in written) == 3_000 and all(f.rows <= 700 + 150 for f in written)
    per_year = {y: [f for f in written if f"year={y}/" in f.path] for y in (2009, 2008, 1999)}
    assert len(per_year[2009]) > len(per_year[1999]) >= 1
    back = duckdb.sql(f"SELECT reference_id, year FROM read_parquet('{tmp_path / 'stage'}/cables/*/*.parquet', "
                      "hive_partitioning = true) ORDER BY 1").fetchall()
    assert back == [(r["reference_id"], r["year"]) for r in rows]
    assert not list((tmp_path / "stage").rglob("*.tmp"))


def test_writer_joins_the_tables_it_buffers_for_a_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write leaves one table per partition in the buffer, and each keeps ~100-200 KB of structure
    whatever its rows, which the byte bound does not see: a partition that is never flushed would gather a table
    per write until the close. The writer joins a partition's tables every ``MERGE_PARTS`` writes; the rows
    come out as written, in the files the same rows would give written at once."""
    monkeypatch.setattr(_txn, "MERGE_PARTS", 4)
    years = [2009] * 6 + [2008, 1999]
    rows = [cable(f"{i:05d}", year=years[i % len(years)], body="x" * (i % 31)) for i in range(1_200)]
    writer = lake.FileSet(tmp_path / "small", "r1").writer("cables", tag="w", buffer_bytes=1 << 40)
    for start in range(0, len(rows), 8):
        writer.write(to_table(rows[start:start + 8], "cables"))
        assert max(len(tables) for tables in writer._buffers.values()) < 4
    small = writer.close()
    once = lake.FileSet(tmp_path / "once", "r1").writer("cables", tag="w", buffer_bytes=1 << 40)
    once.write(to_table(rows, "cables"))
    whole = once.close()
    assert [(Path(f.path).parent, f.rows) for f in small] == [(Path(f.path).parent, f.rows) for f in whole]
    assert len(small) == 3
    for a, b in zip(small, whole, strict=True):
        assert pq.read_table(tmp_path / "small" / a.path).equals(pq.read_table(tmp_path / "once" / b.path))
    back = duckdb.sql(f"SELECT reference_id, year FROM read_parquet('{tmp_path / 'small'}/cables/*/*.parquet', "
                      "hive_partitioning = true) ORDER BY 1").fetchall()
    assert back == [(r["reference_id"], r["year"]) for r in rows]


def test_data_files_are_committed_as_they_are_unless_a_decision_touches_them(tmp_path: Path) -> None:
    """publish() adopts a run's data files without rewriting them (a hard link of the same bytes); only a
    file that holds a copy of a cable seen twice (in the run or in the lake) is rewritten, with the same
    decisions as for rows handed over in memory: the best copy kept, the loser quarantined."""
    root = tmp_path / "lake"
    publish(root, "r1", [cable("A")])
    later = T0 + timedelta(days=1)
    staged = _data_files(tmp_path / "stage", "r2", [
        [cable("B", uri="/d/b.txt"), cable("C", uri="/d/b.txt", year=2008)],       # untouched: adopted
        [cable("A", body="a much longer body", uri="/d/c.txt"), cable("D", uri="/d/c.txt")],  # A: rewritten
        [cable("D", body="longest body of all D", uri="/d/d.txt")],                  # D twice in the run
    ])
    res = lake.publish(root, "r2", lake.Rows("cables", tuple(staged)), to_table([], "quarantine"), ingested_at=later,
                       dumps={"sha-r2": {"uri": "r2"}}, runs_row={"run_id": "r2", "started_at": later})
    assert (res.records, res.cables, res.duplicates, res.displaced) == (5, 4, 1, 1)
    assert ids(root) == ["A", "B", "C", "D"]
    committed = {f.path: f for f in lake.read_current(root).files("cables")}
    adopted = [p for p in committed if "-a0" in p]
    assert len(adopted) == 2 and all(committed[p].rows == 1 for p in adopted)  # file 0's two partitions
    first = [f for f in staged if f.root.endswith("/0")]
    assert sorted((root / p).stat().st_ino for p in adopted) == sorted(
        (Path(f.root) / f.entry.path).stat().st_ino for f in first)  # the same bytes, not a copy
    rows = {r["reference_id"]: r for r in lake.read_table(root, "cables").to_pylist()}
    assert rows["A"]["source_uri"] == "/d/c.txt" and rows["D"]["source_uri"] == "/d/d.txt"
    assert [s["source_uri"] for s in rows["D"]["also_seen_in"]] == ["/d/c.txt"]
    q = sorted((r["source_uri"], r["reasons"]) for r in lake.read_table(root, "quarantine").to_pylist())
    assert q == [("/d/a.txt", ["duplicate"]), ("/d/c.txt", ["duplicate"])]


def test_a_writer_beaten_to_the_commit_decides_again(tmp_path: Path) -> None:
    """Two writers decide on the same lake version: the second one's commit is refused (nothing of it is
    visible), and publish() retries it on the new version, so both runs land and A is merged once."""
    root = tmp_path / "lake"
    publish(root, "r1", [cable("A")])
    base = lake.read_current(root)
    first = lake.Transaction(root, "w1", "publish", base=base)
    first.add("cables", to_table([cable("B", run="w1")], "cables"))
    second = lake.Transaction(root, "w2", "publish", base=base)
    second.add("cables", to_table([cable("C", run="w2")], "cables"))
    first.commit({})
    with pytest.raises(lake.ConflictError):
        second.commit({})
    assert ids(root) == ["A", "B"] and lake.read_current(root).version == base.version + 1
    res = publish(root, "r3", [cable("A", body="a longer body", uri="/d/c.txt")], at=T0 + timedelta(days=1))
    assert res.displaced == 1 and ids(root) == ["A", "B"]


def test_table_commits_of_a_dead_writer_are_invisible_then_undone(tmp_path: Path) -> None:
    """A writer that committed to cables but died before its lake commit: readers never see its rows, and
    the next writer of cables restores the table to the lake's version first."""
    root = tmp_path / "lake"
    publish(root, "r1", [cable("A")])
    base = lake.read_current(root)
    dead = lake.Transaction(root, "dead", "publish", base=base)
    dead.add("cables", to_table([cable("Z", run="dead")], "cables"))
    from etl.lake import _delta
    from etl.schema import schema

    _delta.commit_files(dead.loc, "cables", base.table_versions["cables"], schema("cables"),
                        adds=dead.added["cables"], removes=[], lake_version=base.version + 1, info={})
    assert ids(root) == ["A"]  # the lake version still names the version before the dead commit
    publish(root, "r2", [cable("B")])
    assert ids(root) == ["A", "B"]
    from deltalake import DeltaTable

    latest = DeltaTable(str(root / "cables")).to_pyarrow_table().column("reference_id").to_pylist()
    assert sorted(latest) == ["A", "B"]  # plain Delta readers see the restored table too


def test_compaction_merges_small_files_atomically(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with lake.lake_lock(root):
        for i in range(10):
            publish(root, f"r{i:02d}", [cable(f"X{i}", year=2008)])
        before = lake.read_current(root)
        assert len([f for f in before.files("cables") if "year=2008" in f.path]) == 10
        assert lake.needs_compaction(before)
        res = lake.compact(root, "k1")
        after = lake.read_current(root)
        assert res["merged"]["cables/year=2008"] == 10 and res["merged"]["_lake"] == 10
        assert [f.path.rsplit("/", 1)[0] for f in after.files("cables")] == ["cables/year=2008"]
        assert len(after.files("runs")) == 1 and after.rows("runs") == 10
        assert ids(root) == [f"X{i}" for i in range(10)]
        # superseded files are kept for one version (readers of the previous catalog), then collected
        lake.collect_garbage(root)
        assert all((root / f.path).exists() for f in before.files("cables"))
        (root / lake.CATALOG_STATE).write_text(f'{{"version": {after.version}}}')
        publish(root, "r99", [cable("Y", year=2009)])
        lake.collect_garbage(root)
    on_disk = sorted(p.relative_to(root).as_posix() for p in (root / "cables").rglob("*.parquet")
                     if "_delta_log" not in p.parts)
    assert on_disk == sorted(f.path for f in lake.read_current(root).files("cables"))


def test_old_partitions_without_a_new_column_stay_readable(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with lake.lake_lock(root):
        txn = lake.Transaction(root, "old", "publish")
        old = to_table([cable("A", year=2007, run="old")], "cables").drop_columns(["also_seen_in", "dq_warnings"])
        txn.add("cables", old)  # as written by a cablelake before those columns existed
        txn.commit({"cables": "1.0.0"})
        from etl.catalog import refresh

        # the catalog's view has every column (its paths are relative to the lake root)
        con = duckdb.connect(str(refresh(root)), read_only=True, config={"file_search_path": str(root)})
        assert con.execute("select count(*), count(also_seen_in) from cables").fetchone() == (1, 0)
        con.close()
        # a new copy of the cable rewrites the old file with today's schema
        publish(root, "new", [cable("A", body="longer body now", year=2007)], at=T0 + timedelta(days=1))
    t = lake.read_table(root, "cables")
    assert t.num_rows == 1 and t.column("also_seen_in").to_pylist()[0][0]["run_id"] == "old"


def test_a_column_added_to_the_schema_is_added_to_the_delta_table(tmp_path: Path) -> None:
    """A table created before a column existed gets it (its own commit) and the lake names the data commit."""
    from deltalake import DeltaTable

    from etl.lake import _delta
    from etl.schema import schema

    root = tmp_path / "lake"
    txn = lake.Transaction(root, "old", "publish")
    old_schema = schema("cables").remove(schema("cables").get_field_index("also_seen_in"))
    txn.add("cables", to_table([cable("A", run="old")], "cables").drop_columns(["also_seen_in"]))
    version = _delta.commit_files(txn.loc, "cables", -1, old_schema, adds=txn.added["cables"], removes=[],
                                  lake_version=1, info={})
    new = txn.preview()
    new.table_versions["cables"] = version
    lake._commit.write_commit(txn.base, new)
    publish(root, "new", [cable("B", year=2008)])
    assert ids(root) == ["A", "B"]
    assert "also_seen_in" in pa.schema(DeltaTable(str(root / "cables")).schema()).names


def test_full_refresh_replaces_tables_and_manifest(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with lake.lake_lock(root):
        publish(root, "r1", [cable("A"), cable("B")])
        publish(root, "r2", [cable("C")], full_refresh=True)
    assert ids(root) == ["C"] and list(lake.read_current(root).dumps) == ["sha-r2"]
    assert lake.read_current(root).rows("runs") == 2  # run history is kept


def test_lock_waits_then_refuses_naming_the_holder(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from etl.lake import lake_lock\n"
         f"with lake_lock({str(root)!r}, what='nightly run'):\n    print('held', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(lake.LakeLockedError, match=r"locked by nightly run \(pid \d+"):
            with lake.lake_lock(root, timeout=0.5):
                pass
        assert time.monotonic() - t0 >= 0.5
    finally:
        holder.kill()
        holder.wait()
    with lake.lake_lock(root, timeout=5):  # a dead holder's lock is free at once
        with lake.lake_lock(root):  # and re-entrant within a process
            assert lake.holds_lock(root)


def test_empty_lake_reads_as_empty(tmp_path: Path) -> None:
    assert lake.read_current(tmp_path).version == 0
    assert lake.read_table(tmp_path, "cables").num_rows == 0
    assert isinstance(lake.read_table(tmp_path, "quarantine"), pa.Table)


def test_compaction_joins_small_files_and_leaves_large_ones(tmp_path: Path) -> None:
    """Only files under the target size are rewritten: a first load's large files stay as they are (their
    paths, so the search index keeps their documents), a nightly's small ones are joined; large files do not
    count towards the threshold."""
    import random
    import string

    rnd = random.Random(7)
    root = tmp_path / "lake"
    with lake.lake_lock(root):
        for i in range(3):  # "large": many rows with long bodies that do not compress
            publish(root, f"big{i}", [cable(f"B{i}-{n:03d}", year=2008,
                                            body="".join(rnd.choices(string.ascii_letters + " ", k=3000)))
                                      for n in range(200)])
        for i in range(9):
            publish(root, f"small{i}", [cable(f"S{i}", year=2008)])
        before = lake.read_current(root)
        files = before.files("cables")
        large = [f for f in files if f.path.split("/")[-1].startswith("big")] or files[:3]
        small = [f for f in files if f not in large]
        assert len(large) == 3 and len(small) == 9
        target = (max(f.bytes for f in small) + min(f.bytes for f in large)) // 2
        assert max(f.bytes for f in small) < target < min(f.bytes for f in large)
        assert lake.needs_compaction(before, threshold=8, target_bytes=target)
        res = lake.compact(root, "k1", target_bytes=target)
        assert res["merged"]["cables/year=2008"] == 9
        after = lake.read_current(root)
        kept = {f.path for f in after.files("cables")}
        assert {f.path for f in large} <= kept  # not rewritten
        assert not {f.path for f in small} & kept and len(kept) < len(files)
        assert after.rows("cables") == before.rows("cables") == 609
        assert not lake.needs_compaction(after, threshold=8, target_bytes=target)
