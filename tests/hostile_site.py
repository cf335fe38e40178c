"""A hostile news site on 127.0.0.1, for the safety tests: every attack the review found.

`HostileSite` runs two servers: the site itself, meant to be crawled as
`http://localhost:PORT/` with `allowed_domains = ["localhost"]`, and an "internal" server
standing in for an address the site must never lead the crawler to (an admin panel,
169.254.169.254...), reached as `http://127.0.0.1:PORT2/`. Both log every request.

The site's pages:
- `/` a category page linking good articles and attacks: a 302 and a meta refresh to the
  internal server, a 302 to `file://`, a `<link rel="next">` to `file://`, huge headers,
  a connection closed without an answer;
- `/feed.xml` an RSS feed with good items and bad ones (`urn:` guid, bad port, `http://[bad/`,
  a date out of range);
- `/sitemap-0.xml` a sitemap index with a `file://` <loc> and a chain of nested indexes
  `/sitemap-1.xml` ... `/sitemap-9.xml`, the last one listing an article;
- `/many/` a category page with 100,000 article links (they answer 404);
- `/robots.txt` with an optional Crawl-delay.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from crawler.demo_site import text

LOCAL_FILE = "file://localhost/etc/passwd"
GOOD = ("good-1", "good-2", "good-3")
FEED_GOOD = ("feed-1", "feed-2")
SITEMAP_CHAIN = 10  # /sitemap-0.xml (configured) ... /sitemap-9.xml
MANY_LINKS = 100_000
BIG_HEADERS = 200  # headers of 1 kB each
ARTICLE_PREFIX = "/2024/05/01/"


class Hit(NamedTuple):
    """One request as a server saw it."""

    time: float
    path: str


@dataclass
class _Server:
    httpd: ThreadingHTTPServer
    log: list[Hit] = field(default_factory=list)
    thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])


def _article_html(name: str) -> bytes:
    rng = random.Random(f"hostile:{name}")
    title = f"{text.headline(rng)} ({name})"
    paras = "".join(f"<p>{p}</p>" for p in text.body(rng, 250, 400))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        '<meta property="article:published_time" content="2024-05-01T08:00:00+00:00">'
        f'</head><body><main><article><h1>{title}</h1><div class="entry-content">{paras}'
        "</div></article></main></body></html>"
    ).encode()


class HostileSite:
    """The hostile site and the internal server; use as a context manager."""

    def __init__(self, crawl_delay: float | None = None) -> None:
        self.crawl_delay = crawl_delay
        self.site = self._make(self._site_handler)
        self.internal = self._make(lambda h, path: h.reply(200, b"internal secret", "text/plain"))

    # -- what tests use ---------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The site as crawled: by name, `localhost`."""
        return f"http://localhost:{self.site.port}"

    @property
    def internal_url(self) -> str:
        """The internal server, by address."""
        return f"http://127.0.0.1:{self.internal.port}"

    def url(self, name: str) -> str:
        """An article-shaped URL of the site."""
        return f"{self.base_url}{ARTICLE_PREFIX}{name}/"

    def hits(self, prefix: str = "") -> list[Hit]:
        """Requests the site logged, for paths starting with prefix."""
        return [h for h in list(self.site.log) if h.path.startswith(prefix)]

    def config(
        self, *, feeds: bool = True, sitemaps: bool = True, many: bool = True
    ) -> dict[str, Any]:
        """A [[sites]] table crawling this site."""
        starts = [f"{self.base_url}/"] + ([f"{self.base_url}/many/"] if many else [])
        table: dict[str, Any] = {
            "key": "hostile",
            "start_urls": starts,
            "allowed_domains": ["localhost"],
            "max_pages": 3,
        }
        if feeds:
            table["feeds"] = [f"{self.base_url}/feed.xml"]
        if sitemaps:
            table["sitemaps"] = [f"{self.base_url}/sitemap-0.xml"]
        return table

    def __enter__(self) -> HostileSite:
        for server in (self.site, self.internal):
            server.thread = threading.Thread(
                target=server.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            server.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self.site, self.internal):
            server.httpd.shutdown()
            server.httpd.server_close()

    # -- serving ----------------------------------------------------------------------------

    def _make(self, route: Callable[[_Handler, str], None]) -> _Server:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        httpd.daemon_threads = True
        server = _Server(httpd)
        httpd.route = route  # type: ignore[attr-defined]
        httpd.request_log = server.log  # type: ignore[attr-defined]
        return server

    def _site_handler(self, h: _Handler, path: str) -> None:
        if path == "/robots.txt":
            body = "User-agent: *\nAllow: /\n"
            if self.crawl_delay is not None:
                body += f"Crawl-delay: {self.crawl_delay:g}\n"
            h.reply(200, body.encode(), "text/plain")
        elif path == "/":
            h.reply(200, self._home())
        elif path == "/many/":
            h.reply(200, _many())
        elif path == "/feed.xml":
            h.reply(200, self._feed(), "application/rss+xml")
        elif path.startswith("/sitemap-"):
            h.reply(200, self._sitemap(int(path.split("-")[1].split(".")[0])), "application/xml")
        elif path.startswith(ARTICLE_PREFIX):
            self._article(h, path.removeprefix(ARTICLE_PREFIX).strip("/"))
        else:
            h.reply(404, b"<html><body>not found</body></html>")

    def _home(self) -> bytes:
        names = [*GOOD, "redirect-out", "refresh-out", "redirect-file", "big-headers", "dropped"]
        links = "".join(
            f'<article><h2><a href="{self.url(n)}">Story {n}</a></h2></article>' for n in names
        )
        return (
            '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hostile News</title>'
            f'<link rel="next" href="{LOCAL_FILE}"></head><body><main>{links}'
            f'<a href="{LOCAL_FILE}">local file</a></main></body></html>'
        ).encode()

    def _article(self, h: _Handler, name: str) -> None:
        if name in GOOD or name in FEED_GOOD or name == "sitemap-deep":
            h.reply(200, _article_html(name))
        elif name == "redirect-out":
            h.reply(302, b"", headers=[("Location", f"{self.internal_url}/internal-admin")])
        elif name == "redirect-file":
            h.reply(302, b"", headers=[("Location", LOCAL_FILE)])
        elif name == "refresh-out":
            target = f"{self.internal_url}/internal-meta"
            h.reply(
                200,
                f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head>'
                "<body>moved</body></html>".encode(),
            )
        elif name == "big-headers":
            headers = [(f"X-Filler-{i}", "x" * 1000) for i in range(BIG_HEADERS)]
            h.reply(200, _article_html(name), headers=headers)
        elif name == "dropped":
            h.drop()
        else:
            h.reply(404, b"<html><body>not found</body></html>")

    def _feed(self) -> bytes:
        good = "".join(
            f"<item><title>{n}</title><link>{self.url(n)}</link>"
            "<pubDate>Wed, 01 May 2024 08:00:00 GMT</pubDate></item>"
            for n in FEED_GOOD
        )
        bad = (
            "<item><title>urn</title><guid>urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66</guid>"
            "</item>"
            f"<item><title>port</title><link>http://localhost:99999{ARTICLE_PREFIX}port/</link>"
            "</item>"
            "<item><title>bracket</title><link>http://[bad/</link></item>"
            f"<item><title>date</title><link>{self.url('good-1')}</link>"
            "<pubDate>Wed, 01 May 99999 08:00:00 GMT</pubDate></item>"
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>'
            f"{bad}{good}</channel></rss>"
        ).encode()

    def _sitemap(self, n: int) -> bytes:
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        if n >= SITEMAP_CHAIN - 1:
            return (
                f'<?xml version="1.0"?><urlset {ns}><url><loc>{self.url("sitemap-deep")}</loc>'
                "</url></urlset>"
            ).encode()
        locs = f"<sitemap><loc>{self.base_url}/sitemap-{n + 1}.xml</loc></sitemap>"
        if n == 0:
            locs = f"<sitemap><loc>{LOCAL_FILE}</loc></sitemap>" + locs
        return f'<?xml version="1.0"?><sitemapindex {ns}>{locs}</sitemapindex>'.encode()


def _many() -> bytes:
    links = "".join(
        f'<article><h2><a href="{ARTICLE_PREFIX}many-{i}/">Many {i}</a></h2></article>'
        for i in range(MANY_LINKS)
    )
    return f"<!DOCTYPE html><html><body><main>{links}</main></body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.server.request_log.append(Hit(time.time(), self.path))  # type: ignore[attr-defined]
        self.server.route(self, self.path)  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read the request log."""

    def reply(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/html; charset=utf-8",
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers or []:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def drop(self) -> None:
        """Close the connection without a byte of answer."""
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_connection = True
