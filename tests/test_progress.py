"""etl.progress: a bar on a TTY, log lines elsewhere, a summary at the end."""

from __future__ import annotations

import io
import logging

import pytest

from etl import progress
from etl.progress import Progress, track


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_bar_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CABLELAKE_PROGRESS", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(progress, "_REDRAW", 0.0)
    out = FakeTTY()
    with Progress("parse", total=4, unit="dumps", stream=out) as p:
        assert p.mode == "bar"
        p.update(1, cables=10)
        p.update(1, cables=5, quarantined=1)
    text = out.getvalue()
    assert "\r" in text and "█" in text and "2/4 dumps (50%)" in text
    assert text.endswith("\n")
    assert p.summary is not None and p.summary.startswith("parse: 2 dumps in ")
    assert "cables 15" in p.summary and "quarantined 1" in p.summary


def test_log_lines_when_not_a_tty(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("CABLELAKE_PROGRESS", raising=False)
    out = io.StringIO()
    caplog.set_level(logging.INFO, logger="cablelake.progress")
    with Progress("parse x.html", total=None, unit="records", stream=out, log_every=0.0) as p:
        assert p.mode == "log"
        p.update(2_000, cables=1_990)
    assert out.getvalue() == ""  # nothing on the stream: lines go to the log (Airflow task log, CI)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("parse x.html: 2,000 records") and "cables 1,990" in lines[0]
    assert lines[-1].startswith("parse x.html: 2,000 records in ")


def test_mode_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CABLELAKE_PROGRESS", "off")
    out = FakeTTY()
    with Progress("x", total=1, stream=out) as p:
        p.update(1)
    assert out.getvalue() == "" and p.summary


def test_line_with_total_shows_rate_and_eta() -> None:
    p = Progress("validate", total=10, unit="rows", stream=io.StringIO(), mode="off")
    p.update(5)
    line = p.line()
    assert line.startswith("validate: 5/10 rows (50%), ") and "ETA" in line
    p.update(5)
    assert "ETA" not in p.line()


def test_track_counts_items(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CABLELAKE_PROGRESS", "off")
    assert list(track([1, 2, 3], "items")) == [1, 2, 3]
