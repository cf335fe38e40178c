"""The read-only web UI and its JSON twin, a Starlette app over storage.query / storage.browse.

Every page is at a stable URL and also answers JSON (``Accept: application/json`` or the
same path under ``/api/``). Sessions are read-only (``Archive(url, readonly=True)``: SQLite
``query_only``, deferred BEGIN), so the UI never blocks or writes into a running crawl.
User mistakes (unknown id, bad date, huge page, malformed query) are 4xx with one line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from crawler.web import render
from crawler.web.facets import FacetCache
from crawler.web.params import (
    BadRequest,
    NextFires,
    WebState,
    filters_of,
    int_param,
    state_of,
    text_param,
    wants_json,
)
from crawler.web.security import UI_HEADERS, SecurityMiddleware
from crawler.web.streams import export, raw_capture, warc_record
from storage import browse, query
from storage.db import Archive
from storage.errors import NotFound, QueryError, StorageError, WarcError
from storage.search import SORTS
from storage.warc import WarcStore

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
PER_PAGE = 20
MAX_PAGE = 500


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(snippet=render.snippet, pct=render.pct, when=render.when)
    env.globals["day_chart"] = render.day_chart
    return env


def respond(request: Request, template: str, data: dict[str, Any], status: int = 200) -> Response:
    """The page as HTML from `template`, or `data` as JSON when the client wants JSON."""
    if wants_json(request):
        return JSONResponse(data, status_code=status, headers=UI_HEADERS)
    html = state_of(request).templates.get_template(template).render(data=data, request=request)
    return HTMLResponse(html, status_code=status, headers=UI_HEADERS)


def _page(template: str, fn: Callable[[Request, Session], dict[str, Any]]) -> Callable[..., Any]:
    """An endpoint that reads in one read-only session and renders `template` (or JSON)."""

    def endpoint(request: Request) -> Response:
        with state_of(request).archive.session() as session:
            data = fn(request, session)
        return respond(request, template, data)

    endpoint.__name__ = fn.__name__
    return endpoint


# -- pages ------------------------------------------------------------------------------


def home(request: Request, s: Session) -> dict[str, Any]:
    """Sites with counts, last run, extraction health, next fire; articles per day."""
    fires = _next_fires(state_of(request))
    sites = []
    for st in query.stats(s, last_runs=1):
        d = st.as_dict()
        d["last_run"] = d.pop("runs")[0] if d["runs"] else None
        d["next_fire"] = fires.get(st.site)
        sites.append(d)
    return {"sites": sites, "per_day": browse.articles_per_day(s, 30)}


def _next_fires(st: WebState) -> dict[str, str | None]:
    if st.next_fires is None:
        return {}
    try:
        return st.next_fires()
    except Exception as exc:  # the schedule is a nice-to-have on this page, never a 500
        log.warning("cannot read the schedule: %s", exc)
        return {}


def search_page(request: Request, s: Session) -> dict[str, Any]:
    """Hits with snippets, facets, pagination and export links."""
    q = text_param(request, "q")
    filters = filters_of(request)
    sort = request.query_params.get("sort") or "relevance"
    if sort not in SORTS:
        raise BadRequest(f"sort must be relevance or date, not {sort[:40]!r}")
    page = int_param(request.query_params.get("page"), "page", default=1)
    if page > MAX_PAGE:
        raise BadRequest(f"page must be at most {MAX_PAGE}, not {page}: narrow the search")
    params = {k: v for k, v in request.query_params.items() if k != "page" and v}
    data: dict[str, Any] = {"q": q, "params": params, "page": page, "sort": sort}
    if q is None:
        return {**data, "hits": [], "total": 0, "pages": 0, "facets": None}
    counting = state_of(request).facets.start(q, filters)
    hits = query.search(s, q, filters, sort=sort, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)  # type: ignore[arg-type]
    facets = counting()
    total = facets["total"]
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        raise BadRequest(f"page {page} does not exist: this search has {pages} page(s)", 404)
    return {
        **data,
        "total": total,
        "pages": pages,
        "facets": facets,
        "hits": [
            {
                "id": h.article_id,
                "site": h.site,
                "canonical_url": h.canonical_url,
                "title": h.title,
                "authors": h.authors,
                "published_at": query.iso(h.published_at),
                "language": h.language,
                "version": h.version,
                "score": h.score,
                "snippet": h.snippet,
            }
            for h in hits
        ],
    }


def _article_id(request: Request) -> int:
    return int_param(request.path_params["id"], "article id")


def article_page(request: Request, s: Session) -> dict[str, Any]:
    """Metadata, text, versions timeline, URL variants, cluster, captures."""
    article, versions = query.article_history(s, _article_id(request))
    extras = browse.article_extras(s, article["id"])
    timeline = [{k: v for k, v in x.as_dict().items() if k != "text"} for x in versions]
    return {"article": article, **extras, "versions": timeline}


def diff_page(request: Request, s: Session) -> dict[str, Any]:
    """Word-level diff of two versions, inline and side by side."""
    qp = request.query_params
    from_n = int_param(qp.get("from"), "from", default=0) or None
    to_n = int_param(qp.get("to"), "to", default=0) or None
    d = query.diff(s, _article_id(request), from_n, to_n)
    latest = query.get_article(s, d.article_id)["versions"]
    old_body, new_body = render.diff_sides(d.body)
    old_title, new_title = render.diff_sides(d.title)
    step: dict[str, str | None] = {"prev": None, "next": None}
    if d.old.n > 1:
        step["prev"] = f"from={d.old.n - 1}&to={d.old.n}"
    if d.new.n < latest:
        step["next"] = f"from={d.new.n}&to={d.new.n + 1}"
    return {
        "article_id": d.article_id,
        "canonical_url": d.canonical_url,
        "latest": latest,
        "old": {k: v for k, v in d.old.as_dict().items() if k != "text"},
        "new": {k: v for k, v in d.new.as_dict().items() if k != "text"},
        "changed": d.changed,
        "title_changed": any(x.kind != "equal" for x in d.title),
        "title": [{"kind": x.kind, "text": x.text} for x in d.title],
        "body": [{"kind": x.kind, "text": x.text} for x in d.body],
        "step": step,
        "html": {
            "title": render.diff_inline(d.title),
            "title_old": old_title,
            "title_new": new_title,
            "inline": render.diff_inline(d.body, context=1),
            "old": old_body,
            "new": new_body,
        },
    }


def capture_page(request: Request, s: Session) -> dict[str, Any]:
    """The capture row, its WARC record's HTTP status and headers, its extractions."""
    capture_id = int_param(request.path_params["id"], "capture id")
    data = browse.capture_detail(s, capture_id)
    data["record"], data["record_error"] = None, None
    st = state_of(request)
    if st.warc_dir is None:
        data["record_error"] = "no WARC directory configured"
        return data
    try:
        rec = WarcStore(st.warc_dir).read(data["warc_file"], data["warc_offset"])
    except StorageError as exc:
        data["record_error"] = str(exc)
        return data
    data["record"] = {
        "type": rec.record_type,
        "url": rec.url,
        "date": rec.date.isoformat(),
        "status": rec.status,
        "headers": [list(h) for h in rec.headers],
        "payload_digest": rec.payload_digest,
        "payload_bytes": len(rec.payload),
        "refers_to_uri": rec.refers_to_uri,
        "refers_to_date": rec.refers_to_date,
    }
    return data


def runs_page(request: Request, s: Session) -> dict[str, Any]:
    """Crawl history, newest first."""
    page = int_param(request.query_params.get("page"), "page", default=1)
    if page > MAX_PAGE:
        raise BadRequest(f"page must be at most {MAX_PAGE}, not {page}")
    site = text_param(request, "site")
    total, rows = browse.runs(s, site=site, limit=50, offset=(page - 1) * 50)
    pages = max(1, -(-total // 50))
    if page > pages:
        raise BadRequest(f"page {page} does not exist: there are {pages} page(s) of runs", 404)
    return {"runs": rows, "total": total, "page": page, "pages": pages, "site": site}


def run_page(request: Request, s: Session) -> dict[str, Any]:
    """One crawl run."""
    return browse.run_detail(s, int_param(request.path_params["id"], "run id"))


# -- errors -----------------------------------------------------------------------------


def _error(request: Request, status: int, message: str) -> Response:
    message = " ".join(message.split())
    if wants_json(request):
        return JSONResponse({"error": message, "status": status}, status, headers=UI_HEADERS)
    html = (
        state_of(request)
        .templates.get_template("error.html")
        .render(status=status, message=message, request=request)
    )
    return HTMLResponse(html, status, headers=UI_HEADERS)


async def _on_bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return _error(request, exc.status, str(exc))


async def _on_storage_error(request: Request, exc: Exception) -> Response:
    # A WARC record that cannot be read is missing data, like an unknown id: 404.
    status = (
        400
        if isinstance(exc, QueryError)
        else 404
        if isinstance(exc, NotFound | WarcError)
        else 503
    )
    return _error(request, status, str(exc))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: f"no page at {request.url.path}", 405: "this UI is read-only"}.get(
        exc.status_code, str(exc.detail)
    )
    return _error(request, exc.status_code, message)


async def _on_database(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    line = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "error"
    return _error(request, 503, f"database: {line}")


async def _on_crash(request: Request, exc: Exception) -> Response:
    log.exception("error serving %s", request.url.path)
    return _error(request, 500, f"internal error ({type(exc).__name__}): see the server log")


# -- the app ----------------------------------------------------------------------------


PAGES: list[tuple[str, str, Callable[[Request, Session], dict[str, Any]]]] = [
    ("/", "home.html", home),
    ("/search", "search.html", search_page),
    ("/articles/{id}", "article.html", article_page),
    ("/articles/{id}/diff", "diff.html", diff_page),
    ("/captures/{id}", "capture.html", capture_page),
    ("/runs", "runs.html", runs_page),
    ("/runs/{id}", "run.html", run_page),
]


def routes() -> list[BaseRoute]:
    """Each page at its path and under /api/, plus raw captures, WARC records and export."""
    out: list[BaseRoute] = []
    for path, template, fn in PAGES:
        endpoint = _page(template, fn)
        out.append(Route(path, endpoint, name=fn.__name__))
        out.append(
            Route("/api" + path.rstrip("/"), endpoint) if path != "/" else Route("/api/", endpoint)
        )
    out += [
        Route("/captures/{id}/raw", raw_capture),
        Route("/captures/{id}/warc", warc_record),
        Route("/search/export", export),
        Route("/api/search/export", export),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return out


def create_app(
    database_url: str,
    *,
    warc_dir: str | Path | None = None,
    token: str | None = None,
    next_fires: NextFires | None = None,
) -> Starlette:
    """The UI over the archive at `database_url`; with `token`, every request must carry it."""
    archive = Archive(database_url, readonly=True)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> Any:
        yield
        state.facets.close()
        archive.close()

    app = Starlette(
        routes=routes(),
        middleware=[Middleware(SecurityMiddleware, token=token)],
        exception_handlers={
            BadRequest: _on_bad_request,
            StorageError: _on_storage_error,
            HTTPException: _on_http,
            DBAPIError: _on_database,
            Exception: _on_crash,
        },
        lifespan=lifespan,
    )
    state = WebState(
        archive, Path(warc_dir) if warc_dir else None, _env(), next_fires, FacetCache(archive)
    )
    app.state.web = state
    return app
