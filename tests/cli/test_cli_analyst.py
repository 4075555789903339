"""``cablelake sql``, ``shell``, ``dashboard`` and ``dictionary`` on a small synthetic lake."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from etl import catalog, query
from etl.cli import main


def _sql(capsys: pytest.CaptureFixture[str], lake: Path, *args: str) -> tuple[int, str, str]:
    rc = main(["sql", "--lake", str(lake), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_sql_table(tiny_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _sql(capsys, tiny_lake, "select count(*) as n from quarantine")
    assert rc == 0
    assert out.splitlines() == ["n", "-", "4", "(1 row)"]


def test_sql_csv_json_parquet(tiny_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = "select reason, count(*) as n from (select unnest(reasons) as reason from quarantine) group by all order by n desc, reason"
    rc, out, _ = _sql(capsys, tiny_lake, q, "--format", "csv")
    assert rc == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["reason", "n"] and rows[1] == ["dtg_format", "2"]

    rc, out, _ = _sql(capsys, tiny_lake, q, "--format", "json")
    assert json.loads(out)[0] == {"reason": "dtg_format", "n": 2}

    target = tmp_path / "r.parquet"
    rc, _, err = _sql(capsys, tiny_lake, q, "--format", "parquet", "--output", str(target))
    assert rc == 0 and "wrote 4 rows" in err
    assert pq.read_table(target).column("reason").to_pylist()[0] == "dtg_format"

    rc, _, err = _sql(capsys, tiny_lake, q, "--format", "parquet")
    assert rc == 1 and "--output" in err


def test_sql_from_file_and_stdin(
    tiny_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "q.sql"
    f.write_text("-- two statements: the result is the last one's\nSET threads = 1;\nselect 41 + 1 as answer;\n")
    rc, out, _ = _sql(capsys, tiny_lake, "--file", str(f), "--format", "csv")
    assert rc == 0 and out.splitlines() == ["answer", "42"]

    monkeypatch.setattr("sys.stdin", io.StringIO("select 7 as seven"))
    rc, out, _ = _sql(capsys, tiny_lake, "-f", "-", "--format", "csv")
    assert rc == 0 and out.splitlines() == ["seven", "7"]


def test_unknown_table_names_the_problem_and_lists_the_views(tiny_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _sql(capsys, tiny_lake, "select * from cabels")
    assert rc == 1 and out == ""
    assert "cabels" in err and 'Did you mean "cables"' in err
    for view in catalog.VIEWS:
        assert f"{view}:" in err
    assert "reference_id, reference_id_source" in err  # columns are listed too


def test_unknown_column_lists_the_columns_of_the_view_queried(tiny_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _sql(capsys, tiny_lake, "select tagz from cable_tags")
    assert rc == 1
    assert '"tagz" not found' in err
    assert "Columns of cable_tags" in err and "position, tag, kind" in err
    assert "quarantine:" not in err


def test_syntax_error_is_explained(tiny_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _sql(capsys, tiny_lake, "selec 1")
    assert rc == 1 and "syntax error" in err and "docs/queries.md" in err


def test_missing_lake_and_missing_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _sql(capsys, tmp_path / "nowhere", "select 1")
    assert rc == 1 and "no lake at" in err
    rc, _, err = _sql(capsys, tmp_path, "  ")
    assert rc == 2 and "give a QUERY" in err


def test_table_output_cuts_long_results(tiny_lake: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _sql(capsys, tiny_lake, "select * from range(50)", "--max-rows", "10")
    assert rc == 0
    assert "(10 rows (more not shown" in out


def test_builtin_shell(tiny_lake: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    script = ".tables\n.schema cable_tags\nselect count(*)\n  as n from quarantine;\nselect * from nope;\n.quit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(script))
    assert main(["shell", "--builtin", "--lake", str(tiny_lake)]) == 0
    out = capsys.readouterr().out
    assert "cable_references" in out  # .tables
    assert "kind" in out and "Kind of TAG" in out  # .schema with descriptions
    assert "\n4\n" in out  # the multi-line query ran
    assert "Error:" in out and "nope" in out  # errors do not end the shell


def test_shell_uses_the_duckdb_cli_when_installed(tiny_lake: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(query.shutil, "which", lambda name: "/opt/bin/duckdb" if name == "duckdb" else None)
    monkeypatch.setattr(query.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    assert main(["shell", "--lake", str(tiny_lake)]) == 0
    search = f"SET GLOBAL file_search_path = '{tiny_lake.resolve()}'"  # the views' paths are relative to the lake
    assert calls == [["/opt/bin/duckdb", "-readonly", "-cmd", search, str(tiny_lake / "cables.duckdb")]]


def test_dashboard_command(tiny_lake: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--lake", str(tiny_lake), "--out", str(tmp_path / "site")]) == 0
    assert (tmp_path / "site" / "index.html").exists()
    assert "file://" in capsys.readouterr().out
    assert main(["dashboard", "--lake", str(tmp_path / "nowhere")]) == 1


def test_dictionary_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dictionary"]) == 0
    assert capsys.readouterr().out == catalog.data_dictionary()
    assert main(["dictionary", "-o", str(tmp_path / "dd.md")]) == 0
    assert (tmp_path / "dd.md").read_text(encoding="utf-8") == catalog.data_dictionary()
