"""Metro Courier: a modern card-grid theme (/news/<section>/<slug>-<id>.html, numbered pager).

Links are root-relative, unlike the Ledger's, so discovery has to resolve them. Section pages
paginate at /section/<name>/page/N/ (also answering ?page=N) with a numbered pager, a
"Next" link and <link rel="next">; a "Most read" rail sits in an <aside> inside <main>.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from crawler.demo_site.pages import (
    Page,
    ad_block,
    article_head,
    byline,
    esc,
    human_date,
    last_change,
    person_slug,
)

if TYPE_CHECKING:
    from crawler.demo_site.world import Article, DemoSite, Listing

STATIC = {
    "/about": "About Metro Courier",
    "/contact": "Contact the newsroom",
    "/privacy": "Privacy notice",
    "/account/login": "Sign in",
    "/newsletter": "Newsletters",
}
_ARTICLE = re.compile(r"^(/amp)?/news/([a-z0-9-]+)/([a-z0-9-]+)-(\d+)\.html$")
_SECTION = re.compile(r"^/section/([a-z0-9-]+)/(?:page/(\d+)/)?$")
_AUTHOR = re.compile(r"^/author/([a-z0-9-]+)$")
ID_OFFSET = 300000  # article numbers in URLs look like a CMS's six-digit ids


class CourierLayout:
    """Theme and URL scheme of Metro Courier."""

    name = "courier"
    default_categories: tuple[str, ...] = (
        "city",
        "economy",
        "culture",
        "sport",
        "world",
        "opinion",
    )

    def article_path(self, article: Article) -> str:
        """/news/<section>/<slug>-<id>.html."""
        return f"/news/{article.category}/{article.slug}-{ID_OFFSET + article.id * 17}.html"

    def amp_path(self, article: Article) -> str:
        """/amp/news/<section>/<slug>-<id>.html."""
        return "/amp" + self.article_path(article)

    def category_path(self, category: str, page: int) -> str:
        """/section/<name>/ and /section/<name>/page/N/."""
        return f"/section/{category}/" + (f"page/{page}/" if page > 1 else "")

    def render(self, site: DemoSite, path: str, query: str) -> Page | None:
        """Route a path to one of the theme's pages."""
        if path == "/":
            return _home(site)
        if m := _SECTION.match(path):
            cat = m.group(1)
            page = int(m.group(2) or parse_qs(query).get("page", ["1"])[0] or 1)
            if cat not in site.categories or page < 1 or page > site.page_count(cat):
                return None
            return _section(site, site.listing(cat, page))
        if m := _ARTICLE.match(path):
            article = site.article_by_path(path.removeprefix("/amp"))
            if article is None or (m.group(1) and article.amp_url is None):
                return None
            return _amp(site, article) if m.group(1) else _article(site, article)
        if m := _AUTHOR.match(path):
            arts = [a for a in site.articles() if m.group(1) in map(person_slug, a.authors)]
            return _simple(site, f"Stories by {m.group(1)}", arts) if arts else None
        if path in STATIC:
            return _simple(site, STATIC[path], [])
        return None


def _open(site: DemoSite, head: str, body_class: str) -> str:
    nav = "".join(
        f'<li><a class="nav-link" href="/section/{c}/">{esc(c.title())}</a></li>'
        for c in site.categories
    )
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">{head}'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="alternate" type="application/rss+xml" title="Metro Courier" href="/feed/">'
        "<style>.grid{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem}"
        ".layout{display:flex}.rail{width:18rem}</style></head>\n"
        f'<body class="{body_class}"><div class="topbar"><span>Breaking: live updates</span>'
        '<a class="topbar__cta" href="/newsletter">Get the morning briefing</a></div>'
        '<header class="site-header"><a class="logo" href="/" aria-label="Metro Courier home">'
        "Metro<b>Courier</b></a>"
        f'<nav class="primary-nav" aria-label="Sections"><ul>{nav}</ul></nav>'
        '<div class="header-actions"><a href="/account/login">Sign in</a>'
        '<a class="btn-subscribe" href="/newsletter">Subscribe</a></div></header>\n'
    )


def _rail(site: DemoSite) -> str:
    cached = site.fragments.get("courier-rail")
    if cached is None:
        cached = site.fragments["courier-rail"] = _render_rail(site)
    return cached


def _render_rail(site: DemoSite) -> str:
    most = "".join(
        f'<li class="most-read__item"><a href="{a.path}">{esc(a.title)}</a></li>'
        for a in site.popular()
    )
    return (
        '<aside class="rail"><section class="most-read"><h2>Most read</h2>'
        f"<ol>{most}</ol></section>{ad_block(site, 'rail', 1)}"
        '<section class="newsletter-box"><h2>Newsletter</h2>'
        '<a href="/newsletter">Sign up</a></section></aside>'
    )


def _close(site: DemoSite) -> str:
    sections = "".join(f'<a href="/section/{c}/">{esc(c.title())}</a> ' for c in site.categories)
    return (
        '<footer class="site-footer"><div class="footer-cols">'
        f'<div class="footer-col"><h3>Sections</h3>{sections}</div>'
        '<div class="footer-col"><h3>Company</h3><a href="/about">About us</a> '
        '<a href="/contact">Contact</a> <a href="/privacy">Privacy</a> '
        '<a href="/feed/">RSS</a> <a href="/sitemap.xml">Sitemap</a></div>'
        '<div class="footer-col"><h3>Follow</h3><a href="https://social.example/metrocourier">'
        "Social</a></div></div>"
        f"<p>&copy; {site.now().year} Metro Courier Media Group</p></footer></body></html>\n"
    )


def _card(article: Article, href: str, lead: bool) -> str:
    authors = ", ".join(
        f'<a class="card__author" href="/author/{person_slug(n)}">{esc(n)}</a>'
        for n in article.authors
    )
    h = esc(href)
    return (
        f'<div class="card{" card--lead" if lead else ""}" data-id="{article.id}">'
        f'<a class="card__link" href="{h}"><div class="card__media" role="img" '
        f'aria-label="photo"></div><h3 class="card__title">{esc(article.title)}</h3></a>'
        f'<p class="card__dek">{esc(article.paragraphs[0][:140])}</p>'
        f'<div class="card__meta">{authors} <time datetime="{article.published.isoformat()}">'
        f"{human_date(article.published)}</time></div></div>\n"
    )


def _pager(listing: Listing) -> str:
    shown = sorted({1, listing.pages, *range(listing.page - 2, listing.page + 3)})
    items, last = [], 0
    for n in shown:
        if not 1 <= n <= listing.pages:
            continue
        if n > last + 1:
            items.append('<span class="pager__gap">&hellip;</span>')
        if n == listing.page:
            items.append(f'<span class="pager__current" aria-current="page">{n}</span>')
        else:
            path = CourierLayout().category_path(listing.category, n)
            items.append(f'<a class="pager__num" href="{path}">{n}</a>')
        last = n
    if listing.next_url:
        path = "/" + listing.next_url.split("/", 3)[3]
        items.append(f'<a class="pager__next" rel="next" href="{path}">Next &rsaquo;</a>')
    return f'<nav class="pager" aria-label="Pagination">{"".join(items)}</nav>'


def _section(site: DemoSite, listing: Listing) -> Page:
    head = (
        f"<title>{esc(listing.category.title())} news | Metro Courier</title>"
        f'<link rel="canonical" href="{esc(listing.url)}">'
    )
    if listing.next_url:
        head += f'<link rel="next" href="{esc(listing.next_url)}">'
    if listing.prev_url:
        head += f'<link rel="prev" href="{esc(listing.prev_url)}">'
    cards = []
    for n, (article, href) in enumerate(zip(listing.articles, listing.hrefs, strict=True)):
        cards.append(_card(article, "/" + href.split("/", 3)[3], n == 0 and listing.page == 1))
        if n == 4:
            cards.append(
                '<div class="card card--sponsored">'
                + ad_block(site, "grid", listing.page)
                + "</div>"
            )
    html = (
        _open(site, head, "section-page")
        + '<main id="content" class="layout"><section class="section-front">'
        + f'<h1 class="section-title">{esc(listing.category.title())}</h1>'
        + f'<div class="grid">{"".join(cards)}</div>{_pager(listing)}</section>'
        + _rail(site)
        + "</main>"
        + _close(site)
    )
    newest = max((last_change(a) for a in listing.articles), default=site.now())
    return Page(200, html.encode(), last_modified=newest)


def _home(site: DemoSite) -> Page:
    blocks = []
    for cat in site.categories:
        arts = site.in_category(cat)[:4]
        cards = "".join(_card(a, a.path, i == 0) for i, a in enumerate(arts))
        blocks.append(
            f'<section class="home-block"><h2><a href="/section/{cat}/">{esc(cat.title())}'
            f'</a></h2><div class="grid">{cards}</div></section>'
        )
    html = (
        _open(site, "<title>Metro Courier: news for the metro area</title>", "home")
        + f'<main id="content" class="layout"><div class="fronts">{"".join(blocks)}</div>'
        + _rail(site)
        + "</main>"
        + _close(site)
    )
    newest = max((last_change(a) for a in site.articles()[:20]), default=site.now())
    return Page(200, html.encode(), last_modified=newest)


def _article(site: DemoSite, article: Article) -> Page:
    authors = " and ".join(
        f'<a rel="author" href="/author/{person_slug(n)}">{esc(n)}</a>' for n in article.authors
    )
    updated = (
        f'<p class="article__updated">Updated <time datetime="{article.modified.isoformat()}">'
        f"{human_date(article.modified)}</time></p>"
        if article.modified
        else ""
    )
    paras = [f"<p>{esc(p)}</p>" for p in article.paragraphs]
    paras.insert(min(2, len(paras)), ad_block(site, "inline", article.id))
    same = [a for a in site.in_category(article.category) if a.id != article.id]
    related = "".join(
        f'<li><a href="{a.path}?ref=related">{esc(a.title)}</a></li>' for a in same[:3]
    )
    comments = "".join(
        f'<div class="comment"><p class="comment__author">{esc(name)}</p>'
        f'<p class="comment__text">{esc(said)}</p></div>'
        for name, said in article.comments
    )
    html = (
        _open(site, article_head(site, article, section=article.category.title()), "article")
        + '<main id="content" class="layout"><div class="article-wrap">'
        + '<nav class="breadcrumbs"><a href="/">Home</a> &rsaquo; '
        + f'<a href="/section/{article.category}/">{esc(article.category.title())}</a></nav>'
        + f'<div class="article"><h1 class="article__headline">{esc(article.title)}</h1>'
        + f'<p class="article__byline">By {authors}</p>'
        + f'<p class="article__date">Published <time datetime="{article.published.isoformat()}">'
        + f"{human_date(article.published)}</time></p>{updated}"
        + f'<div class="article__body">{"".join(paras)}</div></div>'
        + '<section class="related"><h2>More on this story</h2>'
        + f"<ul>{related}</ul></section>"
        + f'<section class="comments" id="comments"><h2>Comments ({len(article.comments)})</h2>'
        + f"{comments}</section></div>"
        + _rail(site)
        + "</main>"
        + _close(site)
    )
    return Page(200, html.encode(), last_modified=last_change(article))


def _amp(site: DemoSite, article: Article) -> Page:
    paras = "".join(f"<p>{esc(p)}</p>" for p in article.paragraphs)
    html = (
        '<!doctype html><html amp lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(article.title)}</title>"
        f'<link rel="canonical" href="{esc(article.url)}"></head><body>'
        f"<h1>{esc(article.title)}</h1><p>By {esc(byline(article.authors))}</p>"
        f'<time datetime="{article.published.isoformat()}">{human_date(article.published)}'
        f"</time>{paras}</body></html>\n"
    )
    return Page(200, html.encode(), last_modified=last_change(article))


def _simple(site: DemoSite, title: str, arts: list[Article]) -> Page:
    items = "".join(f'<li><a href="{a.path}">{esc(a.title)}</a></li>' for a in arts[:10])
    html = (
        _open(site, f"<title>{esc(title)} | Metro Courier</title>", "page")
        + f'<main id="content" class="layout"><div class="page"><h1>{esc(title)}</h1>'
        + "<p>Metro Courier covers the metro area. Reach us at desk@courier.example.</p>"
        + f"<ul>{items}</ul></div></main>"
        + _close(site)
    )
    return Page(200, html.encode(), last_modified=site.now(0))
