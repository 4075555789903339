"""Progress of long loops: a bar on a terminal, periodic log lines elsewhere, a summary at the end.

No dependency and no stage import, so any stage can use it::

    with Progress("parse", total=len(dumps), unit="dumps") as p:
        for dump in dumps:
            ...
            p.update(1, cables=n_ok, quarantined=n_bad)   # counters add up
    # -> "parse: 12 dumps in 8.4s (1.4/s) · cables 2,650 · quarantined 50"

On a TTY (stderr) the bar is redrawn at most 10 times a second; otherwise (Airflow task logs, CI, pipes)
one INFO line is logged every ``log_every`` seconds. ``$CABLELAKE_PROGRESS`` = ``bar``, ``log`` or ``off``
forces a mode.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TextIO, TypeVar

T = TypeVar("T")

log = logging.getLogger("cablelake.progress")

_BAR_WIDTH = 24
_REDRAW = 0.1


def _fmt_count(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


def _fmt_secs(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class Progress:
    """Track ``done`` of ``total`` units (total may be unknown) plus named counters."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "records",
        *,
        stream: TextIO | None = None,
        log_every: float = 10.0,
        mode: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.log_every = log_every
        self.logger = logger or log
        self.done = 0
        self.counters: dict[str, int] = {}
        self.mode = mode or self._mode()
        self._t0 = time.monotonic()
        self._last_draw = 0.0
        self._last_log = self._t0
        self._closed = False
        self.summary: str | None = None

    def _mode(self) -> str:
        forced = os.environ.get("CABLELAKE_PROGRESS", "").strip().lower()
        if forced in ("bar", "log", "off"):
            return forced
        isatty = getattr(self.stream, "isatty", None)
        tty = bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"
        return "bar" if tty else "log"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def update(self, n: int = 1, **counters: int) -> None:
        """Add ``n`` units done and add to the named counters (``cables=...``)."""
        self.done += n
        for k, v in counters.items():
            self.counters[k] = self.counters.get(k, 0) + v
        now = time.monotonic()
        if self.mode == "bar" and now - self._last_draw >= _REDRAW:
            self._last_draw = now
            self._draw()
        elif self.mode == "log" and now - self._last_log >= self.log_every:
            self._last_log = now
            self.logger.info("%s", self.line())

    def _rate(self) -> float:
        e = self.elapsed
        return self.done / e if e > 0 else 0.0

    def _counters(self) -> str:
        return "".join(f" · {k} {_fmt_count(v)}" for k, v in self.counters.items())

    def line(self) -> str:
        """The current state as one line of text (what the log mode prints)."""
        rate = self._rate()
        if self.total:
            pct = 100.0 * self.done / self.total
            eta = (self.total - self.done) / rate if rate > 0 else 0.0
            head = f"{_fmt_count(self.done)}/{_fmt_count(self.total)} {self.unit} ({pct:.0f}%)"
            tail = f", {rate:,.1f}/s, ETA {_fmt_secs(eta)}" if self.done < self.total else ""
        else:
            head = f"{_fmt_count(self.done)} {self.unit}"
            tail = f", {rate:,.1f}/s"
        return f"{self.label}: {head}{tail}{self._counters()}"

    def _draw(self) -> None:
        if self.total:
            frac = min(1.0, self.done / self.total)
            filled = int(frac * _BAR_WIDTH)
            bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
            text = f"{bar} {self.line()}"
        else:
            text = f"{self.line()} {_fmt_secs(self.elapsed)}"
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()

    def close(self) -> str:
        """Finish: clear the bar and write (bar mode) or log the summary line; returns it."""
        if self._closed:
            return self.summary or ""
        self._closed = True
        e = self.elapsed
        rate = self.done / e if e > 0 else 0.0
        self.summary = (
            f"{self.label}: {_fmt_count(self.done)} {self.unit} in {e:.1f}s ({rate:,.1f}/s){self._counters()}"
        )
        if self.mode == "bar":
            self.stream.write("\r\x1b[2K" + self.summary + "\n")
            self.stream.flush()
        elif self.mode == "log":
            self.logger.info("%s", self.summary)
        return self.summary

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def track(items: Iterable[T], label: str, total: int | None = None, unit: str = "items") -> Iterator[T]:
    """Yield ``items`` while showing progress (total taken from ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with Progress(label, total=total, unit=unit) as p:
        for item in items:
            yield item
            p.update(1)
