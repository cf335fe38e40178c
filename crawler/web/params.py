"""Request parsing shared by the web UI's handlers: parameters, JSON or HTML, one-line errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from starlette.requests import Request

from crawler.web.facets import FacetCache
from storage import query
from storage.db import Archive

MAX_PARAM = 500
NextFires = Callable[[], dict[str, str | None]]


class BadRequest(Exception):
    """A request the UI cannot answer: its one-line message and HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class WebState:
    """What the handlers share: the read-only archive, the WARC store, the templates."""

    archive: Archive
    warc_dir: Path | None
    templates: jinja2.Environment
    next_fires: NextFires | None
    facets: FacetCache


# -- request helpers --------------------------------------------------------------------


def wants_json(request: Request) -> bool:
    """JSON for /api/… paths, or when the client asks for it in preference to HTML."""
    if request.url.path.startswith("/api/") or request.query_params.get("format") == "json":
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def int_param(value: str | None, name: str, *, default: int | None = None, lo: int = 1) -> int:
    if value is None or value == "":
        if default is None:
            raise BadRequest(f"{name} is required")
        return default
    if not value.strip().isdigit() or len(value) > 12:
        raise BadRequest(f"{name} must be a whole number, not {value[:40]!r}")
    n = int(value)
    if n < lo:
        raise BadRequest(f"{name} must be {lo} or more, not {n}")
    return n


def text_param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > MAX_PARAM:
        raise BadRequest(f"{name} is too long ({len(value)} characters; at most {MAX_PARAM})")
    return value.strip()


def filters_of(request: Request) -> query.Filters:
    since, until = text_param(request, "since"), text_param(request, "until")
    start = query.parse_when(since) if since else None
    end = query.parse_when(until, end=True) if until else None
    if start and end and start >= end:
        raise BadRequest(f"since {since} is not before until {until}")
    return query.Filters(
        site=text_param(request, "site"),
        since=start,
        until=end,
        author=text_param(request, "author"),
        language=text_param(request, "language"),
    )


def state_of(request: Request) -> WebState:
    """The app's shared state."""
    st: WebState = request.app.state.web
    return st
