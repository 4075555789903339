"""A run asked to stop (SIGTERM to the run's process alone, as `kill`, a service manager or a scheduler sends it)
stops with its parse workers, and the next run completes the lake. The workers are children of multiprocessing's
forkserver, not of the run: before this, they outlived a stopped or killed run and parsed on for nobody."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from _cables import REPO, Maker, many
from test_crash import check_lake

from etl.pipeline import _parse


def _session(sid: int) -> list[tuple[int, str]]:
    """The processes of session ``sid`` (pid, command line), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[-1].split()
        if int(fields[3]) == sid and fields[0] not in (b"Z", b"X"):  # (fields: state, ppid, pgrp, session)
            found.append((int(entry.name), cmd))
    return found


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_sigterm_stops_the_run_and_its_parse_workers(tmp_path: Path, make_dump: Maker) -> None:
    expected = set(make_dump("in", many(2000)))
    lake = tmp_path / "lake"
    env = {**os.environ, "CABLELAKE_WORKERS": "2", "CABLELAKE_PARALLEL_MIN_BYTES": "0"}
    cmd = [sys.executable, "-m", "etl.cli", "run", str(tmp_path / "in"), "--lake", str(lake), "--json"]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        # the forkserver and both workers (forked from it: the same command line) are up
        assert _wait(lambda: sum("forkserver" in c for _, c in _session(proc.pid)) >= 3, 120), _session(proc.pid)
        os.kill(proc.pid, signal.SIGTERM)  # the run alone, not its process group
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM, err  # the handler's exit, not the signal's default
        assert _wait(lambda: not _session(proc.pid), 15), _session(proc.pid)  # nothing of the run is left
    finally:
        if proc.poll() is None or _session(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    again = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert check_lake(lake, expected) == expected


def test_a_worker_stops_when_its_run_is_gone() -> None:
    """SIGKILL leaves the run no say: each worker watches the process that started it.

    The worker's exit code (the watch's 70) is not asserted: the pool's own management thread reads it from the
    forkserver's pipe at the same time as ``join`` here, and the loser of that race sees 255 (CPython's
    "forkserver gone" code). Nor is the watch's message: the worker writes it to the stderr the forkserver was
    started with, which an earlier test may own. What is asserted is the behaviour: gone within seconds of its
    run, while its shard would have kept it busy for two minutes."""
    stand_in = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(1, mp_context=ctx, initializer=_parse._init_worker, initargs=(ctx.Lock(), stand_in.pid))
    try:
        job = pool.submit(time.sleep, 120)  # a shard that would outlive the run by minutes
        assert _wait(lambda: job.running(), 60)
        (worker,) = list(pool._processes.values())
        stand_in.kill()
        stand_in.wait()
        pid = worker.pid
        assert pid is not None
        assert _wait(lambda: not _parse._alive(pid), 15)  # stopped long before the sleep's end
        assert isinstance(job.exception(timeout=15), BrokenProcessPool)
    finally:
        for p in pool._processes.values():
            if p.is_alive():
                p.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def test_stopping_the_pool_stops_its_busy_workers() -> None:
    """What the run does on SIGTERM or a failed worker: the workers stop now, not when their shard is done (the
    pool's shutdown forgets its processes, so they must be taken first)."""
    ctx = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(2, mp_context=ctx, initializer=_parse._init_worker,
                               initargs=(ctx.Lock(), os.getpid()))
    jobs = [pool.submit(time.sleep, 120) for _ in range(2)]  # two shards that would take minutes
    assert _wait(lambda: all(j.running() for j in jobs), 60)
    workers = list(pool._processes.values())
    try:
        _parse._stop_workers(pool)
        # gone long before their shards' end (not by exit code: see the test above for the race on it)
        pids = [w.pid for w in workers if w.pid is not None]
        assert len(pids) == 2 and _wait(lambda: not any(_parse._alive(p) for p in pids), 15)
    finally:
        for w in workers:
            if w.is_alive():
                w.kill()
