"""A moto S3 server on 127.0.0.1 for the object-store tests (``from _s3 import s3`` makes the fixture)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
REQUESTS: list[str] = []
"""Every request the moto server of :func:`moto_lake` answered, as ``METHOD /bucket/key?query`` (cleared by
:func:`requests_made`)."""


def _counting_server() -> Any:
    """moto's threaded S3 server with every request recorded in :data:`REQUESTS`."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class Counting(ThreadedMotoServer):
        def _server_entry(self) -> None:  # moto's own, with the app wrapped
            app = DomainDispatcherApplication(create_backend_app)

            def counted(environ: dict[str, Any], start_response: Any) -> Any:
                query = environ.get("QUERY_STRING")
                REQUESTS.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}" + (f"?{query}" if query else ""))
                return app(environ, start_response)

            self._server = make_server(self._ip_address, self._port, counted, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Counting(ip_address="127.0.0.1", port=0, verbose=False)


@contextmanager
def requests_made() -> Iterator[list[str]]:
    """The requests the moto server answers while the block runs (the list is filled when the block ends)."""
    REQUESTS.clear()
    seen: list[str] = []
    try:
        yield seen
    finally:
        seen.extend(REQUESTS)
        REQUESTS.clear()


@contextmanager
def moto_lake(work: Path | None = None) -> Iterator[str]:
    """A bucket on a moto S3 server on 127.0.0.1 (a random port), the environment pointing at it (and the
    lake's local work folder at ``work`` when given) while the block runs; yields the lake URI."""
    server = _counting_server()
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}"}
    if work is not None:
        env["CABLELAKE_WORK_DIR"] = str(work)
    try:
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            import boto3

            bucket = f"cables-{uuid.uuid4().hex[:12]}"  # moto's state outlives a server in the same process
            boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket=bucket)
            yield f"s3://{bucket}/lake"
    finally:
        server.stop()


@contextmanager
def search_lake_on_s3(root: Path) -> Iterator[str]:
    """The search tests' lake (``_search_lakes``) published to S3 by the pipeline, which indexes it in the local
    work folder ``root/work``; yields the lake URI."""
    from _search_lakes import write_dumps

    from etl.pipeline import run

    with moto_lake(root / "work") as uri:
        run([str(write_dumps(root / "in"))], uri)
        yield uri


@pytest.fixture
def s3() -> Iterator[str]:
    """A bucket on a moto S3 server on 127.0.0.1 (a random port); yields the lake URI."""
    with moto_lake() as uri:
        yield uri


def bucket_keys(uri: str) -> list[str]:
    """Every object key of the lake's bucket."""
    import boto3

    bucket = uri.removeprefix("s3://").split("/", 1)[0]
    pages = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).get_paginator("list_objects_v2")
    return [o["Key"] for page in pages.paginate(Bucket=bucket) for o in page.get("Contents", [])]


LATE_ID = "10HARARE50"  # the cable publish_elsewhere() adds; the only one with the word "tobacco"


def publish_elsewhere(uri: str, root: Path) -> None:
    """``cablelake run`` of one new cable (:data:`LATE_ID`) into the lake at ``uri``, in another process with its
    own work folder (``root/work-b``): what a second machine (another Celery worker) publishing does."""
    from _search_lakes import telegram

    dumps = root / "late"
    dumps.mkdir(exist_ok=True)
    (dumps / f"{LATE_ID}.txt").write_text(telegram(
        "HARARE", 50, 2010, 2, 3, tags="ECON ZI", subject="ZIMBABWE TOBACCO AUCTIONS OPEN",
        paragraphs=["The tobacco auction floors opened in Harare.", "Growers were paid in dollars."]), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO), "CABLELAKE_WORK_DIR": str(root / "work-b")}
    out = subprocess.run([sys.executable, "-m", "etl.cli", "run", str(dumps), "--lake", uri], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
