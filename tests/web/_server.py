"""The reading room under test: ``cablelake serve`` in a subprocess on 127.0.0.1 (shared by the web tests
and bench/search_bench.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from _webdriver import free_port

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"


class Server:
    """``cablelake serve`` in a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, lake: Path) -> None:
        self.lake = lake
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "etl.cli", "serve", "--lake", str(lake), "--port", str(self.port)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.base + "/", timeout=5).read()
                break
            except (urllib.error.URLError, ConnectionError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    _, err = self.proc.communicate(timeout=5) if self.proc.poll() is not None else ("", "")
                    raise AssertionError(f"server did not start: {err[-2000:]}") from None
                time.sleep(0.2)

    def get(self, path: str, method: str = "GET") -> tuple[int, str, dict[str, str]]:
        req = urllib.request.Request(self.base + path, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read().decode("utf-8"), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace"), dict(exc.headers)

    def stop(self) -> str:
        self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return err
