"""Pieces both demo themes share: the Page type, metadata, feeds, sitemaps, robots.txt.

Themes (ledger.py, courier.py) render HTML bodies; `render_page` dispatches a request path to
the shared machine-readable routes first, then to the theme, and caches the result per round.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawler.demo_site.world import Article, DemoSite

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Page:
    """A rendered response body with what the server needs for its headers."""

    status: int
    body: bytes
    content_type: str = HTML
    last_modified: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()


def esc(value: str) -> str:
    """HTML-escape text and attribute values."""
    return escape(value, quote=True)


def human_date(when: datetime) -> str:
    """The visible date format both themes use ('May 6, 2024 at 09:00')."""
    return f"{when:%B} {when.day}, {when:%Y} at {when:%H:%M}"


def byline(authors: tuple[str, ...]) -> str:
    """'Jane Doe', 'Jane Doe and John Roe', 'A, B and C'."""
    if len(authors) == 1:
        return authors[0]
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def person_slug(name: str) -> str:
    """Author page slug for a name."""
    return name.lower().replace(" ", "-")


def last_change(article: Article) -> datetime:
    """When the article last changed (its Last-Modified)."""
    return article.modified or article.published


def article_head(site: DemoSite, article: Article, *, section: str) -> str:
    """<head> metadata for an article: canonical, Open Graph, article:*, JSON-LD NewsArticle."""
    description = article.paragraphs[0][:160]
    lines = [
        f"<title>{esc(article.title)} | {esc(site.name)}</title>",
        f'<meta name="description" content="{esc(description)}">',
        f'<link rel="canonical" href="{esc(article.url)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:site_name" content="{esc(site.name)}">',
        f'<meta property="og:title" content="{esc(article.title)}">',
        f'<meta property="og:url" content="{esc(article.url)}">',
        f'<meta property="og:description" content="{esc(description)}">',
        f'<meta property="article:published_time" content="{article.published.isoformat()}">',
        f'<meta property="article:section" content="{esc(section)}">',
    ]
    if article.modified is not None:
        lines.append(
            f'<meta property="article:modified_time" content="{article.modified.isoformat()}">'
        )
    lines += [f'<meta property="article:tag" content="{esc(tag)}">' for tag in article.tags]
    if article.amp_url:
        lines.append(f'<link rel="amphtml" href="{esc(article.amp_url)}">')
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": article.url},
        "headline": article.title,
        "datePublished": article.published.isoformat(),
        "author": [{"@type": "Person", "name": name} for name in article.authors],
        "publisher": {
            "@type": "Organization",
            "name": site.name,
            "logo": {"@type": "ImageObject", "url": site.base_url + "/logo.png"},
        },
        "articleSection": section,
        "keywords": list(article.tags),
        "description": description,
    }
    if article.modified is not None:
        data["dateModified"] = article.modified.isoformat()
    # "</" inside a JSON string would end the script element early.
    payload = json.dumps(data, indent=1).replace("</", "<\\/")
    lines.append(f'<script type="application/ld+json">{payload}</script>')
    return "\n".join(lines)


def ad_block(site: DemoSite, slot: str, n: int) -> str:
    """A sponsored box linking off-site, as ad networks inject them."""
    return (
        f'<div class="ad ad-{slot}" data-ad-slot="{slot}-{n}"><span class="ad-label">'
        f'Advertisement</span> <a href="https://ads.sponsor-network.example/click?slot={slot}'
        f'&amp;site={site.key}&amp;n={n}" rel="sponsored nofollow">Compare energy prices in '
        f"your area today</a></div>"
    )


def rss(site: DemoSite, articles: list[Article], title: str, link: str) -> Page:
    """An RSS 2.0 feed of articles."""
    items = []
    for a in articles:
        creators = "".join(f"<dc:creator>{esc(n)}</dc:creator>" for n in a.authors)
        cats = "".join(f"<category>{esc(t)}</category>" for t in a.tags)
        items.append(
            f"<item><title>{esc(a.title)}</title><link>{esc(a.url)}</link>"
            f'<guid isPermaLink="true">{esc(a.url)}</guid>'
            f"<pubDate>{format_datetime(a.published)}</pubDate>{creators}{cats}"
            f"<description>{esc(a.paragraphs[0])}</description></item>"
        )
    newest = max((last_change(a) for a in articles), default=site.now())
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{esc(title)}</title><link>{esc(link)}</link>"
        f"<description>Latest news from {esc(site.name)}</description>"
        f"<lastBuildDate>{format_datetime(newest)}</lastBuildDate>{''.join(items)}"
        "</channel></rss>\n"
    )
    return Page(200, body.encode(), "application/rss+xml; charset=utf-8", newest)


def news_sitemap(site: DemoSite) -> Page:
    """A Google News sitemap: articles published in the last two days."""
    since = site.now() - timedelta(days=2)
    recent = [a for a in site.articles() if a.published >= since]
    urls = "".join(
        f"<url><loc>{esc(a.url)}</loc><news:news><news:publication>"
        f"<news:name>{esc(site.name)}</news:name><news:language>en</news:language>"
        f"</news:publication><news:publication_date>{a.published.isoformat()}"
        f"</news:publication_date><news:title>{esc(a.title)}</news:title></news:news></url>"
        for a in recent
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<urlset '
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{urls}</urlset>\n"
    )
    newest = max((a.published for a in recent), default=site.now())
    return Page(200, body.encode(), "application/xml; charset=utf-8", newest)


def sitemap(site: DemoSite) -> Page:
    """A plain sitemap of every article with its lastmod."""
    arts = site.articles()
    urls = "".join(
        f"<url><loc>{esc(a.url)}</loc><lastmod>{last_change(a).isoformat()}</lastmod></url>"
        for a in arts
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    )
    newest = max((last_change(a) for a in arts), default=site.now())
    return Page(200, body.encode(), "application/xml; charset=utf-8", newest)


def robots(site: DemoSite) -> Page:
    """robots.txt allowing everything and naming both sitemaps."""
    body = (
        f"User-agent: *\nAllow: /\n\nSitemap: {site.base_url}/news-sitemap.xml\n"
        f"Sitemap: {site.base_url}/sitemap.xml\n"
    )
    return Page(200, body.encode(), "text/plain; charset=utf-8", BASE_LAST_MODIFIED)


def not_found(site: DemoSite) -> Page:
    """The 404 page."""
    body = (
        f"<!DOCTYPE html><html><head><title>Page not found | {esc(site.name)}</title></head>"
        f'<body><h1>Page not found</h1><p><a href="{site.base_url}/">Home</a></p></body></html>'
    )
    return Page(404, body.encode())


def render_page(site: DemoSite, path: str, query: str = "") -> Page:
    """The page at path?query in the site's current round (cached until the next round)."""
    key = (site.round, f"{path}?{query}")
    with site.lock:
        page = site.page_cache.get(key)
        if page is None:
            page = _render_uncached(site, path, query)
            site.page_cache[key] = page
        return page


def _render_uncached(site: DemoSite, path: str, query: str) -> Page:
    if path == "/robots.txt":
        return robots(site)
    if path == "/news-sitemap.xml":
        return news_sitemap(site)
    if path == "/sitemap.xml":
        return sitemap(site)
    if path == "/feed/":
        return rss(site, site.articles()[:20], site.name, site.base_url + "/")
    return site.layout.render(site, path, query) or not_found(site)


# robots.txt never changes; a fixed date keeps its Last-Modified stable across rounds.
BASE_LAST_MODIFIED = datetime.fromisoformat("2024-01-01T00:00:00+00:00")
