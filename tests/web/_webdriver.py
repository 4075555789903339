"""A headless Chromium driven like a person through chromedriver's W3C WebDriver API (plain HTTP+JSON on
127.0.0.1): open a page, click, type, go back, read the DOM, take screenshots. Chromium runs with the same
no-network flags as the dashboard tests (tests/dashboard/_browser.py)."""

from __future__ import annotations

import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from _browser import FLAGS, chromium

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    def __init__(self, width: int = 1280, height: int = 1000) -> None:
        exe = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        if not Path(exe).exists():
            pytest.skip("chromedriver is not installed (Debian package chromium-driver)")
        binary = chromium()
        self.port = free_port()
        self.proc = subprocess.Popen([exe, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        self.profile = tempfile.mkdtemp(prefix="cablelake-webdriver-")
        deadline = time.monotonic() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        # the test server's address stays reachable; every host name still resolves to nothing
        flags = [f + ", EXCLUDE 127.0.0.1" if f.startswith("--host-resolver-rules=") else f for f in FLAGS]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": binary, "args": [*flags, f"--user-data-dir={self.profile}", f"--window-size={width},{height}"],
        }}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())["value"]
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"webdriver {method} {path}: {exc.read()[:500]!r}") from None

    def _s(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def get(self, url: str) -> None:
        self._s("POST", "/url", {"url": url})

    def back(self) -> None:
        self._s("POST", "/back")

    @property
    def url(self) -> str:
        return str(self._s("GET", "/url"))

    def find(self, css: str) -> str:
        return str(self._s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT])

    def find_all(self, css: str) -> list[str]:
        return [e[ELEMENT] for e in self._s("POST", "/elements", {"using": "css selector", "value": css})]

    def click(self, el: str) -> None:
        self._s("POST", f"/element/{el}/click")

    def type(self, el: str, text: str) -> None:
        self._s("POST", f"/element/{el}/clear")
        self._s("POST", f"/element/{el}/value", {"text": text})

    def text(self, el: str) -> str:
        return str(self._s("GET", f"/element/{el}/text"))

    def attr(self, el: str, name: str) -> str | None:
        v = self._s("GET", f"/element/{el}/attribute/{name}")
        return None if v is None else str(v)

    def js(self, script: str, *args: Any) -> Any:
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, css: str, timeout: float = 15) -> str:
        deadline = time.monotonic() + timeout
        while True:
            found = self.find_all(css)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {css!r} on {self.url}")
            time.sleep(0.1)

    def screenshot(self, out: Path) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(self._s("GET", "/screenshot")))
        return out

    def quit(self) -> None:
        try:
            self._call("DELETE", f"/session/{self.session}")
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            shutil.rmtree(self.profile, ignore_errors=True)
