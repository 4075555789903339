"""Requests and time per version check, search and page on a lake on S3 (issue 15), with and without the
snapshot cache, alternating in the same run.

Publishes the search tests' lake (``tests/_search_lakes.py``) to a moto S3 server on 127.0.0.1 (every request
it answers is recorded), then measures, ``--rounds`` times each way, alternating:

* ``cached``: this code: the lake's snapshot is read once per lake version; a check lists the ``_lake`` log
  once (its newest commit file is the lake's version);
* ``baseline``: the same code with that cache off: every check reads the ``_lake`` snapshot through Delta.

for ``lake_version`` (the version check), ``search()`` from Python, and the search and cable pages of the
reading room (Starlette's test client, in process). Prints the median requests and milliseconds of each.

    .venv/bin/python bench/remote_bench.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


@contextmanager
def _uncached() -> Iterator[None]:
    """The snapshot cache off: every check reads the ``_lake`` snapshot (the code before the cache)."""
    from etl.lake import _commit

    real = _commit._current

    def read_always(loc: Any, head: Any) -> Any:
        return real(loc, None)

    _commit._current = read_always  # type: ignore[assignment]
    try:
        yield
    finally:
        _commit._current = real  # type: ignore[assignment]


def _measure(op: Callable[[], object]) -> tuple[int, float]:
    from _s3 import requests_made

    with requests_made() as seen:
        t0 = time.perf_counter()
        op()
        ms = (time.perf_counter() - t0) * 1000
    return len(seen), ms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    from _s3 import search_lake_on_s3
    from starlette.testclient import TestClient

    from etl.search import lake_version, search
    from etl.web import create_app

    with tempfile.TemporaryDirectory(prefix="cablelake-remote-bench-") as tmp, search_lake_on_s3(Path(tmp)) as uri:
        with TestClient(create_app(uri)) as client:

            def page(path: str) -> Callable[[], object]:
                def get() -> object:
                    res = client.get(path)
                    assert res.status_code == 200, (path, res.status_code)
                    return res
                return get

            ops: dict[str, Callable[[], object]] = {
                "lake_version()": lambda: lake_version(uri),
                "search() from Python": lambda: search(uri, "darfur OR olive"),
                "search page": page("/?q=darfur"),
                "cable page": page("/cable/07MOSCOW5349"),
            }
            for op in ops.values():  # warm: index caught up, catalog and searcher opened
                op()
            figures: dict[tuple[str, str], list[tuple[int, float]]] = {}
            for _ in range(args.rounds):
                for mode in ("baseline", "cached"):
                    for name, op in ops.items():
                        if mode == "baseline":
                            with _uncached():
                                got = _measure(op)
                        else:
                            got = _measure(op)
                        figures.setdefault((name, mode), []).append(got)
    print(f"lake on moto S3 (127.0.0.1), {args.rounds} rounds alternating; medians")
    print(f"{'':24}{'requests':>18}{'ms':>22}")
    print(f"{'':24}{'baseline':>9}{'cached':>9}{'baseline':>11}{'cached':>9}{'ratio':>7}")
    for name in ops:
        b, c = figures[(name, "baseline")], figures[(name, "cached")]
        bn, cn = statistics.median(n for n, _ in b), statistics.median(n for n, _ in c)
        bm, cm = statistics.median(m for _, m in b), statistics.median(m for _, m in c)
        print(f"{name:24}{bn:9.0f}{cn:9.0f}{bm:11.1f}{cm:9.1f}{bm / cm:7.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
