"""The reading room: a read-only Starlette app over one lake (search, cable, quarantine, dashboard).

Everything a page shows comes from the lake and is untrusted: templates autoescape every value, and the
one piece of markup built in Python (snippet highlights) escapes the text itself. Pages load nothing from
the network (our own CSS, no scripts of ours) and the Content-Security-Policy forbids it anyway. Only GET
and HEAD are routed. Each request reads the lake's current version, so a publish while the server runs is
picked up by the next request (the searcher reloads the index; the catalog is reopened). A request checks
the lake's version once (one LIST on an object store) and every search of its page runs at that version.
"""

from __future__ import annotations

import functools
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import anyio
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from etl.lake import remote_uri
from etl.search import FIELDS, QueryError, Searcher, SearchUnavailable, lake_version
from etl.web import _data

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
PAGE_SIZE = 20
MAX_PAGE = 250  # 250 pages of 20: offsets stay within the search's bound
TIME_BUDGET = 10.0  # seconds a page may take before the request is answered with 503
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FACET_FIELDS = {"year": "sent", "classification": "classification", "origin": "origin", "tag": "tag"}


def _quote(value: str) -> str:
    return '"' + value.replace('"', " ") + '"'


def facet_query(q: str, facet: str, value: str) -> str:
    """The query narrowed to one facet value (what a facet link searches)."""
    clause = f"{FACET_FIELDS[facet]}:{value}" if facet == "year" else f"{FACET_FIELDS[facet]}:{_quote(value)}"
    return f"({q}) AND {clause}" if q.strip() else clause


def search_url(**params: Any) -> str:
    """``/?`` and the non-empty ``params``, URL-encoded."""
    return "/?" + urlencode({k: v for k, v in params.items() if v})


@functools.lru_cache(maxsize=4096)
def tag_url(tag: str) -> str:
    """The search of one TAG (a hit list links every TAG of every hit: the same few hundred values)."""
    return search_url(q=f"tag:{tag}")


def facet_links(q: str, facets: dict[str, list[tuple[str, int]]]) -> list[tuple[str, list[tuple[str, int, str]]]]:
    """Each facet's (value, count, link), the links built once here rather than a template call per value."""
    prefix = f"({q}) AND " if q.strip() else ""
    return [(name, [(str(v), n, "/?q=" + quote_plus(prefix + facet_query("", name, str(v)))) for v, n in values])
            for name, values in facets.items() if values]


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


class ReadingRoom:
    def __init__(self, lake: Path | str, *, budget: float = TIME_BUDGET) -> None:
        self.lake: Path | str = remote_uri(lake) or Path(lake)  # (Path() would make s3://b/x s3:/b/x)
        self.budget = budget
        self.searcher = Searcher(self.lake, wait=budget)
        self.env = Environment(
            loader=FileSystemLoader(str(HERE / "templates")),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["search_url"] = search_url
        self.env.globals["tag_url"] = tag_url
        self.env.globals["fields"] = FIELDS
        self._con_lock = threading.Lock()
        self._con: Any = None
        self._con_version: str | None = None
        self._dash_lock = threading.Lock()
        self._dash_dir = Path(tempfile.mkdtemp(prefix="cablelake-web-dashboard-"))
        self._dash_version: str | None = None

    # ------------------------------------------------------------------------------------ plumbing

    def render(self, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        """The page ``name``; the footer shows ``lake_version`` (the version the page was read at; checked
        here only for a page that read nothing)."""
        if ctx.get("lake_version") is None:
            ctx["lake_version"] = self._version()
        return HTMLResponse(self.env.get_template(name).render(**ctx), status_code=status)

    def _version(self) -> str:
        try:
            return lake_version(self.lake)
        except (OSError, ValueError):
            return "?"

    def cursor(self) -> tuple[Any, str]:
        """A cursor on a catalog connection of the lake's current version, and that version (the connection
        is kept while the version holds: opening the catalog costs tens of ms; a publish makes the next request
        open the new one)."""
        from etl import catalog

        with self._con_lock:
            version = self._version()
            if self._con is None or version != self._con_version:
                old, self._con = self._con, catalog.connect(self.lake, read_only=True)
                # Parquet footers read once per version, not per page (a third off the cable page)
                self._con.execute("SET parquet_metadata_cache = true")
                self._con_version = version
                if old is not None:
                    old.close()
            return self._con.cursor(), version

    async def _bounded(self, fn: Any, *args: Any) -> Any:
        """Run ``fn`` in a worker thread, answering 503 when it passes the time budget."""
        try:
            with anyio.fail_after(self.budget):
                # abandon_on_cancel: the answer leaves at the deadline; the thread ends its work unobserved
                return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)
        except TimeoutError:
            raise HTTPException(503, f"the request took more than {self.budget:.0f} s; narrow the query") from None

    # --------------------------------------------------------------------------------------- pages

    async def search_page(self, request: Request) -> Response:
        q = request.query_params.get("q", "")
        sort = request.query_params.get("sort", "relevance")
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 1
        page = min(max(page, 1), MAX_PAGE)
        ctx: dict[str, Any] = {"q": q, "sort": sort, "page": page, "result": None, "error": None}
        if not q.strip():
            return self.render("search.html", **ctx)
        try:
            res = await self._bounded(
                lambda: self.searcher.search(q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, sort=sort)
            )
        except QueryError as exc:
            ctx["error"] = str(exc)
            return self.render("search.html", status=400, **ctx)
        except SearchUnavailable as exc:
            ctx["error"] = str(exc)
            return self.render("search.html", status=503, **ctx)
        pages = max(1, min(MAX_PAGE, -(-res.total // PAGE_SIZE)))
        ctx.update(result=res, pages=pages, facets=facet_links(q, res.facets), lake_version=res.version)
        return self.render("search.html", **ctx)

    async def cable_page(self, request: Request) -> Response:
        rid = request.path_params["rid"]

        def read() -> _data.Cable | None:
            snap = self.searcher.at()  # the page's one version check: its searches all run at that version
            request.state.lake_version = snap.version
            return _data.cable(snap, rid)

        try:
            cab = await self._bounded(read)
        except SearchUnavailable as exc:
            raise HTTPException(503, str(exc)) from None
        if cab is None:
            raise HTTPException(404, f"no cable {rid!r} in the lake")
        if cab.row["reference_id"] != rid:  # reached by a canonical or PlusD id
            return RedirectResponse(f"/cable/{cab.row['reference_id']}", status_code=302)
        return self.render("cable.html", c=cab, r=cab.row, raw_chars=_data.RAW_CHARS,
                           lake_version=request.state.lake_version)

    async def quarantine_page(self, request: Request) -> Response:
        reason = request.query_params.get("reason") or None
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 1

        def read() -> tuple[_data.QuarantinePage, str]:
            cur, version = self.cursor()
            return _data.quarantine(cur, page, reason), version

        qp, version = await self._bounded(read)
        return self.render("quarantine.html", qp=qp, reason=reason, raw_chars=_data.RAW_CHARS, lake_version=version)

    async def dashboard(self, request: Request) -> Response:
        name = request.path_params.get("path") or "index.html"
        root = await self._bounded(self._dashboard_dir)
        target = (root / name).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            raise HTTPException(404, "no such dashboard file")
        media = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}.get(target.suffix)
        if media is None:
            raise HTTPException(404, "no such dashboard file")
        return Response(target.read_bytes(), media_type=media + "; charset=utf-8")

    def _dashboard_dir(self) -> Path:
        """The dashboard of the lake's current version, built into a folder of the server's own (the lake
        is not written) and rebuilt when a publish moved the lake."""
        from etl.dashboard import build

        with self._dash_lock:
            version = self._version()
            if version != self._dash_version:
                fresh = Path(tempfile.mkdtemp(prefix="cablelake-web-dashboard-"))
                build(self.lake, fresh)
                old, self._dash_dir, self._dash_version = self._dash_dir, fresh, version
                shutil.rmtree(old, ignore_errors=True)
            return self._dash_dir

    async def error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
        if isinstance(exc, OSError):  # the lake's object store stopped answering, or the lake went away
            status, detail = 503, f"cannot read the lake now ({exc}); try again later"
            log.warning("reading room: %s on %s", detail, request.url.path)
        if status == 500:
            log.exception("reading room error on %s", request.url.path, exc_info=exc)
        return self.render("error.html", status=status, status_code=status, detail=detail,
                           lake_version=getattr(request.state, "lake_version", None))

    def close(self) -> None:
        shutil.rmtree(self._dash_dir, ignore_errors=True)
        if self._con is not None:
            self._con.close()


def _lifespan(room: ReadingRoom) -> Any:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            room.close()

    return lifespan


def create_app(lake: Path | str, *, budget: float = TIME_BUDGET) -> Starlette:
    """The reading room of ``lake`` as an ASGI app."""
    room = ReadingRoom(lake, budget=budget)
    methods = ["GET", "HEAD"]
    app = Starlette(
        routes=[
            Route("/", room.search_page, methods=methods),
            Route("/cable/{rid}", room.cable_page, methods=methods),
            Route("/quarantine", room.quarantine_page, methods=methods),
            Route("/dashboard", lambda r: RedirectResponse("/dashboard/", 302), methods=methods),
            Route("/dashboard/", room.dashboard, methods=methods),
            Route("/dashboard/{path:path}", room.dashboard, methods=methods),
            Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        ],
        middleware=[Middleware(_Headers)],
        # OSError: handled as an answer (503), not re-raised to the server as a crash (see ReadingRoom.error)
        exception_handlers={HTTPException: room.error, OSError: room.error, Exception: room.error},
        lifespan=_lifespan(room),
    )
    app.state.room = room
    return app


def serve(lake: Path | str, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the reading room with uvicorn until interrupted."""
    import uvicorn

    t0 = time.perf_counter()
    app = create_app(lake)
    log.info("reading room of %s ready in %.2fs", lake, time.perf_counter() - t0)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
