"""Remote dumps served from a real HTTP server on 127.0.0.1: download, retries, Range resume, checksum."""

from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.sources import discover, iter_records
from etl.sources._open import redact
from tests.sources.conftest import read_all
from tests.sources.test_corpus_counts import EXPECTED, signature


class _Handler(http.server.BaseHTTPRequestHandler):
    root: Path
    flaky: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        name = self.path.split("?")[0].lstrip("/")
        path = self.root / name
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if name.startswith("flaky") and self.flaky.get(name, 0) == 0:
            self.flaky[name] = 1
            self.wfile.write(body[: len(body) // 2])  # cut the connection half-way
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    monkeypatch.setenv("CABLELAKE_CACHE", str(tmp_path / "cache"))
    handler = type("H", (_Handler,), {"root": root, "flaky": {}})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()


CABLE = b"VZCZCXRO0594\r\nR 161902Z FEB 07\r\nFM AMEMBASSY BOGOTA\r\nTO RUEHC/SECSTATE WASHDC 2786\r\nTAGS: PGOV CO\r\n"


def test_download_and_checksum(server: tuple[str, Path]) -> None:
    base, root = server
    (root / "c.txt").write_bytes(CABLE)
    digest = hashlib.sha256(CABLE).hexdigest()
    [dump] = discover([f"{base}/c.txt#sha256={digest}"])
    assert dump.error is None and dump.sha256 == digest and dump.size == len(CABLE)
    [rec] = iter_records(dump)
    assert rec.error is None and rec.lineage.source_uri == f"{base}/c.txt"
    [bad] = discover([f"{base}/c.txt#sha256={'0' * 64}"])
    assert bad.error is not None and bad.error.startswith("checksum_mismatch")
    [rec] = iter_records(bad)
    assert rec.error is not None and rec.error.startswith("checksum_mismatch")


def test_resume_after_cut_connection(server: tuple[str, Path]) -> None:
    base, root = server
    data = CABLE * 20000
    (root / "flaky.txt").write_bytes(data)
    [dump] = discover([f"{base}/flaky.txt"])
    assert dump.error is None
    assert dump.sha256 == hashlib.sha256(data).hexdigest()


def test_missing_url_is_error_record_with_redacted_credentials(server: tuple[str, Path]) -> None:
    base, _ = server
    url = base.replace("http://", "http://alice:s3cret@") + "/nope.zip?token=abc"
    [dump] = discover([url])
    assert "s3cret" not in dump.uri and "abc" not in dump.uri
    [rec] = iter_records(dump)
    assert rec.error is not None and rec.error.startswith("download_failed")
    assert "s3cret" not in rec.error and "token=abc" not in rec.error
    assert redact("https://u:p@h/x?X-Amz-Signature=zz") == "https://***@h/x?X-Amz-Signature=***"


@pytest.mark.corpus
def test_corpus_over_http_gives_same_records(corpus: Path, server: tuple[str, Path]) -> None:
    base, root = server
    zpath = root / "corpus.zip"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for folders, _, _ in EXPECTED.values():
            for folder in folders:
                for path in sorted((corpus / folder).rglob("*")):
                    if path.is_file():
                        zf.write(path, path.relative_to(corpus).as_posix())
    plain = read_all([corpus / f for folders, _, _ in EXPECTED.values() for f in folders])
    remote = read_all([f"{base}/corpus.zip"])
    assert len(remote) == 2607
    assert signature(remote) == signature(plain)
