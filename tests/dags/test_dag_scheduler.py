"""The nightly DAG under a real scheduler: ``airflow standalone`` (scheduler, dag-processor, api-server,
triggerer; LocalExecutor, parallelism 6) on 127.0.0.1, with its own AIRFLOW_HOME, lake and landing under tmp,
and its metadata DB on a PostgreSQL server the test starts itself (``_postgres.py``: a private cluster in a
temp folder on a free port, stopped at the end), as in production. ``make run`` keeps embedded SQLite.

Runs are triggered through the REST API (``POST /api/v2/dags/{dag_id}/dagRuns`` with a JWT from
``POST /auth/token``) and through ``airflow backfill create``. Every wait is bounded; at the end every
process the test started is stopped with SIGINT (by pid) and the test checks that none is left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from _postgres import postgres_server
from airflow_harness import BIN, SAMPLE, airflow_env, lake_count

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

DAG_ID = "cablelake_nightly"
START_TIMEOUT = 240.0
RUN_TIMEOUT = 420.0
UNHEALTHY_GRACE = 180.0
# No proxy may see this traffic: everything goes to 127.0.0.1 directly.
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _processes_of(home: Path) -> list[int]:
    """Pids of live processes whose environment has AIRFLOW_HOME=<home> (ours, whatever their parent)."""
    needle = f"AIRFLOW_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env and state != "Z":
            pids.append(int(entry.name))
    return pids


@dataclass
class Standalone:
    base: Path
    home: Path
    lake: Path
    landing: Path
    url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    token: str = ""
    unhealthy_since: float | None = None
    started_in: float = 0.0
    run_times: dict[str, float] = field(default_factory=dict)

    def request(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        attempts = 4 if method == "GET" else 1  # reads are retried through a load stall of this 2-core machine
        for attempt in range(attempts):
            req = urllib.request.Request(self.url + path, data=data, method=method)
            req.add_header("Content-Type", "application/json")
            if auth:
                req.add_header("Authorization", f"Bearer {self.token}")
            try:
                with _HTTP.open(req, timeout=30) as resp:
                    text = resp.read().decode()
                return json.loads(text) if text else None
            except (TimeoutError, ConnectionError, urllib.error.URLError) as exc:
                if isinstance(exc, urllib.error.HTTPError) or attempt == attempts - 1:
                    raise
                time.sleep(2 * (attempt + 1))
        raise AssertionError("unreachable")

    def log_tail(self, n: int = 60) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def trigger(self, conf: dict[str, Any] | None = None) -> str:
        run = self.request(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )
        run_id: str = run["dag_run_id"]
        return run_id

    def check_alive(self) -> None:
        """Fail at once when standalone is gone, and when its scheduler stays unhealthy for minutes (a
        heartbeat late through a load stall on this 2-core machine is waited out, not failed)."""
        if self.proc.poll() is not None:
            raise AssertionError(f"airflow standalone exited ({self.proc.returncode})\n{self.log_tail()}")
        health = self.request("GET", "/api/v2/monitor/health", auth=False)
        if health["scheduler"]["status"] == "healthy":
            self.unhealthy_since = None
            return
        now = time.monotonic()
        self.unhealthy_since = self.unhealthy_since or now
        if now - self.unhealthy_since > UNHEALTHY_GRACE:
            raise AssertionError(
                f"scheduler unhealthy for {now - self.unhealthy_since:.0f}s: {health}\n{self.log_tail(120)}"
            )

    def runs(self, dag_id: str = DAG_ID, query: str = "") -> list[dict[str, Any]]:
        out = self.request("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100{query}")
        runs: list[dict[str, Any]] = out["dag_runs"]
        return runs

    def wait_run(self, run_id: str, timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
        t0 = time.monotonic()
        quoted = urllib.parse.quote(run_id, safe="")
        while time.monotonic() - t0 < timeout:
            self.check_alive()
            run: dict[str, Any] = self.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}")
            if run["state"] in ("success", "failed"):
                self.run_times[run_id] = time.monotonic() - t0
                return run
            time.sleep(2)
        tis = self.task_instances(run_id)
        states = [(t["task_id"], t["map_index"], t["state"]) for t in tis]
        raise AssertionError(f"{run_id} not finished after {timeout}s: {states}\n{self.log_tail()}")

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        quoted = urllib.parse.quote(run_id, safe="")
        out = self.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quoted}/taskInstances?limit=100")
        tis: list[dict[str, Any]] = out["task_instances"]
        return tis


def _wait(what: str, check: Callable[[], bool], timeout: float, sa: Standalone) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if sa.proc.poll() is not None:
            raise AssertionError(
                f"airflow standalone exited ({sa.proc.returncode}) while waiting for {what}\n" + sa.log_tail()
            )
        try:
            if check():
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{sa.log_tail()}")


def _healthy(sa: Standalone) -> bool:
    health = sa.request("GET", "/api/v2/monitor/health", auth=False)
    return all(health[c]["status"] == "healthy" for c in ("metadatabase", "scheduler", "dag_processor"))


def _login(sa: Standalone) -> bool:
    passwords = json.loads((sa.home / "simple_auth_manager_passwords.json.generated").read_text())
    out = sa.request(
        "POST", "/auth/token", {"username": "cablelake", "password": passwords["cablelake"]}, False
    )
    sa.token = out["access_token"]
    return bool(sa.token)


def _dag_parsed(sa: Standalone) -> bool:
    dag = sa.request("GET", f"/api/v2/dags/{DAG_ID}")
    return dag["dag_id"] == DAG_ID and not dag["is_paused"]


def _stop(sa: Standalone) -> list[int]:
    """SIGINT to standalone (it stops its components), escalate only if needed; returns leftover pids."""
    if sa.proc.poll() is None:
        os.kill(sa.proc.pid, signal.SIGINT)
        try:
            sa.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
    leftovers = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        leftovers = _processes_of(sa.home)
        if not leftovers and sa.proc.poll() is not None:
            return []
        time.sleep(0.5)
    # last resort: the process group we created, then any stray process of this AIRFLOW_HOME, by pid
    try:
        os.killpg(sa.proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in _processes_of(sa.home):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    sa.proc.wait(timeout=10)
    return leftovers


@pytest.fixture(scope="module")
def metadata_db() -> Iterator[str]:
    """SQLAlchemy URL of Airflow's metadata DB on a private PostgreSQL server (stopped at the end)."""
    with postgres_server() as pg:
        yield pg.create_database("airflow")


@pytest.fixture(scope="module")
def standalone(
    tmp_path_factory: pytest.TempPathFactory, metadata_db: str, request: pytest.FixtureRequest
) -> Iterator[Standalone]:
    base = tmp_path_factory.mktemp("standalone")
    home, lake, landing = base / "airflow", base / "lake", base / "landing"
    for d in (home, lake, landing):
        d.mkdir()
    # Unpaused, the DAG gets its latest scheduled run at once (catchup is off); give it an empty day folder
    # so that it ingests nothing and the dumps the tests drop are left to the runs they trigger.
    today = datetime.now(UTC).date()
    for day in (today - timedelta(days=1), today):
        (landing / day.isoformat()).mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = airflow_env(
        home,
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=url,
        AIRFLOW__API__WORKERS="1",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{url}/execution/",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__CORE__PARALLELISM="6",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="cablelake:admin",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD="120",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        CABLELAKE_LAKE=str(lake),
        CABLELAKE_LANDING=str(landing),
        CABLELAKE_SHARD_FILES="2",
        CABLELAKE_PARSE_CONCURRENCY="4",
        CABLELAKE_TASK_RETRIES="0",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata_db,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # standalone starts `airflow` from PATH
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(proxy, None)
    log = base / "standalone.log"
    t0 = time.perf_counter()
    migrate = subprocess.run(
        [str(BIN / "airflow"), "db", "migrate"], env=env, cwd=str(base), capture_output=True, text=True, timeout=600
    )
    assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(BIN / "airflow"), "standalone"],
            env=env,
            cwd=str(base),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: a last resort for cleanup
        )
    sa = Standalone(base, home, lake, landing, url, env, proc, log)
    try:
        _wait("health", lambda: _healthy(sa), START_TIMEOUT, sa)
        _wait("login", lambda: _login(sa), 60, sa)
        _wait(f"{DAG_ID} parsed", lambda: _dag_parsed(sa), 120, sa)
        sa.started_in = time.perf_counter() - t0
        yield sa
    finally:
        leftovers = _stop(sa)
        total = time.perf_counter() - t0
        report = (
            f"scheduler test wall time: {total:.1f}s (standalone start {sa.started_in:.1f}s; runs "
            + ", ".join(f"{k} {v:.1f}s" for k, v in sa.run_times.items())
            + ")"
        )
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if capture is not None:  # shown even when pytest captures output
            with capture.global_and_fixture_disabled():
                print("\n" + report)
        else:
            print(report)
        assert leftovers == [], f"processes left after SIGINT (killed): {leftovers}"


def _copy_dump(dest: Path, n: int) -> Path:
    text = (SAMPLE / "07MOSCOW5349.txt").read_text(encoding="utf-8").replace("5349", f"{7000 + n}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    return dest


def test_rest_triggered_run_ingests_a_dropped_dump(standalone: Standalone) -> None:
    sa = standalone
    shutil.copy2(SAMPLE / "07MOSCOW5349.txt", sa.landing / "07MOSCOW5349.txt")
    run_id = sa.trigger()
    run = sa.wait_run(run_id)
    tis = {(t["task_id"], t["map_index"]): t["state"] for t in sa.task_instances(run_id)}
    assert run["state"] == "success", (tis, sa.log_tail())
    assert lake_count(sa.lake) == 1
    assert lake_count(sa.lake, "SELECT count(*) FROM cables WHERE reference_id = '07MOSCOW5349'") == 1


def _max_overlap(intervals: list[tuple[datetime, datetime]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = cur = 0
    for _, delta in events:
        cur += delta
        best = max(best, cur)
    return best


def test_local_executor_parses_shards_in_parallel(standalone: Standalone) -> None:
    """Six new dumps, two per shard: three mapped parse_dump instances, run side by side."""
    sa = standalone
    for n in range(6):
        _copy_dump(sa.landing / f"07MOSCOW{7000 + n}.txt", n)
    before = lake_count(sa.lake)
    run_id = sa.trigger()
    run = sa.wait_run(run_id)
    tis = sa.task_instances(run_id)
    assert run["state"] == "success", [(t["task_id"], t["map_index"], t["state"]) for t in tis]
    parses = [t for t in tis if t["task_id"] == "parse_dump"]
    assert sorted(t["map_index"] for t in parses) == [0, 1, 2]
    assert all(t["state"] == "success" for t in parses)
    spans = [(datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"])) for t in parses]
    assert _max_overlap(spans) >= 2, f"mapped parse tasks did not overlap: {spans}"
    # only the new dumps were read: the one of the first test is in the lake's manifest
    assert lake_count(sa.lake) == before + 6


def _overlap(a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]) -> bool:
    """True when some interval of ``a`` and some interval of ``b`` were open at the same time."""
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)


def test_backfill_runs_two_days_side_by_side(standalone: Standalone) -> None:
    """A backfill of two days with --max-active-runs 2: two DAG runs at once (backfill runs are not held
    by the DAG's max_active_runs=1), each mapping parse_dump over two shards of its day's folder, and the
    parse tasks of the two runs overlap in time (task instance start/end dates from the metadata DB); each
    run ingests only its day (the third day stays out), their publishes queue on the lake lock."""
    sa = standalone
    for day, base in (("2025-06-01", 100), ("2025-06-02", 200), ("2025-06-03", 300)):
        n = 1 if day == "2025-06-03" else 4  # SHARD_FILES=2: two shards per backfilled day
        for i in range(n):
            _copy_dump(sa.landing / day / f"d{i}.txt", base + i)
    cmd = [str(BIN / "airflow"), "backfill", "create", "--dag-id", DAG_ID]
    cmd += ["--from-date", "2025-06-01", "--to-date", "2025-06-02", "--max-active-runs", "2"]
    proc = subprocess.run(cmd, env=sa.env, cwd=str(sa.base), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    t0 = time.monotonic()
    runs: list[dict[str, Any]] = []
    while time.monotonic() - t0 < 2 * RUN_TIMEOUT:
        sa.check_alive()
        runs = sa.runs(query="&run_type=backfill")
        if len(runs) >= 2 and all(r["state"] in ("success", "failed") for r in runs):
            break
        time.sleep(3)
    else:
        raise AssertionError(f"backfill not finished: {runs}\n{sa.log_tail()}")
    sa.run_times["backfill"] = time.monotonic() - t0
    assert sorted(r["logical_date"][:10] for r in runs) == ["2025-06-01", "2025-06-02"]
    assert all(r["state"] == "success" for r in runs), runs
    spans = []
    for r in runs:
        parses = [t for t in sa.task_instances(r["dag_run_id"]) if t["task_id"] == "parse_dump"]
        assert sorted(t["map_index"] for t in parses) == [0, 1], parses
        spans.append([(datetime.fromisoformat(t["start_date"]), datetime.fromisoformat(t["end_date"])) for t in parses])
    assert _overlap(spans[0], spans[1]), f"the two runs' parse tasks did not overlap: {spans}"
    for day, n in (("2025-06-01", 4), ("2025-06-02", 4), ("2025-06-03", 0)):
        assert lake_count(sa.lake, f"SELECT count(*) FROM cables WHERE source_uri LIKE '%/{day}/%'") == n, day


def test_catalog_dag_follows_the_lake_asset(standalone: Standalone) -> None:
    """Each publish emitted a `cablelake_lake` event with what it added; cablelake_catalog ran on them."""
    sa = standalone
    events = sa.request("GET", "/api/v2/assets/events?limit=50")["asset_events"]
    extras = [e["extra"] for e in events if e["source_dag_id"] == DAG_ID]
    assert extras and all(x["lake"] == str(sa.lake) for x in extras), events
    assert sum(x["cables_added"] for x in extras) == lake_count(sa.lake)
    runs: list[dict[str, Any]] = []

    def caught_up() -> bool:
        nonlocal runs
        sa.check_alive()
        runs = sa.runs("cablelake_catalog")
        return bool(runs) and all(r["state"] in ("success", "failed") for r in runs)

    _wait("cablelake_catalog runs", caught_up, RUN_TIMEOUT, sa)
    assert all(r["state"] == "success" for r in runs), runs
