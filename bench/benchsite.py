"""A local news site built from the 181 article-extraction benchmark pages, for crawl benchmarks.

The pages are read in place (gzip-decompressed at start-up) from the shared data set and
never copied into the repository. The site looks like a WordPress news site:

- ``/category/bench/`` and ``/category/bench/page/N/``: ``per_page`` article links each, in
  ``<main><article class="post"><h2><a href=...>``, with ``<link rel="next">`` and an
  "Older posts" link;
- ``/2024/05/01/<slug>-<n>/``: article ``n`` serving the stored HTML as it was saved, with its
  declared charset in Content-Type;
- ``/robots.txt`` allowing everything.

``copies=K`` repeats the 181 pages K times under distinct paths (``n`` runs over all copies), so
the crawl sees 181*K distinct article URLs. Run ``python -m bench.benchsite --copies 3`` to
browse it.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from w3lib.encoding import html_body_declared_encoding

DATASET = Path("/work/shared/datasets/article-extraction-benchmark")
CATEGORY = "/category/bench/"
ARTICLE_PREFIX = "/2024/05/01/"
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class BenchPage:
    """One stored benchmark page: its data-set key, a slug, the HTML bytes and charset."""

    key: str
    slug: str
    body: bytes
    charset: str | None


def _slug(source_url: str, key: str) -> str:
    """A readable slug from the page's original URL (last path segment), else its key."""
    segments = [s for s in urlsplit(source_url).path.split("/") if s]
    raw = segments[-1] if segments else ""
    raw = re.sub(r"\.(html?|php|aspx?)$", "", raw.lower())
    slug = _SLUG_JUNK.sub("-", raw).strip("-")[:60].strip("-")
    return slug or key[:12]


def _charset(body: bytes) -> str | None:
    """The page's declared charset; utf-8 when undeclared but valid UTF-8; else None."""
    declared = html_body_declared_encoding(body)
    if declared:
        return str(declared)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def load_pages(dataset: Path = DATASET) -> list[BenchPage]:
    """The data set's pages in a stable order (by key), decompressed."""
    truth = json.loads((dataset / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for path in sorted((dataset / "html").glob("*.html.gz")):
        key = path.name.removesuffix(".html.gz")
        body = gzip.decompress(path.read_bytes())
        source = truth.get(key, {}).get("url", "")
        pages.append(BenchPage(key, _slug(source, key), body, _charset(body)))
    if not pages:
        raise FileNotFoundError(f"no *.html.gz pages in {dataset / 'html'}")
    return pages


class BenchSite:
    """The site's content: ``copies`` x the data-set pages, paginated ``per_page`` a page."""

    def __init__(self, pages: list[BenchPage], *, copies: int = 1, per_page: int = 20) -> None:
        if copies < 1 or per_page < 1:
            raise ValueError("copies and per_page must be at least 1")
        self.pages = pages
        self.copies = copies
        self.per_page = per_page

    @property
    def article_count(self) -> int:
        """How many distinct article URLs the site lists."""
        return len(self.pages) * self.copies

    @property
    def page_count(self) -> int:
        """How many category pages list them."""
        return -(-self.article_count // self.per_page)

    def article_path(self, n: int) -> str:
        """The path of article ``n`` (0-based over all copies)."""
        return f"{ARTICLE_PREFIX}{self.pages[n % len(self.pages)].slug}-{n}/"

    def article(self, path: str) -> BenchPage | None:
        """The stored page served at ``path``, or None when no article lives there."""
        if not path.startswith(ARTICLE_PREFIX) or not path.endswith("/"):
            return None
        name = path[len(ARTICLE_PREFIX) : -1]
        _slug_part, _, number = name.rpartition("-")
        if not number.isdigit() or int(number) >= self.article_count:
            return None
        n = int(number)
        return self.pages[n % len(self.pages)] if self.article_path(n) == path else None

    def category_path(self, page: int) -> str:
        """The path of category page ``page`` (1-based)."""
        return CATEGORY if page == 1 else f"{CATEGORY}page/{page}/"

    def category(self, path: str) -> bytes | None:
        """The HTML of the category page at ``path``, or None when there is none."""
        if path == CATEGORY:
            page = 1
        else:
            m = re.fullmatch(re.escape(CATEGORY) + r"page/(\d+)/", path)
            if not m:
                return None
            page = int(m.group(1))
        if not 1 <= page <= self.page_count:
            return None
        first = (page - 1) * self.per_page
        items = []
        for n in range(first, min(first + self.per_page, self.article_count)):
            title = html.escape(self.pages[n % len(self.pages)].slug.replace("-", " ").title())
            items.append(
                f'<article class="post"><h2><a href="{self.article_path(n)}">{title}</a></h2>'
                f"<p>Story {n} of the benchmark desk.</p></article>"
            )
        older = ""
        next_link = ""
        if page < self.page_count:
            nxt = self.category_path(page + 1)
            next_link = f'<link rel="next" href="{nxt}">'
            older = f'<nav class="nav-links"><a class="next" href="{nxt}">Older posts</a></nav>'
        doc = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Bench - page {page}</title>{next_link}</head><body>"
            '<header><a href="/">Bench News</a> <a href="/category/bench/">Bench</a></header>'
            f"<main><h1>Bench</h1>{''.join(items)}{older}</main>"
            "<footer>Bench News, built from the article-extraction benchmark.</footer>"
            "</body></html>"
        )
        return doc.encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], site: BenchSite) -> None:
        super().__init__(address, _Handler)
        self.site = site
        self.served = 0
        self.first_request_at: float | None = None  # time.perf_counter() of the first request
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Scrapy uses it
    server_version = "BenchNews/1.0"
    server: _Server

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        site = self.server.site
        ctype = "text/html; charset=utf-8"
        body: bytes | None
        if path == "/robots.txt":
            body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
        elif path.startswith(ARTICLE_PREFIX):
            page = site.article(path)
            body = page.body if page else None
            if page is not None:
                ctype = f"text/html; charset={page.charset}" if page.charset else "text/html"
        else:
            body = site.category(path)
        with self.server.lock:
            self.server.served += 1
            if self.server.first_request_at is None:
                self.server.first_request_at = time.perf_counter()
        status = 200 if body is not None else 404
        payload = body if body is not None else b"not found"
        self.send_response(status)
        self.send_header("Content-Type", ctype if body is not None else "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a benchmark run would print one line per request otherwise."""


class RunningSite:
    """A started bench site: its base URL and how many requests it answered."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @property
    def start_url(self) -> str:
        """The first category page, the crawl's start URL."""
        return self.url + CATEGORY

    @property
    def first_request_at(self) -> float | None:
        """time.perf_counter() when the first request arrived (None before any)."""
        with self._server.lock:
            return self._server.first_request_at

    @property
    def requests_served(self) -> int:
        """Requests answered so far (any status)."""
        with self._server.lock:
            return self._server.served


@contextmanager
def serve(site: BenchSite, port: int = 0) -> Iterator[RunningSite]:
    """Serve ``site`` on 127.0.0.1 (``port`` 0: any free port) in a daemon thread."""
    server = _Server(("127.0.0.1", port), site)
    thread = threading.Thread(target=server.serve_forever, name="bench-site", daemon=True)
    thread.start()
    try:
        yield RunningSite(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def main() -> None:
    """Serve the bench site in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    site = BenchSite(load_pages(), copies=args.copies, per_page=args.per_page)
    with serve(site, args.port) as running:
        print(f"{site.article_count} articles on {site.page_count} pages: {running.start_url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
