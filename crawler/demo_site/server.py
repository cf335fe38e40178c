"""HTTP server for demo sites: one ThreadingHTTPServer per site on loopback, in daemon threads.

Responses carry ETag and Last-Modified and honour If-None-Match / If-Modified-Since with 304,
so conditional-GET code has something real to talk to. Every request is logged.

Extra behaviour (faults for politeness tests: 429, slow pages, redirect loops...) plugs in
through `DemoServer.routes`: a dict of path prefix -> handler, consulted longest prefix first
before the site's own pages. A handler gets a `DemoRequest` and returns a `Page`, None to fall
through to the next prefix / the site, or `HANDLED` after writing the response itself.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple
from urllib.parse import urlsplit

from crawler.demo_site.pages import Page, render_page
from crawler.demo_site.world import DemoSite

# Returned by a route handler that already wrote its whole response to `request.handler`.
HANDLED = Page(0, b"")


class LoggedRequest(NamedTuple):
    """One request as the server saw it."""

    time: float
    method: str
    path: str  # path and query, as sent
    headers: dict[str, str]


@dataclass(frozen=True)
class DemoRequest:
    """What a route handler gets."""

    site: DemoSite
    server: DemoServer
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    handler: BaseHTTPRequestHandler  # for handlers that write raw bytes themselves


RouteHandler = Callable[[DemoRequest], Page | None]


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], site: DemoSite, owner: DemoServer) -> None:
        super().__init__(address, _Handler)
        self.site, self.owner = site, owner


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as crawlers use it
    # Headers and body go out in separate writes; with Nagle on, each response would wait
    # for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server_version = "DemoNews/1.0"
    server: _SiteHTTPServer

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the request log is kept in memory instead of printed."""

    def _serve(self, head: bool) -> None:
        owner, site = self.server.owner, self.server.site
        headers = {k: v for k, v in self.headers.items()}
        owner._log(site.key, LoggedRequest(time.time(), self.command, self.path, headers))
        parts = urlsplit(self.path)
        request = DemoRequest(site, owner, self.command, parts.path, parts.query, headers, self)
        page = owner._dispatch(request)
        if page is HANDLED:
            return
        self._send(page, head)

    def _send(self, page: Page, head: bool) -> None:
        extra: list[tuple[str, str]] = list(page.headers)
        status, body = page.status, page.body
        if 200 <= status < 300:
            etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
            extra.append(("ETag", etag))
            if page.last_modified is not None:
                extra.append(("Last-Modified", format_datetime(page.last_modified, usegmt=True)))
            if _not_modified(dict(self.headers.items()), etag, page.last_modified):
                status, body = 304, b""
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)


def _not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


class DemoServer:
    """Demo sites served on loopback; use as a context manager or call stop()."""

    def __init__(self, sites: list[DemoSite], host: str = "127.0.0.1", port: int = 0) -> None:
        self.sites: dict[str, DemoSite] = {s.key: s for s in sites}
        self.routes: dict[str, RouteHandler] = {}
        self.request_log: list[LoggedRequest] = []
        self._log_sites: list[str] = []
        self._lock = threading.Lock()
        self._servers: list[_SiteHTTPServer] = []
        self._threads: list[threading.Thread] = []
        self.url: dict[str, str] = {}
        for n, site in enumerate(sites):
            httpd = _SiteHTTPServer((host, port + n if port else 0), site, self)
            bound_host, bound_port = httpd.server_address[:2]
            self.url[site.key] = f"http://{bound_host!s}:{bound_port}"
            site.set_base_url(self.url[site.key])
            self._servers.append(httpd)

    def start(self) -> DemoServer:
        """Start serving in daemon threads."""
        for httpd in self._servers:
            thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for httpd in self._servers:
            httpd.shutdown()
            httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> DemoServer:
        return self if self._threads else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def advance(self, rounds: int = 1) -> int:
        """Move every site forward; returns the new round."""
        return max(site.advance(rounds) for site in self.sites.values())

    def requests(self, site_key: str | None = None) -> list[LoggedRequest]:
        """A copy of the request log, optionally for one site only."""
        with self._lock:
            return [
                entry
                for entry, key in zip(self.request_log, self._log_sites, strict=True)
                if site_key is None or key == site_key
            ]

    def clear_log(self) -> None:
        """Forget logged requests."""
        with self._lock:
            self.request_log.clear()
            self._log_sites.clear()

    def add_route(self, prefix: str, handler: RouteHandler) -> None:
        """Serve paths starting with `prefix` from `handler` (on every site)."""
        self.routes[prefix] = handler

    def _log(self, site_key: str, entry: LoggedRequest) -> None:
        with self._lock:
            self.request_log.append(entry)
            self._log_sites.append(site_key)

    def _dispatch(self, request: DemoRequest) -> Page:
        for prefix in sorted(self.routes, key=len, reverse=True):
            if request.path.startswith(prefix):
                page = self.routes[prefix](request)
                if page is not None:
                    return page
        return render_page(request.site, request.path, request.query)


def serve(*sites: DemoSite, host: str = "127.0.0.1", port: int = 0) -> DemoServer:
    """Serve sites (both demo sites by default) and return the running server."""
    if not sites:
        from crawler.demo_site import make_sites

        sites = make_sites()
    return DemoServer(list(sites), host, port).start()
