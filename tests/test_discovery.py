"""Category page discovery: main-list article links, next page, sections, feeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.demo_site import DemoSite, make_sites, render_page, serve
from crawler.discovery import Discovery, discover, format_discovery, is_article_url
from tests.crawling import run_cli


def sites() -> tuple[DemoSite, DemoSite]:
    ledger, courier = make_sites(categories=3, articles_per_category=14, page_size=5)
    ledger.set_base_url("http://127.0.0.1:8001")
    courier.set_base_url("http://127.0.0.1:8002")
    return ledger, courier


def expected_links(site: DemoSite, category: str, page: int) -> list[str]:
    """What the listing shows, fragments removed, tracking params kept."""
    return list(dict.fromkeys(h.split("#")[0] for h in site.listing(category, page).hrefs))


@pytest.mark.parametrize("key", ["ledger", "courier"])
def test_demo_category_pages_yield_exactly_the_main_list_and_next_page(key: str) -> None:
    site = dict(zip(("ledger", "courier"), sites(), strict=True))[key]
    checked = 0
    for _ in range(3):
        for category in site.categories:
            for page in range(1, site.page_count(category) + 1):
                listing = site.listing(category, page)
                html = render_page(site, site.layout.category_path(category, page)).body
                found = discover(html, listing.url)
                assert found.article_links == expected_links(site, category, page)
                assert found.next_page == listing.next_url
                checked += 1
        site.advance()
    assert checked > 30


def test_sidebar_popular_and_ads_are_not_main_list_links() -> None:
    for site in sites():
        category = site.categories[0]
        found = discover(render_page(site, site.layout.category_path(category, 1)).body,
                         site.category_url(category))  # fmt: skip
        listed = {a.url for a in site.listing(category, 1).articles}
        popular_elsewhere = {a.url for a in site.popular()} - listed
        assert popular_elsewhere and not popular_elsewhere & set(found.article_links)
        assert not any("sponsor" in u or "/author/" in u for u in found.article_links)


def test_last_page_has_no_next_page() -> None:
    for site in sites():
        category = site.categories[1]
        last = site.page_count(category)
        html = render_page(site, site.layout.category_path(category, last)).body
        assert discover(html, site.category_url(category, last)).next_page is None


def test_demo_category_links_and_feeds() -> None:
    ledger, courier = sites()
    found = discover(render_page(ledger, "/category/business/").body,
                     ledger.category_url("business"))  # fmt: skip
    assert found.category_links == [ledger.category_url(c) for c in ledger.categories]
    assert found.feeds == [ledger.base_url + "/category/business/feed/", ledger.base_url + "/feed/"]
    found = discover(render_page(courier, "/section/city/page/2/").body,
                     courier.category_url("city", 2))  # fmt: skip
    assert found.category_links == [courier.category_url(c) for c in courier.categories]
    assert found.feeds == [courier.base_url + "/feed/"]


def test_discovery_over_http_matches_ground_truth() -> None:
    with serve(*make_sites(categories=2, articles_per_category=8)) as server:
        import urllib.request

        for site in server.sites.values():
            url = site.category_url(site.categories[0])
            with urllib.request.urlopen(url, timeout=10) as response:
                found = discover(response.read(), url)
            assert found.article_links == expected_links(site, site.categories[0], 1)


def test_article_pattern_overrides_url_shape() -> None:
    ledger, _ = sites()
    html = render_page(ledger, "/category/politics/").body
    url = ledger.category_url("politics")
    day = ledger.listing("politics").articles[0].published.strftime("/%Y/%m/%d/")
    found = discover(html, url, article_pattern=day.replace("/", r"\/"))
    assert found.article_links and all(day in u for u in found.article_links)
    assert discover(html, url, article_pattern=r"/no-such-shape/").article_links == []
    # A pattern can admit URLs the heuristics reject (short slugs), still only in the main list.
    plain = """<html><body><nav><a href="/s/menu1">Menu</a></nav><main>
      <div class="item"><a href="/s/a1">A</a></div><div class="item"><a href="/s/b2">B</a></div>
      </main></body></html>"""
    found = discover(plain, "https://x.example/list/", article_pattern=r"/s/[a-z]\d$")
    assert found.article_links == ["https://x.example/s/a1", "https://x.example/s/b2"]


def test_plain_ul_list_with_header_and_footer() -> None:
    html = """<html><head><title>News</title></head><body>
    <div id="header"><a href="/">Home</a><a href="/politics/">Politics</a></div>
    <h1>Latest</h1>
    <ul>
      <li><a href="/news/mayor-opens-new-bridge-today">Mayor opens bridge</a></li>
      <li><a href="/news/storm-closes-three-schools-early">Storm</a></li>
      <li><a href="/news/local-team-wins-the-cup-final">Cup</a></li>
    </ul>
    <div class="footer"><a href="/news/privacy-and-cookie-policy-page">Privacy</a></div>
    </body></html>"""
    found = discover(html, "https://paper.example/news/")
    assert found.article_links == [
        "https://paper.example/news/mayor-opens-new-bridge-today",
        "https://paper.example/news/storm-closes-three-schools-early",
        "https://paper.example/news/local-team-wins-the-cup-final",
    ]


def test_card_grid_with_trending_rail_and_numbered_pager() -> None:
    cards = "".join(
        f'<div class="tile"><a href="/world/story-{i}-{100000 + i}"><h3>S{i}</h3></a>'
        f'<a href="/author/x{i}">X</a></div>'
        for i in range(1, 7)
    )
    html = f"""<html><body><header><nav><a href="/world">World</a><a href="/sport">Sport</a>
    </nav></header><section class="stories">{cards}</section>
    <div class="trending-now"><a href="/world/old-story-999999">Old</a></div>
    <div class="pagination"><a href="/world?page=1">1</a><b>2</b><a href="/world?page=3">3</a>
    </div><a href="https://elsewhere.example/world/a-b-c-d">elsewhere</a></body></html>"""
    found = discover(html, "https://wire.example/world?page=2")
    assert found.article_links == [
        f"https://wire.example/world/story-{i}-{100000 + i}" for i in range(1, 7)
    ]
    assert found.next_page == "https://wire.example/world?page=3"
    assert found.category_links == ["https://wire.example/world", "https://wire.example/sport"]


def test_wrapper_named_after_its_sidebar_is_not_furniture() -> None:
    posts = "".join(f'<article><a href="/p/long-story-number-{i}">{i}</a></article>' for i in "abc")
    html = f"""<body><div class="layout-with-sidebar-right"><main>{posts}</main>
    <div class="sidebar most-popular"><a href="/p/a-popular-old-story">Popular</a></div></div>
    </body>"""
    found = discover(html, "https://w.example/news/")
    assert found.article_links == [f"https://w.example/p/long-story-number-{i}" for i in "abc"]


def test_page_whose_article_urls_only_have_dates() -> None:
    items = "".join(
        f'<div class="entry"><a href="/2024/03/{d:02d}/{d}">Story {d}</a></div>' for d in (9, 8, 7)
    )
    html = f"""<html><body><div class="menu"><a href="/2024/03/">March</a></div>
    {items}<p><a href="/2024/03/09/">All of 9 March</a></p></body></html>"""
    found = discover(html, "http://dates.example/archive/")
    assert found.article_links == [f"http://dates.example/2024/03/{d:02d}/{d}" for d in (9, 8, 7)]


def test_next_page_from_text_arrows_and_page_shapes() -> None:
    base = "https://n.example/cat/"

    def page(links: str, url: str = base) -> str | None:
        return discover(f"<html><body>{links}</body></html>", url).next_page

    assert page('<a href="/cat/?page=2">»</a>') == "https://n.example/cat/?page=2"
    assert page('<a href="/x">Newer posts</a><a href="/y">Next page</a>') == "https://n.example/y"
    assert page('<a href="/cat/page/3/">3</a>', base + "page/2/") == base + "page/3/"
    assert page('<a href="/cat/page/2/">2</a><a href="/cat/page/3/">3</a>') == base + "page/2/"
    assert page('<a href="/cat/?page=1">Previous</a>', base + "?page=2") is None
    assert page('<a href="https://other.example/cat/?page=2">Next</a>') is None


def test_feeds_from_alternate_links() -> None:
    html = """<html><head>
    <link rel="alternate" type="application/atom+xml" href="/atom.xml">
    <link rel="alternate" type="application/rss+xml" href="https://n.example/rss#x">
    <link rel="alternate" hreflang="de" href="/de/"></head><body></body></html>"""
    assert discover(html, "https://n.example/").feeds == [
        "https://n.example/atom.xml",
        "https://n.example/rss",
    ]


def test_allowed_domains_admit_subdomains_and_reject_others() -> None:
    html = """<ul><li><a href="https://www.n.example/a-long-story-here">1</a></li>
    <li><a href="https://m.n.example/another-long-story-here">2</a></li>
    <li><a href="https://n.example.evil.example/a-third-long-story">3</a></li></ul>"""
    found = discover(html, "https://n.example/", allowed_domains=["n.example"])
    assert found.article_links == [
        "https://www.n.example/a-long-story-here",
        "https://m.n.example/another-long-story-here",
    ]


def test_unclosed_tags_still_yield_the_links() -> None:
    html = b"""<html><body><div class="list"><div class="it"><a href="/a-long-story-one">x
    <div class="it"><a href="/a-long-story-two">y<p>
    <div class="it"><a href="/a-long-story-three">"""
    found = discover(html, "http://u.example/")
    assert found.article_links == [
        "http://u.example/a-long-story-one",
        "http://u.example/a-long-story-two",
        "http://u.example/a-long-story-three",
    ]


def test_declared_charset_is_honoured_and_wrong_bytes_do_not_break_parsing() -> None:
    latin = '<meta charset="iso-8859-1"><ul><li><a href="/caf\xe9-story-is-open">C</a></li>'
    found = discover(latin.encode("latin-1"), "http://c.example/")
    assert found.article_links == ["http://c.example/café-story-is-open"]
    broken = b'<meta charset="utf-8"><ul><li><a href="/bad-\xff\xfe-long-story">x</a></li></ul>'
    assert len(discover(broken, "http://c.example/").article_links) == 1


@pytest.mark.parametrize(
    "junk",
    [b"", "", b"   \n", b"\x00\x01\x02\xff" * 500, bytes(range(256)) * 40, b"<<<>>>", "<html>"],
)
def test_empty_or_binary_input_yields_an_empty_discovery(junk: bytes | str) -> None:
    assert discover(junk, "http://j.example/") == Discovery()


def test_bad_hrefs_are_skipped_not_raised() -> None:
    html = """<ul><li><a href="http://[::1">x</a></li><li><a href="http://h.example:99999/x">y</a>
    </li><li><a href="javascript:void(0)">z</a></li><li><a href="mailto:a@b">m</a></li>
    <li><a href="/one-good-long-story">ok</a></li></ul>"""
    assert discover(html, "http://h.example/").article_links == [
        "http://h.example/one-good-long-story"
    ]


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://n.example/2024/05/01/mayor-resigns/", True),
        ("https://n.example/news/city/council-votes-on-budget-123456.html", True),
        ("https://n.example/article/12345/", True),
        ("https://n.example/world/short.html", False),
        ("https://n.example/world/short-story.html", True),
        ("https://n.example/2021/05/2-136/", True),
        ("https://n.example/2021/05/17/136/", True),
        ("https://n.example/2016/0421/99.html", True),
        ("https://n.example/2014-09/07/c_133626092.htm", True),
        ("https://n.example/libyan-military-chief-meets-his-rival/", True),
        ("https://n.example/article.php?id=45", True),
        ("https://n.example/live/news.php?lang=173&cat=155&newid=13177", True),
        ("https://n.example/story/2000108105550/headline", True),
        ("https://n.example/archives/56805954.html", True),
        ("https://n.example/153199-slug/", True),
        ("https://n.example/?cat=1", False),
        ("https://n.example/archives/cat_103646.html", False),
        ("https://n.example/archives/2016-03.html", False),
        ("https://n.example/2024/05/01/", False),
        ("https://n.example/forum/thread-about-some-long-topic-here/", False),
        ("https://n.example/?p=123", True),
        ("https://n.example/category/politics/", False),
        ("https://n.example/tag/some-long-tag-name/", False),
        ("https://n.example/author/jane-doe-smith/", False),
        ("https://n.example/category/politics/page/2/", False),
        ("https://n.example/2024/05/", False),
        ("https://n.example/about/", False),
        ("https://n.example/feed/", False),
        ("https://n.example/wp-content/uploads/a-big-photo-file.jpg", False),
        ("https://n.example/amp/news/city/council-votes-on-budget-123456.html", False),
        ("https://n.example/index.html", False),
    ],
)
def test_url_shapes(url: str, article: bool) -> None:
    assert is_article_url(url) is article


def test_format_discovery_as_text_and_json() -> None:
    d = Discovery(["http://a/1", "http://a/2"], "http://a/?page=2", ["http://a/c/"], [])
    text = format_discovery(d, "table")
    assert "article links (2):\n  http://a/1\n  http://a/2" in text
    assert "next page: http://a/?page=2" in text and "feeds (0):" in text
    assert json.loads(format_discovery(d, "json")) == {
        "article_links": ["http://a/1", "http://a/2"],
        "next_page": "http://a/?page=2",
        "category_links": ["http://a/c/"],
        "feeds": [],
    }
    assert "next page: (none)" in format_discovery(Discovery(), "table")
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        format_discovery(d, "xml")


EXPLAIN_PAGE = """<html><head><base href="https://www.example.com/news/"></head><body>
<nav><a href="/2024/05/01/menu-story-link/">Menu story</a></nav>
<main>
  <div class="card"><a href="2024/05/02/2-136/"><img src="a.jpg" alt="Council vote"></a>
    <a href="2024/05/02/2-136/#comments">12 comments</a></div>
  <div class="card"><a href="//blogs.example.com/view.php?id=77"><span>Split</span> headline</a>
  </div>
  <div class="card"><a href="https://elsewhere.example/2024/05/02/their-big-story/">Theirs</a></div>
  <div class="card"><a href="/tag/budget/">Budget</a></div>
</main></body></html>"""


def test_explain_says_for_every_link_whether_it_is_taken_and_why(tmp_path: Path) -> None:
    html = tmp_path / "page.html"
    html.write_text(EXPLAIN_PAGE, encoding="utf-8")
    args = ("discover", "--html", str(html), "--url", "https://www.example.com/news/", "--explain")
    rows = json.loads(run_cli(*args, "--format", "json").stdout)
    by_url = [(r["url"], r["taken"], r["reason"]) for r in rows]
    assert by_url == [
        ("https://www.example.com/2024/05/01/menu-story-link/", False, "furniture: <nav>"),
        ("https://www.example.com/news/2024/05/02/2-136/", True, "date path"),
        ("https://www.example.com/news/2024/05/02/2-136/", False, "duplicate"),
        ("https://blogs.example.com/view.php?id=77", True, "story id in the query"),
        (
            "https://elsewhere.example/2024/05/02/their-big-story/",
            False,
            "off-site (elsewhere.example)",
        ),
        (
            "https://www.example.com/tag/budget/",
            False,
            "url shape: listing or service path (/tag/)",
        ),
    ]
    assert rows[1]["text"] == "Council vote" and rows[3]["text"] == "Split headline"
    table = run_cli(*args).stdout
    assert table.splitlines()[0] == (
        "6 links: 2 taken; left: furniture 1, duplicate 1, off-site 1, url shape 1"
    )
    assert "no     furniture: <nav>" in table and "yes    date path" in table


def test_stories_on_sub_domains_are_on_site_unless_allowed_domains_say_otherwise() -> None:
    html = """<ul><li><a href="https://blogs.paper.co.uk/2024/05/a-blog-post/">1</a></li>
    <li><a href="https://www.paper.co.uk/news/2024/05/02/a-news-story/">2</a></li>
    <li><a href="https://other.co.uk/2024/05/02/someone-elses-story/">3</a></li></ul>"""
    found = discover(html, "https://www.paper.co.uk/news/")
    assert found.article_links == [
        "https://blogs.paper.co.uk/2024/05/a-blog-post/",
        "https://www.paper.co.uk/news/2024/05/02/a-news-story/",
    ]
    scoped = discover(html, "https://www.paper.co.uk/news/", allowed_domains=["www.paper.co.uk"])
    assert scoped.article_links == ["https://www.paper.co.uk/news/2024/05/02/a-news-story/"]


def test_ranked_lists_are_stories_on_the_front_page_only() -> None:
    html = """<body><main><div class="post"><a href="/2024/05/02/lead-story/">Lead</a></div>
    <div class="post"><a href="/2024/05/02/second-story/">Second</a></div></main>
    <div class="most-popular"><a href="/2024/04/01/an-old-favourite/">Old</a></div>
    <div class="footer"><a href="/2024/01/01/a-footer-link/">Footer</a></div></body>"""
    front = discover(html, "https://n.example.com/").article_links
    section = discover(html, "https://n.example.com/world/").article_links
    assert "https://n.example.com/2024/04/01/an-old-favourite/" in front
    assert "https://n.example.com/2024/04/01/an-old-favourite/" not in section
    assert len(section) == 2 and not any("footer" in u for u in front)


def test_a_post_list_wrapped_in_widgets_and_a_header_ticker_are_taken() -> None:
    # Blog engines put the post list in "widget" blocks; news sites run tickers in the header.
    html = """<body><header><nav><a href="/2024/05/menu-story/">Menu</a></nav>
    <ul class="ticker"><li><a href="/2024/05/03/breaking-story/">Breaking</a></li></ul></header>
    <div class="sidebar"><div class="widget Blog"><h3><a href="/2024/05/a-first-post.html">1</a>
    </h3><h3><a href="/2024/05/a-second-post.html">2</a></h3></div></div></body>"""
    assert discover(html, "https://blog.example.com/").article_links == [
        "https://blog.example.com/2024/05/03/breaking-story/",
        "https://blog.example.com/2024/05/a-first-post.html",
        "https://blog.example.com/2024/05/a-second-post.html",
    ]
