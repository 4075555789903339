"""The reading room of a lake on S3 (moto's S3 server on 127.0.0.1, ``cablelake serve --lake s3://...`` on
127.0.0.1): search, cable, quarantine and dashboard pages over real HTTP, and a publish from another machine picked up
by the next request."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from _s3 import LATE_ID, publish_elsewhere, requests_made, search_lake_on_s3
from _server import Server
from test_http import Tags, search_then_read

from etl.lake import read_table


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Server]]:
    """(lake URI, local folder, server): the search tests' lake on S3 and its reading room."""
    root = tmp_path_factory.mktemp("remote-web")
    with search_lake_on_s3(root) as uri:
        srv = Server(uri)  # the environment points it at the moto server
        try:
            yield uri, root, srv
        finally:
            err = srv.stop()
        assert "Traceback" not in err, err[-3000:]


def test_pages_of_a_lake_on_s3(remote: tuple[str, Path, Server]) -> None:
    uri, _, srv = remote
    search_then_read(srv)
    status, html, _ = srv.get("/quarantine")
    total = read_table(uri, "quarantine").num_rows
    assert status == 200 and total >= 1 and f'data-total="{total}"' in html
    assert srv.get("/cable/07MOSCOW9999")[0] == 404
    status, html, _ = srv.get("/dashboard/")  # built into the server's own folder, not into the store
    assert status == 200 and "lake dashboard" in html


def test_a_page_checks_the_lake_version_once(remote: tuple[str, Path, Server]) -> None:
    """Each page lists the ``_lake`` log once (the cable page searches the index several times: the cable, its
    REFs, its backlinks; all at that one version), and its footer shows that version."""
    uri, _, srv = remote
    for path in ("/cable/07MOSCOW5349", "/?q=darfur+AND+tag%3APGOV", "/quarantine", "/cable/07MOSCOW9999"):
        with requests_made() as seen:
            status, html, _ = srv.get(path)
        assert status in (200, 404), (path, status)
        checks = [r for r in seen if "_lake%2F_delta_log" in r]
        assert len(checks) == 1 and "list-type=2" in checks[0], (path, seen)
        assert 'id="lake-version">v' in html, path


def test_a_store_that_stops_answering(remote: tuple[str, Path, Server], monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of a lake whose store stops answering are 503 with a message (no 500, no traceback)."""
    from starlette.testclient import TestClient

    from etl.web import create_app

    uri, _, _ = remote
    with TestClient(create_app(uri)) as client:
        assert client.get("/?q=darfur").status_code == 200
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{s.getsockname()[1]}")  # nobody listens
        for path in ("/?q=darfur", "/cable/07MOSCOW5349", "/quarantine"):
            res = client.get(path)
            assert res.status_code == 503 and "cannot read the lake now" in res.text, (path, res.text[-500:])
            assert "Traceback" not in res.text


def test_a_publish_from_another_machine_while_serving(remote: tuple[str, Path, Server]) -> None:
    uri, root, srv = remote
    status, html, _ = srv.get("/?q=tobacco")
    assert status == 200 and 'data-total="0"' in html
    publish_elsewhere(uri, root)
    status, html, _ = srv.get("/?q=tobacco")
    assert status == 200 and 'data-total="1"' in html
    assert [a["data-id"] for a in Tags(html).by_class("hit")] == [LATE_ID]
    status, html, _ = srv.get(f"/cable/{LATE_ID}")
    assert status == 200 and "ZIMBABWE TOBACCO AUCTIONS OPEN" in html
