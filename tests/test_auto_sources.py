"""Sources a site names itself: feeds its category pages link, sitemaps its robots.txt lists.

A small local news site whose config names no feeds or sitemaps; the server's request log
shows what the crawl fetched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Archive
from storage.models import Article
from tests.configs import archive_table, toml_table, write_config
from tests.crawling import run_cli

NOW = datetime.now(UTC)
LISTED = ("council-approves-new-budget", "storm-closes-three-schools")
IN_FEED = "mayor-opens-the-new-bridge"
IN_SITEMAP = "library-extends-opening-hours"
OLD_IN_SITEMAP = "harbour-festival-draws-crowds"  # dated 2001: not a new story


def _article(slug: str) -> bytes:
    words = slug.replace("-", " ")
    body = " ".join(f"The {words} story goes on with detail number {i}." for i in range(60))
    return (
        f"<html><head><title>{words}</title></head><body><article><h1>{words}</h1>"
        f"<p>{body}</p><p>{body}</p></article></body></html>"
    ).encode()


@dataclass
class NewsSite:
    """The site's pages by path, and every path requested, in order."""

    base: str = ""
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    def build(self, base: str) -> None:
        self.base = base
        story = f"{base}/2024/05/{{}}/"
        items = "".join(f'<li><a href="{story.format(s)}">{s}</a></li>' for s in LISTED)
        self.pages["/news/"] = (
            "text/html",
            (
                '<html><head><link rel="alternate" type="application/rss+xml" '
                'href="/feed.xml"><link rel="alternate" type="application/rss+xml" '
                'href="https://elsewhere.example/feed.xml"></head>'
                f"<body><main><ul>{items}</ul></main></body></html>"
            ).encode(),
        )
        self.pages["/feed.xml"] = (
            "application/rss+xml",
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title><item>'
                f"<title>x</title><link>{story.format(IN_FEED)}</link>"
                f"<pubDate>{format_datetime(NOW - timedelta(hours=2))}</pubDate>"
                "</item></channel></rss>"
            ).encode(),
        )
        self.pages["/robots.txt"] = (
            "text/plain",
            (
                f"User-agent: *\nAllow: /\n\nSitemap: {base}/news-sitemap.xml\n"
                "Sitemap: https://elsewhere.example/sitemap.xml\n"
            ).encode(),
        )
        entries = [(IN_SITEMAP, NOW - timedelta(hours=5)), (OLD_IN_SITEMAP, datetime(2001, 5, 1))]
        urls = "".join(
            f"<url><loc>{story.format(s)}</loc><news:news><news:publication_date>"
            f"{when:%Y-%m-%dT%H:%M:%S}Z</news:publication_date></news:news></url>"
            for s, when in entries
        )
        self.pages["/news-sitemap.xml"] = (
            "application/xml",
            (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
                ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                f"{urls}</urlset>"
            ).encode(),
        )
        for slug in (*LISTED, IN_FEED, IN_SITEMAP, OLD_IN_SITEMAP):
            self.pages[f"/2024/05/{slug}/"] = ("text/html", _article(slug))


@pytest.fixture
def site() -> Iterator[NewsSite]:
    news = NewsSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            news.log.append(self.path)
            kind, body = news.pages.get(self.path, ("text/plain", b""))
            self.send_response(200 if self.path in news.pages else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    news.build(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield news
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path: Path, site: NewsSite, extra: str = "") -> tuple[Path, str]:
    db_url = f"sqlite:///{tmp_path / 'archive.db'}"
    site_table = {"key": "local", "start_urls": [f"{site.base}/news/"], **toml_table(extra)}
    archive = archive_table(tmp_path, db_url, extraction_workers=1)
    path = write_config(tmp_path, archive, [site_table])
    return path, db_url


def _archived(db_url: str) -> set[str]:
    with Archive(db_url) as archive, archive.session() as s:
        return {u.rsplit("/", 2)[-2] for u in s.scalars(select(Article.canonical_url))}


def test_linked_feed_and_robots_sitemap_feed_the_crawl(tmp_path: Path, site: NewsSite) -> None:
    config, db_url = _config(tmp_path, site)
    run_cli("crawl", config=config)
    assert {"/feed.xml", "/news-sitemap.xml", "/robots.txt"} <= set(site.log)
    assert site.log.count("/feed.xml") == 1 and site.log.count("/news-sitemap.xml") == 1
    for slug in (*LISTED, IN_FEED, IN_SITEMAP):
        assert f"/2024/05/{slug}/" in site.log
    # Old whole-archive entries of an auto-found sitemap are not new stories.
    assert f"/2024/05/{OLD_IN_SITEMAP}/" not in site.log
    assert _archived(db_url) == {*LISTED, IN_FEED, IN_SITEMAP}


def test_auto_sources_off_fetches_only_the_category_page_and_its_links(
    tmp_path: Path, site: NewsSite
) -> None:
    config, db_url = _config(tmp_path, site, "auto_sources = false\n")
    run_cli("crawl", config=config)
    assert "/feed.xml" not in site.log and "/news-sitemap.xml" not in site.log
    assert _archived(db_url) == set(LISTED)


def test_sources_named_in_the_config_replace_the_auto_found_ones(
    tmp_path: Path, site: NewsSite
) -> None:
    config, db_url = _config(tmp_path, site, f'feeds = ["{site.base}/feed.xml"]\n')
    run_cli("crawl", config=config)
    assert "/feed.xml" in site.log and "/news-sitemap.xml" not in site.log
    assert _archived(db_url) == {*LISTED, IN_FEED}
