"""A private PostgreSQL server for the tests: a fresh cluster in a temp folder, on 127.0.0.1 and a free
port (its unix socket in the cluster folder, not /var/run), stopped and removed at the end.

Debian's server binaries (``/usr/lib/postgresql/<version>/bin``; ``make test`` installs the package when
missing). ``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` system user
and its commands run through ``runuser``; as another user they run as that user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "airflow"  # the cluster's superuser (trust auth: the server only listens on 127.0.0.1)


def pg_bin() -> Path:
    """Folder of ``initdb``/``pg_ctl``; skips when PostgreSQL is missing (fails under CI or
    CABLELAKE_REQUIRE_POSTGRES, as the browser tests do)."""
    found = shutil.which("pg_ctl")
    candidates = ([str(Path(found).parent)] if found else []) + sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for c in candidates:
        if (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    msg = "PostgreSQL server binaries not found (`make postgres` installs Debian's package)"
    if os.environ.get("CABLELAKE_REQUIRE_POSTGRES") or os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Postgres:
    port: int
    data: Path

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new database; returns its SQLAlchemy URL."""
        import psycopg2

        con = psycopg2.connect(host="127.0.0.1", port=self.port, user=USER, dbname="postgres")
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.url(name)


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser") is None:
        pytest.fail("running as root needs `runuser` to start PostgreSQL as the postgres user")
    return ["runuser", "-u", "postgres", "--", *cmd]


def _run(cmd: list[str], timeout: float = 120) -> None:
    proc = subprocess.run(_as_owner(cmd), capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """Start a private cluster; stop it (``pg_ctl stop -m fast``) and delete its folder on exit."""
    bindir = pg_bin()
    base = Path(tempfile.mkdtemp(prefix="cablelake-pg-"))  # under /tmp: reachable by the postgres user
    data = base / "data"
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = _free_port()
    started = False
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "-E", "UTF8", "--no-sync"])
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "start"])
        started = True
        yield Postgres(port, data)
    finally:
        if started:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(base, ignore_errors=True)
