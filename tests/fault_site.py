"""Fault endpoints for the demo server: the misbehaving web a polite crawler must survive.

`add_fault_routes(server, site)` adds to one demo site a category page, `/faults/`, listing
article-shaped links (`/2024/05/01/fault-<name>/`), each answered by a fault: 429 with
Retry-After (seconds or HTTP date), 503, a slow answer, a dropped connection, gzip and brotli
bombs, a 50 MiB page, binary bytes served as text/html, a wrong declared charset, a redirect
loop, and a robots.txt that disallows `/private/` (optionally with a Crawl-delay). Fault
articles live under `/2024/05/01/` and never collide with the site's own articles.

Every fault is deterministic, cheap and bounded in time; the server's request log has every
hit, and `Faults` keeps what the log cannot: bytes sent and whether a big body was sent whole.

    faults = add_fault_routes(server, ledger, retry_after=2)
    faults.listing_url            # start URL for a crawl of the faults
    faults.hits("retry-seconds")  # LoggedRequest of every hit, in order
"""

from __future__ import annotations

import functools
import random
import socket
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

import brotli

from crawler.demo_site import text
from crawler.demo_site.pages import HTML, Page, article_head, esc
from crawler.demo_site.server import HANDLED, DemoRequest, DemoServer, LoggedRequest
from crawler.demo_site.world import Article, DemoSite

LISTING_PATH = "/faults/"
ARTICLE_PREFIX = "/2024/05/01/fault-"
PRIVATE_PREFIX = "/private/"
LOOP_PATH = "/faults/loop/"  # the other half of the redirect loop
PUBLISHED = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

BOMB_SIZE = 100 * 1024 * 1024  # what the bombs inflate to
HUGE_SIZE = 50 * 1024 * 1024
CHUNK = 64 * 1024
# A stuck peer must not hold a server thread forever.
WRITE_TIMEOUT = 10.0

# Words a wrong-charset page carries; the archive must show them as written.
CHARSET_WORDS = ("Café", "Zürich", "Müller", "crème brûlée", "—")

# Every fault, in listing order. "retry-long" (Retry-After: 3600) is left out of the default
# set: it makes a crawler give up on the whole host, so it is tested on a host of its own.
ALL_FAULTS = (
    "control",
    "retry-seconds",
    "retry-date",
    "retry-long",
    "unavailable",
    "slow",
    "dropped",
    "gzip-bomb",
    "brotli-bomb",
    "huge",
    "huge-stream",
    "binary",
    "charset",
    "redirect-loop",
    "private",
)
DEFAULT_FAULTS = tuple(name for name in ALL_FAULTS if name != "retry-long")


@dataclass
class Faults:
    """The fault endpoints installed on one demo site, and what they have served."""

    server: DemoServer
    site: DemoSite
    names: tuple[str, ...]
    retry_after: int = 2
    retry_hits: int = 1
    slow_seconds: float = 3.0
    crawl_delay: float | None = None
    long_retry_after: int = 3600
    bytes_sent: dict[str, int] = field(default_factory=dict)
    completed: dict[str, int] = field(default_factory=dict)
    _served: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        """The site's http://host:port."""
        return self.server.url[self.site.key]

    @property
    def listing_url(self) -> str:
        """The fault category page: a crawl's start URL."""
        return self.base_url + LISTING_PATH

    def path(self, name: str) -> str:
        """Path of a fault's article-shaped URL."""
        if name == "private":
            return f"{PRIVATE_PREFIX}2024/05/01/fault-private/"
        return f"{ARTICLE_PREFIX}{name}/"

    def url(self, name: str) -> str:
        """Absolute URL of a fault."""
        return self.base_url + self.path(name)

    def hits(self, name: str) -> list[LoggedRequest]:
        """Every request the server logged for a fault's URL, oldest first."""
        path = self.path(name)
        return [r for r in self.server.requests(self.site.key) if r.path.split("?")[0] == path]

    def article(self, name: str) -> Article:
        """The article a fault's URL shows once it answers normally (ground truth)."""
        return _fault_article(self.site, self.base_url, self.path(name), name)

    def _count(self, name: str) -> int:
        """Count a hit; returns how many hits came before this one."""
        with self._lock:
            n = self._served.get(name, 0)
            self._served[name] = n + 1
            return n

    def _sent(self, name: str, nbytes: int, whole: bool) -> None:
        with self._lock:
            self.bytes_sent[name] = self.bytes_sent.get(name, 0) + nbytes
            if whole:
                self.completed[name] = self.completed.get(name, 0) + 1


# Each server keeps its own table of sites with faults; routes are per server, not per site.
_INSTALLED: weakref.WeakKeyDictionary[DemoServer, dict[str, Faults]] = weakref.WeakKeyDictionary()


def add_fault_routes(
    server: DemoServer,
    site: DemoSite,
    faults: Iterable[str] = DEFAULT_FAULTS,
    *,
    retry_after: int = 2,
    retry_hits: int = 1,
    slow_seconds: float = 3.0,
    crawl_delay: float | None = None,
    long_retry_after: int = 3600,
) -> Faults:
    """Install fault endpoints, the `/faults/` listing and a strict robots.txt on one site.

    `retry_after` seconds is what the 429s ask for, the first `retry_hits` hits of each;
    `slow_seconds` is how long the slow page sleeps; `crawl_delay` adds a Crawl-delay line to
    robots.txt. The site's own pages are untouched; other sites of the server are not affected.
    """
    names = tuple(faults)
    unknown = set(names) - set(ALL_FAULTS)
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)} (known: {', '.join(ALL_FAULTS)})")
    installed = Faults(
        server,
        site,
        names,
        retry_after=retry_after,
        retry_hits=retry_hits,
        slow_seconds=slow_seconds,
        crawl_delay=crawl_delay,
        long_retry_after=long_retry_after,
    )
    if "gzip-bomb" in names:
        _gzip_bomb()  # built now (about a second), not while a crawler waits on its timeout
    if "brotli-bomb" in names:
        _brotli_bomb()
    table = _INSTALLED.setdefault(server, {})
    table[site.key] = installed
    for prefix in (LISTING_PATH, ARTICLE_PREFIX, PRIVATE_PREFIX, "/robots.txt"):
        server.add_route(prefix, functools.partial(_route, table))
    return installed


def _route(table: dict[str, Faults], request: DemoRequest) -> Page | None:
    faults = table.get(request.site.key)
    if faults is None:
        return None  # a site without faults: its own pages
    path = request.path
    if path == "/robots.txt":
        return _robots(faults)
    if path == LISTING_PATH:
        return _listing(faults)
    if path == LOOP_PATH:
        return _redirect(faults.url("redirect-loop"))
    for name in faults.names:
        if path == faults.path(name):
            return _HANDLERS[name](faults, request)
    return None


# -- pages ---------------------------------------------------------------------------------


def _fault_article(site: DemoSite, base_url: str, path: str, name: str) -> Article:
    rng = random.Random(f"fault:{name}")
    paragraphs = text.body(rng, 200, 400)
    if name == "charset":
        paragraphs = [
            "Café owners in Zürich — and Müller's bakery, famous for its crème brûlée — "
            "said the new rules came as a surprise.",
            *paragraphs,
        ]
    return Article(
        id=900_000 + ALL_FAULTS.index(name),
        site=site.key,
        category="faults",
        slug=f"fault-{name}",
        url=base_url + path,
        amp_url=None,
        title=f"{text.headline(rng)} ({name})",
        paragraphs=tuple(paragraphs),
        authors=tuple(text.people(rng, 1, 2)),
        published=PUBLISHED,
        modified=None,
        version=1,
        created_round=0,
    )


def _article_html(faults: Faults, name: str, charset: str = "utf-8") -> str:
    article = faults.article(name)
    paras = "".join(f"<p>{esc(p)}</p>" for p in article.paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="{charset}">'
        f"{article_head(faults.site, article, section='Faults')}</head>\n"
        f'<body><main id="main"><article class="post hentry">'
        f'<h1 class="entry-title">{esc(article.title)}</h1>'
        f'<div class="entry-meta"><span class="byline">By {esc(" and ".join(article.authors))}'
        f'</span> <time class="entry-date published" datetime="{PUBLISHED.isoformat()}">'
        f"May 1, 2024</time></div>"
        f'<div class="entry-content">{paras}</div></article></main></body></html>\n'
    )


def _article_page(faults: Faults, name: str) -> Page:
    return Page(200, _article_html(faults, name).encode(), last_modified=PUBLISHED)


def _listing(faults: Faults) -> Page:
    posts = "".join(
        f'<article class="post hentry"><h2 class="entry-title"><a href="{esc(faults.url(n))}" '
        f'rel="bookmark">{esc(faults.article(n).title)}</a></h2><div class="entry-summary">'
        f"<p>{esc(faults.article(n).paragraphs[0][:200])}</p></div></article>\n"
        for n in faults.names
    )
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Faults | {esc(faults.site.name)}</title>"
        f'<link rel="canonical" href="{esc(faults.listing_url)}"></head>\n'
        '<body class="archive category"><main id="main" class="site-main">'
        f'<header class="page-header"><h1 class="page-title">Category: Faults</h1></header>\n'
        f"{posts}</main></body></html>\n"
    )
    return Page(200, html.encode(), last_modified=PUBLISHED)


def _robots(faults: Faults) -> Page:
    body = f"User-agent: *\nDisallow: {PRIVATE_PREFIX}\n"
    if faults.crawl_delay is not None:
        body += f"Crawl-delay: {faults.crawl_delay:g}\n"
    return Page(200, body.encode(), "text/plain; charset=utf-8", PUBLISHED)


def _error_page(status: int, headers: tuple[tuple[str, str], ...] = ()) -> Page:
    body = f"<!DOCTYPE html><html><body><h1>Error {status}</h1></body></html>".encode()
    return Page(status, body, headers=headers)


def _redirect(location: str) -> Page:
    return Page(302, b"", headers=(("Location", location),))


# -- fault handlers ------------------------------------------------------------------------

Handler = Callable[[Faults, DemoRequest], Page]


def _control(faults: Faults, request: DemoRequest) -> Page:
    return _article_page(faults, "control")


def _retry_seconds(faults: Faults, request: DemoRequest) -> Page:
    if faults._count("retry-seconds") < faults.retry_hits:
        return _error_page(429, (("Retry-After", str(faults.retry_after)),))
    return _article_page(faults, "retry-seconds")


def _retry_date(faults: Faults, request: DemoRequest) -> Page:
    if faults._count("retry-date") < faults.retry_hits:
        # HTTP dates have whole seconds: round up, so the pause is never shorter than asked.
        when = datetime.fromtimestamp(int(time.time()) + faults.retry_after + 1, UTC)
        return _error_page(429, (("Retry-After", format_datetime(when, usegmt=True)),))
    return _article_page(faults, "retry-date")


def _retry_long(faults: Faults, request: DemoRequest) -> Page:
    faults._count("retry-long")
    return _error_page(429, (("Retry-After", str(faults.long_retry_after)),))


def _unavailable(faults: Faults, request: DemoRequest) -> Page:
    faults._count("unavailable")
    return _error_page(503)


def _slow(faults: Faults, request: DemoRequest) -> Page:
    time.sleep(faults.slow_seconds)
    body = _article_html(faults, "slow").encode()
    _write(faults, "slow", request, 200, [("Content-Type", HTML)], [body], len(body))
    return HANDLED


def _dropped(faults: Faults, request: DemoRequest) -> Page:
    body = _article_html(faults, "dropped").encode()
    h = request.handler
    try:
        h.connection.settimeout(WRITE_TIMEOUT)
        h.send_response(200)
        h.send_header("Content-Type", HTML)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 3])
        h.wfile.flush()
        faults._sent("dropped", len(body) // 3, whole=False)
        # Mid-body: the peer sees the connection end with two thirds of the body missing.
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    h.close_connection = True
    return HANDLED


def _gzip_bomb_page(faults: Faults, request: DemoRequest) -> Page:
    faults._count("gzip-bomb")
    return Page(200, _gzip_bomb(), headers=(("Content-Encoding", "gzip"),))


def _brotli_bomb_page(faults: Faults, request: DemoRequest) -> Page:
    faults._count("brotli-bomb")
    return Page(200, _brotli_bomb(), headers=(("Content-Encoding", "br"),))


def _huge(faults: Faults, request: DemoRequest) -> Page:
    _write(faults, "huge", request, 200, [("Content-Type", HTML)], _huge_body(), HUGE_SIZE)
    return HANDLED


def _huge_stream(faults: Faults, request: DemoRequest) -> Page:
    # No Content-Length: the size is known only by reading, so only a running count can stop it.
    headers = [("Content-Type", HTML), ("Connection", "close")]
    _write(faults, "huge-stream", request, 200, headers, _huge_body(), None)
    return HANDLED


def _binary(faults: Faults, request: DemoRequest) -> Page:
    faults._count("binary")
    return Page(200, binary_body(), last_modified=PUBLISHED)


def _charset(faults: Faults, request: DemoRequest) -> Page:
    faults._count("charset")
    # Written in cp1252, declared UTF-8 in both the header and the <meta>: a common CMS bug.
    body = _article_html(faults, "charset").encode("cp1252")
    return Page(200, body, "text/html; charset=utf-8", PUBLISHED)


def _redirect_loop(faults: Faults, request: DemoRequest) -> Page:
    faults._count("redirect-loop")
    return _redirect(faults.base_url + LOOP_PATH)


def _private(faults: Faults, request: DemoRequest) -> Page:
    faults._count("private")
    return _article_page(faults, "private")


_HANDLERS: dict[str, Handler] = {
    "control": _control,
    "retry-seconds": _retry_seconds,
    "retry-date": _retry_date,
    "retry-long": _retry_long,
    "unavailable": _unavailable,
    "slow": _slow,
    "dropped": _dropped,
    "gzip-bomb": _gzip_bomb_page,
    "brotli-bomb": _brotli_bomb_page,
    "huge": _huge,
    "huge-stream": _huge_stream,
    "binary": _binary,
    "charset": _charset,
    "redirect-loop": _redirect_loop,
    "private": _private,
}


# -- bodies --------------------------------------------------------------------------------


def binary_body() -> bytes:
    """What the binary fault serves as text/html: a PNG signature and 32 KiB of noise."""
    return b"\x89PNG\r\n\x1a\n" + random.Random("fault:binary").randbytes(32 * 1024)


@functools.cache
def _gzip_bomb() -> bytes:
    """About 100 KB of gzip that inflates to 100 MiB of zeros."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    zeros = bytes(1024 * 1024)
    parts = [comp.compress(zeros) for _ in range(BOMB_SIZE // len(zeros))]
    return b"".join(parts) + comp.flush()


@functools.cache
def _brotli_bomb() -> bytes:
    """A few hundred bytes of brotli that inflate to 100 MiB of zeros."""
    comp = brotli.Compressor(quality=5)
    zeros = bytes(1024 * 1024)
    parts = [comp.process(zeros) for _ in range(BOMB_SIZE // len(zeros))]
    return bytes(b"".join(parts) + comp.finish())


def _huge_body() -> Iterator[bytes]:
    """HUGE_SIZE bytes of plausible HTML, in CHUNK pieces, made on the fly."""
    head = b"<!DOCTYPE html><html><body><p>"
    filler = (b"All work and no play makes a very large page. " * 1500)[:CHUNK]
    yield head
    sent = len(head)
    while sent < HUGE_SIZE:
        piece = filler[: min(CHUNK, HUGE_SIZE - sent)]
        yield piece
        sent += len(piece)


def _write(
    faults: Faults,
    name: str,
    request: DemoRequest,
    status: int,
    headers: list[tuple[str, str]],
    chunks: Iterable[bytes],
    length: int | None,
) -> None:
    """Write a response by hand; a peer that hangs up (as a capped crawler does) ends it."""
    faults._count(name)
    h = request.handler
    sent = 0
    try:
        h.connection.settimeout(WRITE_TIMEOUT)
        h.send_response(status)
        for key, value in headers:
            h.send_header(key, value)
        if length is not None:
            h.send_header("Content-Length", str(length))
        h.end_headers()
        for chunk in chunks:
            h.wfile.write(chunk)
            sent += len(chunk)
        h.wfile.flush()
    except OSError:
        h.close_connection = True
        faults._sent(name, sent, whole=False)
        return
    if length is None:
        h.close_connection = True  # the end of the body is the end of the connection
    faults._sent(name, sent, whole=True)
