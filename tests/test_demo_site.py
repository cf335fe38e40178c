"""The bundled demo news sites, fetched over real HTTP on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.utils import format_datetime
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest

from crawler.demo_site import DemoRequest, DemoServer, Page, make_sites, render_page, serve
from crawler.demo_site.pages import BASE_LAST_MODIFIED
from crawler.demo_site.world import DemoSite

SMALL = {"categories": 3, "articles_per_category": 12, "page_size": 5}


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET url; (status, headers, body) also for 3xx-5xx answers."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers.items()), err.read()


@pytest.fixture
def server() -> Iterator[DemoServer]:
    """Both small demo sites on their own ports; torn down after the test."""
    with serve(*make_sites(**SMALL)) as running:
        yield running


def doc(body: bytes) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(body)


def test_sites_are_served_on_different_ports(server: DemoServer) -> None:
    ledger, courier = server.url["ledger"], server.url["courier"]
    assert urlsplit(ledger).netloc != urlsplit(courier).netloc
    assert b"The Daily Ledger" in fetch(ledger + "/")[2]
    assert b"Metro<b>Courier</b>" in fetch(courier + "/")[2]


def test_same_seed_builds_the_same_site_and_another_seed_does_not() -> None:
    one, two, other = make_sites(**SMALL)[0], make_sites(**SMALL)[0], make_sites(seed=7, **SMALL)[0]
    for site in (one, two):
        site.advance(2)
    paths = ["/", "/category/politics/", "/feed/", one.articles()[3].path]
    assert [render_page(one, p).body for p in paths] == [render_page(two, p).body for p in paths]
    assert one.articles()[0].title != other.articles()[0].title


@pytest.mark.parametrize("key", ["ledger", "courier"])
def test_article_page_shows_byline_dates_metadata_and_comments(
    server: DemoServer, key: str
) -> None:
    site = server.sites[key]
    article = next(a for a in site.articles() if len(a.authors) >= 2 and a.comments)
    status, _, body = fetch(article.url)
    page = doc(body)
    assert status == 200
    assert page.xpath("//link[@rel='canonical']/@href") == [article.url]
    assert page.xpath("//meta[@property='og:title']/@content") == [article.title]
    assert page.xpath("//meta[@property='og:url']/@content") == [article.url]
    published = article.published.isoformat()
    assert page.xpath("//meta[@property='article:published_time']/@content") == [published]
    assert published in page.xpath("//time/@datetime")
    ld = json.loads(page.xpath("//script[@type='application/ld+json']/text()")[0])
    assert ld["@type"] == "NewsArticle" and ld["headline"] == article.title
    assert [a["name"] for a in ld["author"]] == list(article.authors)
    assert ld["publisher"]["name"] == site.name and ld["datePublished"] == published
    text = " ".join(page.text_content().split())
    assert "By " + " and ".join(article.authors) in text
    assert all(name in text and said in text for name, said in article.comments)
    assert all(" ".join(p.split()) in text for p in article.paragraphs)
    assert page.xpath("//div[contains(@class, 'ad')]//a[contains(@href, 'sponsor')]")


def test_articles_are_300_to_900_words_in_paragraphs_with_quotes() -> None:
    site = make_sites(articles_per_category=20)[0]
    counts = [len(a.body.split()) for a in site.articles()]
    assert min(counts) >= 300 and max(counts) <= 900
    assert all(len(a.paragraphs) >= 3 for a in site.articles())
    assert sum('," said ' in a.body for a in site.articles()) > len(counts) // 2


def test_ledger_category_paginates_with_older_posts_and_rel_next(server: DemoServer) -> None:
    site = server.sites["ledger"]
    pages = site.page_count("politics")
    assert pages == 3  # 12 articles, 5 a page
    first = doc(fetch(site.category_url("politics"))[2])
    assert first.xpath("//link[@rel='next']/@href") == [site.category_url("politics", 2)]
    assert first.xpath("//a[.='Older posts']/@href") == [site.category_url("politics", 2)]
    last = doc(fetch(site.category_url("politics", pages))[2])
    assert not last.xpath("//link[@rel='next']") and not last.xpath("//a[.='Older posts']")
    assert last.xpath("//a[.='Newer posts']/@href") == [site.category_url("politics", pages - 1)]
    assert fetch(site.category_url("politics", pages + 1))[0] == 404


def test_courier_section_has_numbered_pager_and_page_query_alias(server: DemoServer) -> None:
    site = server.sites["courier"]
    base = server.url["courier"]
    page2 = doc(fetch(base + "/section/city/page/2/")[2])
    assert page2.xpath("//nav[@class='pager']/a[@rel='next']/@href") == ["/section/city/page/3/"]
    assert page2.xpath("//nav[@class='pager']//span[@aria-current='page']/text()") == ["2"]
    by_query = fetch(base + "/section/city/?page=2")[2]
    assert by_query == fetch(base + "/section/city/page/2/")[2]
    titles = page2.xpath("//h3[@class='card__title']/text()")
    assert titles == [a.title for a in site.listing("city", 2).articles]


def test_advance_puts_new_articles_on_top_and_edits_show_a_modified_date(
    server: DemoServer,
) -> None:
    site = server.sites["ledger"]
    before = {a.id: a for a in site.articles()}
    assert server.advance() == 1
    new = site.new_in_round(1)
    assert len(new) == 2 * 3 and all(a.id not in before for a in new)
    listing = site.listing("politics", 1)
    new_here = [a for a in new if a.category == "politics"]
    assert list(listing.articles[: len(new_here)]) == new_here
    edited = site.edited_in_round(1)
    assert len(edited) == 2
    for article in edited:
        old = before[article.id]
        assert article.version == 2 and article.modified is not None
        assert (article.title, article.body) != (old.title, old.body)
        page = doc(fetch(article.url)[2])
        modified = page.xpath("//meta[@property='article:modified_time']/@content")
        assert modified == [article.modified.isoformat()]
        assert "Updated" in page.text_content()
        assert page.xpath("//h1/text()") == [article.title]


def test_conditional_get_answers_304_until_the_article_changes(server: DemoServer) -> None:
    site = server.sites["courier"]
    article = site.articles()[-1]
    status, headers, body = fetch(article.url)
    assert status == 200 and body
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert last_modified == format_datetime(article.published, usegmt=True)
    assert fetch(article.url, {"If-None-Match": etag})[:3:2] == (304, b"")
    assert fetch(article.url, {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(article.url, {"If-None-Match": '"other"'})[0] == 200
    for _ in range(20):  # advance until this article gets edited
        server.advance()
        if site.article(article.id).modified:
            break
    status, headers, _ = fetch(article.url, {"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag


def test_request_log_keeps_method_path_and_headers_per_site(server: DemoServer) -> None:
    server.clear_log()
    fetch(server.url["ledger"] + "/feed/?x=1", {"User-Agent": "test-agent/1.0"})
    fetch(server.url["courier"] + "/robots.txt")
    (entry,) = server.requests("ledger")
    when, method, path, headers = entry
    assert (method, path, headers["User-Agent"]) == ("GET", "/feed/?x=1", "test-agent/1.0")
    assert when > 0
    assert [e.path for e in server.request_log] == ["/feed/?x=1", "/robots.txt"]


def test_courier_reprints_a_ledger_story_as_wire_copy_from_round_1(server: DemoServer) -> None:
    ledger, courier = server.sites["ledger"], server.sites["courier"]
    assert courier.syndicated_pairs() == []
    server.advance()
    ((original_url, copy_url),) = courier.syndicated_pairs()
    assert ledger.syndicated_pairs() == [(original_url, copy_url)]
    original = next(a for a in ledger.articles() if a.url == original_url)
    copy = next(a for a in courier.articles() if a.url == copy_url)
    assert copy.title == original.title and copy.paragraphs[1:-1] == original.paragraphs[1:]
    assert (
        copy.paragraphs[0].endswith(original.paragraphs[0])
        and copy.paragraphs[0] != (original.paragraphs[0])
    )
    assert "Reporting by" in fetch(copy_url)[2].decode()
    assert copy in courier.listing(courier.categories[0], 1).articles


def test_listings_carry_tracking_params_but_ground_truth_urls_are_clean() -> None:
    site = make_sites(articles_per_category=30)[0]
    hrefs = [h for cat in site.categories for p in (1, 2, 3) for h in site.listing(cat, p).hrefs]
    assert any("utm_source=" in h for h in hrefs) and any("fbclid=" in h for h in hrefs)
    assert any(h.endswith("#comments") for h in hrefs)
    page = render_page(site, "/category/politics/").body.decode()
    assert all(h.replace("&", "&amp;") in page for h in site.listing("politics").hrefs)
    assert not any("?" in u or "#" in u for u in site.all_article_urls())


def test_amp_page_points_back_to_the_canonical_article(server: DemoServer) -> None:
    for site in server.sites.values():
        article = next(a for a in site.articles() if a.amp_url)
        assert doc(fetch(article.url)[2]).xpath("//link[@rel='amphtml']/@href") == [article.amp_url]
        amp = doc(fetch(article.amp_url or "")[2])
        assert amp.xpath("//link[@rel='canonical']/@href") == [article.url]


def test_robots_feed_and_news_sitemap_describe_the_site(server: DemoServer) -> None:
    for key, base in server.url.items():
        site = server.sites[key]
        robots = fetch(base + "/robots.txt")[2].decode()
        assert "Allow: /" in robots and f"Sitemap: {base}/news-sitemap.xml" in robots
        feed = lxml.etree.fromstring(fetch(base + "/feed/")[2])
        assert feed.xpath("//item/link/text()")[:3] == [a.url for a in site.articles()[:3]]
        news = lxml.etree.fromstring(fetch(base + "/news-sitemap.xml")[2])
        ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
              "n": "http://www.google.com/schemas/sitemap-news/0.9"}  # fmt: skip
        locs = news.xpath("//s:url/s:loc/text()", namespaces=ns)
        assert locs and set(locs) <= set(site.all_article_urls())
        assert len(news.xpath("//n:news/n:publication_date", namespaces=ns)) == len(locs)
        full = lxml.etree.fromstring(fetch(base + "/sitemap.xml")[2])
        assert len(full.xpath("//s:loc", namespaces=ns)) == len(site.articles())


@pytest.mark.parametrize("key", ["ledger", "courier"])
def test_every_same_site_link_on_listing_and_article_pages_resolves(
    server: DemoServer, key: str
) -> None:
    site = server.sites[key]
    base = server.url[key]
    links: set[str] = set()
    for url in (base + "/", site.category_url(site.categories[1], 2), site.articles()[4].url):
        for href in doc(fetch(url)[2]).xpath("//a/@href"):
            absolute = urljoin(url, href).split("#")[0]
            if absolute.startswith(base):
                links.add(absolute)
    assert len(links) > 30
    broken = [u for u in sorted(links) if fetch(u)[0] != 200]
    assert broken == []


def test_popular_sidebar_links_are_articles_not_all_on_the_listing() -> None:
    site = make_sites(**SMALL)[0]
    popular = {a.url for a in site.popular()}
    assert popular <= set(site.all_article_urls())
    assert popular - {a.url for a in site.listing("politics", 1).articles}
    page = render_page(site, "/category/politics/").body.decode()
    assert all(url in page for url in popular)


def test_added_route_serves_before_the_site_pages(server: DemoServer) -> None:
    def too_many(request: DemoRequest) -> Page:
        return Page(429, b"slow down", "text/plain", headers=(("Retry-After", "3"),))

    server.add_route("/fault/429", too_many)
    status, headers, body = fetch(server.url["ledger"] + "/fault/429/x")
    assert (status, headers["Retry-After"], body) == (429, "3", b"slow down")
    assert fetch(server.url["ledger"] + "/fault/other")[0] == 404


def test_robots_last_modified_is_stable_across_rounds(server: DemoServer) -> None:
    url = server.url["ledger"] + "/robots.txt"
    first = fetch(url)[1]["Last-Modified"]
    server.advance()
    assert (
        fetch(url)[1]["Last-Modified"] == first == format_datetime(BASE_LAST_MODIFIED, usegmt=True)
    )


def test_module_entry_point_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler.demo_site", "--port", "0", "--categories", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        urls = [line.rsplit(": ", 1)[1].strip() for line in lines]
        assert lines[0].startswith("The Daily Ledger: http://127.0.0.1:")
        assert all(fetch(u)[0] == 200 for u in urls)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()


def test_world_size_is_configurable() -> None:
    big = DemoSite("x", "X", make_sites()[0].layout, articles_per_category=200, page_size=20)
    assert len(big.all_article_urls()) == 4 * 200
    assert len(big.all_article_urls(max_pages=2)) == 4 * 40
    assert big.page_count("politics") == 10
