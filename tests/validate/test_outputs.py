"""Result JSON, Data Docs, thresholds and configuration of the validate stage."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from etl.validate import (
    QualityConfig,
    ThresholdExceeded,
    check_thresholds,
    columns_read,
    load_suite,
    rules,
    validate,
)

TableFactory = Callable[..., pa.Table]


def test_a_run_id_that_reads_as_a_date_with_a_wild_offset(make_table: TableFactory, tmp_path: Path) -> None:
    """dateutil reads ``...Z-4484ad`` as a time at offset -44:84; GX must not take the run's time from its name
    (it did: the result then failed to serialise, about one run in 1,300 with random run ids)."""
    quality = tmp_path / "_quality" / "run"
    v = validate(make_table(3), run_id="20261206T170203Z-4484ad", quality_dir=quality)
    assert v.result_path is not None
    meta = json.loads(v.result_path.read_text(encoding="utf-8"))["meta"]
    assert meta["run_id"]["run_name"] == "20261206T170203Z-4484ad"
    assert meta["run_id"]["run_time"].endswith("+00:00")
    # and its Data Docs hold the validation page (GX's page read the name as a date and failed on the offset)
    assert v.docs_index is not None
    pages = list((quality / "data_docs" / "validations").rglob("*.html"))
    assert len(pages) == 1, pages
    assert "20261206T170203Z-4484ad" in pages[0].read_text(encoding="utf-8")


def test_result_json_and_data_docs(make_table: TableFactory, tmp_path: Path) -> None:
    quality = tmp_path / "_quality" / "run-7"
    table = make_table(8, {2: {"dtg": "301341Z FEB 02"}, 5: {"eo": "12598"}})
    v = validate(table, run_id="run-7", quality_dir=quality)

    assert v.result_path is not None and v.result_path.parent == quality
    result = json.loads(v.result_path.read_text(encoding="utf-8"))
    by_rule = {r["expectation_config"]["meta"]["rule"]: r for r in result["results"]}
    assert by_rule["dtg_valid"]["result"]["unexpected_index_list"] == [2]
    assert by_rule["eo_known"]["result"]["unexpected_index_list"] == [5]
    assert by_rule["dtg_valid"]["expectation_config"]["meta"]["severity"] == "error"

    assert v.docs_index is not None and v.docs_index == quality / "data_docs" / "index.html"
    html = v.docs_index.read_text(encoding="utf-8")
    links = set(re.findall(r"""(?:expectations|validations)/[^"'\s<>]+?\.html""", html))
    suite_pages = [link for link in links if link.startswith("expectations/")]
    result_pages = [link for link in links if link.startswith("validations/")]
    assert suite_pages == ["expectations/cables.html"]
    assert len(result_pages) == 1 and "run-7" in result_pages[0]
    for link in links:
        assert (v.docs_index.parent / link).is_file(), link
    for ref in re.findall(r"""(?:src|href)=["']([^"':#]+)["']""", html):
        assert (v.docs_index.parent / ref).is_file(), ref  # local assets kept by the pruning
    assert sum(f.stat().st_size for f in quality.rglob("*") if f.is_file()) < 1_000_000
    page = (v.docs_index.parent / result_pages[0]).read_text(encoding="utf-8")
    assert "dtg_valid" in page or "_dq_dtg_valid" in page


def test_nothing_written_without_quality_dir(make_table: TableFactory, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    v = validate(make_table(3), run_id="r")
    assert v.result_path is None and v.docs_index is None
    assert list(tmp_path.iterdir()) == []


def test_rule_stats(make_table: TableFactory) -> None:
    v = validate(make_table(10, {1: {"classification": "HUSH"}, 2: {"tags": ["QQQQ"]}}), run_id="r")
    st = v.rule_stats["classification_known"]
    assert st == {**st, "severity": "error", "column": "classification", "failed": 1, "failed_share": 0.1,
                  "expectation_type": "expect_column_values_to_be_in_set", "status": "evaluated"}
    assert v.rule_stats["tags_known"]["severity"] == "warning"
    assert list(v.rule_stats) == [r.name for r in rules(load_suite())]


def test_thresholds_name_the_rule(make_table: TableFactory) -> None:
    table = make_table(10, {i: {"classification": "HUSH"} for i in range(3)})
    v = validate(table, run_id="r")
    check_thresholds(v, QualityConfig())  # 30% < 50%
    with pytest.raises(ThresholdExceeded, match=r"classification_known .*30\.0%"):
        check_thresholds(v, QualityConfig(max_quarantine_share=0.9, max_rule_share=0.2))
    with pytest.raises(ThresholdExceeded, match=r"quarantined share 30\.0%"):
        check_thresholds(v, QualityConfig(max_quarantine_share=0.25))
    check_thresholds(v, QualityConfig(max_rule_share=0.2, max_quarantine_share=0.5,
                                      rule_max_share={"classification_known": 0.4}))


def test_warnings_fail_a_run_only_with_a_limit_named_for_them(make_table: TableFactory) -> None:
    v = validate(make_table(4, {i: {"eo": "19523"} for i in range(3)}), run_id="r")
    assert v.rejected.num_rows == 0
    check_thresholds(v, QualityConfig())  # warnings keep their rows: 75% unknown E.O.s alone fail nothing
    with pytest.raises(ThresholdExceeded, match="eo_known"):
        check_thresholds(v, QualityConfig(rule_max_share={"eo_known": 0.5}))


def test_config_from_file_and_env(tmp_path: Path) -> None:
    toml = tmp_path / "quality.toml"
    toml.write_text('[quality]\nmax_quarantine_share = 0.1\n[quality.rule_max_share]\ntags_known = 0.9\n',
                    encoding="utf-8")
    cfg = QualityConfig.load(toml, env={})
    assert cfg.max_quarantine_share == 0.1 and cfg.limit_for("tags_known") == 0.9 and cfg.limit_for("x") == 0.5
    js = tmp_path / "quality.json"
    js.write_text(json.dumps({"archive_last_year": 2010}), encoding="utf-8")
    cfg = QualityConfig.load(env={"CABLELAKE_QUALITY_CONFIG": str(js), "CABLELAKE_MAX_RULE_SHARE": "0.05"})
    assert cfg.archive_last_year == 2010 and cfg.max_rule_share == 0.05
    with pytest.raises(ValueError, match="unknown quality config keys"):
        QualityConfig.from_mapping({"max_share": 1})


def test_archive_span_is_configurable(make_table: TableFactory) -> None:
    table = make_table(10)  # cables of 2000..2009
    v = validate(table, run_id="r", config=QualityConfig(archive_first_year=2005, data_docs=False))
    assert v.rule_stats["sent_at_in_archive"]["failed"] == 5
    assert all(r == ["sent_at_in_archive"] for r in v.reasons)


def test_etl_validate_import_does_not_import_gx() -> None:
    import subprocess
    import sys

    code = "import sys, etl.validate; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_expectation_has_rule_meta() -> None:
    suite = load_suite()
    rs = rules(suite)
    assert len(rs) == len(suite["expectations"])
    assert {r.severity for r in rs} == {"error", "warning"}
    assert all(r.description for r in rs)


def test_validating_only_the_columns_read_gives_the_same_verdicts(make_table: TableFactory) -> None:
    table = make_table(12, {2: {"dtg": "301341Z FEB 02"}, 5: {"eo": "12598"}, 7: {"tags": ["QQQQ"]},
                            9: {"paragraphs": [{"number": 1, "portion_mark": "SNF", "text": "x"}]}})
    cols = columns_read(table.column_names)
    assert "body" not in cols and "header" not in cols and {"dtg", "sent_at", "tags", "paragraphs"} <= set(cols)
    narrow = table.select(cols).append_column("__row", pa.array(range(table.num_rows), pa.int64()))
    full, part = validate(table, run_id="a"), validate(narrow, run_id="b")
    assert part.reasons == full.reasons and part.details == full.details
    assert part.cables["dq_warnings"].to_pylist() == full.cables["dq_warnings"].to_pylist()
    assert part.rejected["__row"].to_pylist() == [2]
    assert {k: s["failed"] for k, s in part.rule_stats.items()} == {k: s["failed"] for k, s in full.rule_stats.items()}


def test_dq_warnings_merges_with_input_and_is_added_when_missing(make_table: TableFactory) -> None:
    table = make_table(3, {0: {"dq_warnings": ["parser_note"], "eo": "12598"}, 1: {"dq_warnings": ["parser_note"]}})
    v = validate(table, run_id="r")
    assert v.cables["dq_warnings"].to_pylist() == [["parser_note", "eo_known"], ["parser_note"], []]
    v = validate(table.drop_columns(["dq_warnings"]), run_id="r")
    assert v.cables["dq_warnings"].to_pylist() == [["eo_known"], [], []]


def test_readme_lists_every_rule_with_its_severity(repo: Path) -> None:
    text = (repo / "expectations" / "README.md").read_text(encoding="utf-8")
    for rule in rules(load_suite()):
        assert f"| `{rule.name}` | {rule.severity} |" in text, rule.name


def test_a_planted_suite_changes_severity(make_table: TableFactory, tmp_path: Path, repo: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Severity lives in the suite file: flip eo_known to error in a copy and the row is rejected."""
    suite = json.loads((repo / "expectations" / "cables.json").read_text(encoding="utf-8"))
    for exp in suite["expectations"]:
        if exp["meta"]["rule"] == "eo_known":
            exp["meta"]["severity"] = "error"
    (tmp_path / "cables.json").write_text(json.dumps(suite), encoding="utf-8")
    monkeypatch.setenv("CABLELAKE_EXPECTATIONS_DIR", str(tmp_path))
    v = validate(make_table(3, {1: {"eo": "12598"}}), run_id="r")
    assert v.reasons == [["eo_known"]] and v.rule_stats["eo_known"]["severity"] == "error"


def test_suite_without_severity_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from etl.validate import SuiteError

    (tmp_path / "cables.json").write_text(json.dumps({"name": "cables", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "dtg"}, "meta": {"rule": "x"}}]}),
        encoding="utf-8")
    monkeypatch.setenv("CABLELAKE_EXPECTATIONS_DIR", str(tmp_path))
    with pytest.raises(SuiteError, match="severity"):
        load_suite()


def test_chunk_after_chunk_in_one_process_as_in_a_fresh_one(make_table: TableFactory) -> None:
    """validate() keeps its GX session and the suite's metric graph from one call to the next (a parse worker
    validates chunk after chunk): each call still judges its own rows only, and other suite parameters get a
    graph of their own."""
    from etl.validate import _gx

    config = QualityConfig(data_docs=False)
    first = make_table(8, {1: {"dtg": "bogus"}, 4: {"eo": "12598"}, 6: {"classification": "HUSH"}})
    second = make_table(6, {2: {"classification": "HUSH"}, 5: {"tags": ["QQQQ"]}})
    _gx._SESSIONS.clear()
    fresh = validate(second, run_id="r", config=config)
    _gx._SESSIONS.clear()
    before = validate(first, run_id="r", config=config)
    kept = validate(second, run_id="r", config=config)
    [session] = _gx._SESSIONS.values()  # both calls were served by one session
    assert sorted(before.reasons) == [["classification_known"], ["dtg_format"]]
    assert kept.reasons == fresh.reasons == [["classification_known"]]
    assert kept.details == fresh.details
    assert kept.rejected["reference_id"].to_pylist() == fresh.rejected["reference_id"].to_pylist()
    assert kept.cables["dq_warnings"].to_pylist() == fresh.cables["dq_warnings"].to_pylist()
    assert kept.cables["dq_warnings"].to_pylist()[-1] == ["tags_known"]
    assert {k: s["failed"] for k, s in kept.rule_stats.items()} == {k: s["failed"] for k, s in fresh.rule_stats.items()}
    narrower = validate(second, run_id="r", config=QualityConfig(archive_first_year=2005, data_docs=False))
    assert narrower.rule_stats["sent_at_in_archive"]["failed"] == 5  # cables of 2000..2005
    assert len(session._graphs) == 2
