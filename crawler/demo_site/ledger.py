"""The Daily Ledger: a WordPress-style theme (post lists, /YYYY/MM/DD/slug/, widget sidebar).

Links are absolute, as WordPress writes them. Category pages paginate at
/category/<name>/page/N/ with an "Older posts" link and <link rel="next">.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from crawler.demo_site.pages import (
    Page,
    ad_block,
    article_head,
    byline,
    esc,
    human_date,
    last_change,
    person_slug,
    rss,
)
from crawler.demo_site.text import TAGS

if TYPE_CHECKING:
    from crawler.demo_site.world import Article, DemoSite, Listing

STATIC = {
    "/about/": "About the Ledger",
    "/contact/": "Contact us",
    "/privacy-policy/": "Privacy policy",
    "/advertise/": "Advertise with us",
    "/wp-login.php": "Log in",
}
_ARTICLE = re.compile(r"^/(\d{4})/(\d{2})/(\d{2})/([a-z0-9-]+)/(amp/)?$")
_CATEGORY = re.compile(r"^/category/([a-z0-9-]+)/(?:page/(\d+)/)?$")
_CATEGORY_FEED = re.compile(r"^/category/([a-z0-9-]+)/feed/$")
_ARCHIVE = re.compile(r"^/(tag|author)/([a-z0-9-]+)/$|^/()(\d{4}/\d{2})/$")


class LedgerLayout:
    """Theme and URL scheme of The Daily Ledger."""

    name = "ledger"
    default_categories: tuple[str, ...] = (
        "politics",
        "business",
        "local",
        "sport",
        "culture",
        "science",
    )

    def article_path(self, article: Article) -> str:
        """/YYYY/MM/DD/slug/."""
        return f"/{article.published:%Y/%m/%d}/{article.slug}/"

    def amp_path(self, article: Article) -> str:
        """/YYYY/MM/DD/slug/amp/."""
        return self.article_path(article) + "amp/"

    def category_path(self, category: str, page: int) -> str:
        """/category/<name>/ and /category/<name>/page/N/."""
        return f"/category/{category}/" + (f"page/{page}/" if page > 1 else "")

    def render(self, site: DemoSite, path: str, query: str) -> Page | None:
        """Route a path to one of the theme's pages."""
        if path == "/":
            return _home(site)
        if m := _CATEGORY.match(path):
            cat, page = m.group(1), int(m.group(2) or 1)
            if cat not in site.categories or page < 1 or page > site.page_count(cat):
                return None
            return _category(site, site.listing(cat, page))
        if m := _CATEGORY_FEED.match(path):
            if m.group(1) not in site.categories:
                return None
            arts = site.in_category(m.group(1))[:10]
            return rss(site, arts, f"{site.name} - {m.group(1)}", site.category_url(m.group(1)))
        if m := _ARTICLE.match(path):
            article = site.article_by_path(path.removesuffix("amp/"))
            if article is None or (m.group(5) and article.amp_url is None):
                return None
            return _amp(site, article) if m.group(5) else _article(site, article)
        if m := _ARCHIVE.match(path):
            if m.group(4):
                return _archive(site, "month", m.group(4))
            return _archive(site, m.group(1), m.group(2))
        if path in STATIC:
            return _static(site, path, STATIC[path])
        return None


def _head(site: DemoSite, title: str, extra: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en-US"><head><meta charset="UTF-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="WordPress 6.5.3">'
        f"{extra or f'<title>{esc(title)}</title>'}"
        f'<link rel="alternate" type="application/rss+xml" title="{esc(site.name)} &raquo; Feed"'
        f' href="{site.base_url}/feed/">'
        "<style>body{font-family:Georgia,serif;max-width:72em;margin:auto}"
        "#secondary{float:right;width:30%}#primary{float:left;width:65%}</style></head>\n"
    )


def _masthead(site: DemoSite) -> str:
    b = site.base_url
    cats = "".join(
        f'<li class="menu-item menu-item-type-taxonomy menu-item-object-category">'
        f'<a href="{b}/category/{c}/">{esc(c.title())}</a></li>'
        for c in site.categories
    )
    return (
        '<body class="archive category wp-theme-ledger"><div id="page" class="site">'
        '<a class="skip-link screen-reader-text" href="#content">Skip to content</a>'
        '<header id="masthead" class="site-header"><div class="site-branding">'
        f'<p class="site-title"><a href="{b}/" rel="home">{esc(site.name)}</a></p>'
        '<p class="site-description">Independent news since 1887</p></div>'
        '<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">'
        f'<li class="menu-item"><a href="{b}/">Home</a></li>{cats}'
        f'<li class="menu-item"><a href="{b}/about/">About</a></li>'
        f'<li class="menu-item"><a href="{b}/contact/">Contact</a></li>'
        f'<li class="menu-item"><a href="{b}/wp-login.php">Log in</a></li></ul></nav>'
        f'<form role="search" method="get" class="search-form" action="{b}/">'
        '<input type="search" class="search-field" name="s"></form></header>\n'
        '<div id="content" class="site-content">'
    )


def _sidebar(site: DemoSite) -> str:
    cached = site.fragments.get("ledger-sidebar")
    if cached is None:
        cached = site.fragments["ledger-sidebar"] = _render_sidebar(site)
    return cached


def _render_sidebar(site: DemoSite) -> str:
    b = site.base_url
    popular = "".join(f'<li><a href="{esc(a.url)}">{esc(a.title)}</a></li>' for a in site.popular())
    months = sorted({a.published.strftime("%Y/%m") for a in site.articles()}, reverse=True)
    archives = "".join(f'<li><a href="{b}/{m}/">{m}</a></li>' for m in months[:6])
    return (
        '<aside id="secondary" class="widget-area">'
        '<section id="search-2" class="widget widget_search"><form role="search" '
        f'action="{b}/"><input type="search" name="s"></form></section>'
        '<section id="popular-3" class="widget widget_popular_posts">'
        f'<h2 class="widget-title">Popular Posts</h2><ul>{popular}</ul></section>'
        f"{ad_block(site, 'sidebar', 1)}"
        '<section id="archives-2" class="widget widget_archive">'
        f'<h2 class="widget-title">Archives</h2><ul>{archives}</ul></section></aside>'
    )


def _footer(site: DemoSite) -> str:
    b = site.base_url
    tags = " ".join(f'<a href="{b}/tag/{t}/" class="tag-cloud-link">{t}</a>' for t in TAGS)
    return (
        '</div><footer id="colophon" class="site-footer">'
        f'<div class="widget widget_tag_cloud"><div class="tagcloud">{tags}</div></div>'
        '<nav class="footer-navigation"><ul>'
        f'<li><a href="{b}/about/">About</a></li><li><a href="{b}/contact/">Contact</a></li>'
        f'<li><a href="{b}/privacy-policy/">Privacy Policy</a></li>'
        f'<li><a href="{b}/advertise/">Advertise</a></li>'
        f'<li><a href="{b}/feed/">RSS</a></li></ul></nav>'
        f'<div class="site-info">&copy; {site.now().year} {esc(site.name)}. '
        'Proudly powered by <a href="https://wordpress.example/">WordPress</a>.</div>'
        "</footer></div>"
        # Like every news site, an analytics script: the archive keeps it, and its web UI
        # must never run it (tests/test_web_browser.py checks that the beacon never leaves).
        '<script id="stats">document.documentElement.dataset.analytics="ran";'
        'document.title="[tracked] "+document.title;'
        'fetch("https://stats.wordpress.example/hit?p="+encodeURIComponent(location.pathname));'
        "</script></body></html>\n"
    )


def _post_summary(site: DemoSite, article: Article, href: str) -> str:
    """One <article class="post"> block of a list; every link uses the same href."""
    b = site.base_url
    authors = " and ".join(
        f'<span class="author vcard"><a class="url fn n" href="{b}/author/{person_slug(n)}/">'
        f"{esc(n)}</a></span>"
        for n in article.authors
    )
    h = esc(href)
    comments = f"{len(article.comments)} Comments" if article.comments else "Leave a comment"
    comments_href = h if "#" in href else h + "#comments"
    return (
        f'<article id="post-{article.id}" class="post-{article.id} post type-post '
        f'status-publish format-standard hentry category-{article.category}">'
        f'<header class="entry-header"><h2 class="entry-title"><a href="{h}" rel="bookmark">'
        f"{esc(article.title)}</a></h2>"
        f'<div class="entry-meta"><span class="posted-on">Posted on <a href="{h}" '
        f'rel="bookmark"><time class="entry-date published" '
        f'datetime="{article.published.isoformat()}">{human_date(article.published)}'
        f'</time></a></span> <span class="byline">by {authors}</span></div></header>'
        f'<div class="entry-summary"><p>{esc(article.paragraphs[0][:220])}&hellip; '
        f'<a href="{h}" class="more-link">Continue reading</a></p></div>'
        f'<footer class="entry-footer"><span class="cat-links">Posted in '
        f'<a href="{b}/category/{article.category}/" rel="category tag">'
        f"{esc(article.category.title())}</a></span> "
        f'<span class="comments-link"><a href="{comments_href}">{comments}</a></span></footer>'
        "</article>\n"
    )


def _category(site: DemoSite, listing: Listing) -> Page:
    cat = listing.category
    extra = (
        f"<title>{esc(cat.title())} Archives | {esc(site.name)}</title>"
        f'<link rel="canonical" href="{esc(listing.url)}">'
        f'<link rel="alternate" type="application/rss+xml" title="{esc(cat)} feed" '
        f'href="{site.base_url}/category/{cat}/feed/">'
    )
    if listing.prev_url:
        extra += f'<link rel="prev" href="{esc(listing.prev_url)}">'
    if listing.next_url:
        extra += f'<link rel="next" href="{esc(listing.next_url)}">'
    posts = []
    for n, (article, href) in enumerate(zip(listing.articles, listing.hrefs, strict=True)):
        posts.append(_post_summary(site, article, href))
        if n == 3:
            # In-feed ads sit between posts, as ad plugins insert them.
            posts.append(ad_block(site, "infeed", listing.page))
    nav = ""
    if listing.next_url or listing.prev_url:
        older = (
            f'<div class="nav-previous"><a href="{esc(listing.next_url)}">Older posts</a></div>'
            if listing.next_url
            else ""
        )
        newer = (
            f'<div class="nav-next"><a href="{esc(listing.prev_url)}">Newer posts</a></div>'
            if listing.prev_url
            else ""
        )
        nav = (
            '<nav class="navigation posts-navigation" aria-label="Posts">'
            f'<h2 class="screen-reader-text">Posts navigation</h2><div class="nav-links">'
            f"{older}{newer}</div></nav>"
        )
    html = (
        _head(site, "", extra)
        + _masthead(site)
        + '<div id="primary" class="content-area"><main id="main" class="site-main">'
        + f'<header class="page-header"><h1 class="page-title">Category: {esc(cat.title())}'
        + "</h1></header>\n"
        + "".join(posts)
        + nav
        + "</main></div>"
        + _sidebar(site)
        + _footer(site)
    )
    newest = max((last_change(a) for a in listing.articles), default=site.now())
    return Page(200, html.encode(), last_modified=newest)


def _home(site: DemoSite) -> Page:
    arts = site.articles()[: site.page_size]
    html = (
        _head(site, f"{site.name} - Independent news since 1887")
        + _masthead(site)
        + '<div id="primary" class="content-area"><main id="main" class="site-main">'
        + "".join(_post_summary(site, a, a.url) for a in arts)
        + "</main></div>"
        + _sidebar(site)
        + _footer(site)
    )
    newest = max((last_change(a) for a in arts), default=site.now())
    return Page(200, html.encode(), last_modified=newest)


def _article(site: DemoSite, article: Article) -> Page:
    b = site.base_url
    authors = " and ".join(
        f'<span class="author vcard"><a class="url fn n" href="{b}/author/{person_slug(n)}/">'
        f"{esc(n)}</a></span>"
        for n in article.authors
    )
    updated = (
        f' <span class="updated-on">Updated <time class="updated" '
        f'datetime="{article.modified.isoformat()}">{human_date(article.modified)}</time></span>'
        if article.modified
        else ""
    )
    paras = [f"<p>{esc(p)}</p>" for p in article.paragraphs]
    paras.insert(min(3, len(paras)), ad_block(site, "inarticle", article.id))
    tags = ", ".join(f'<a href="{b}/tag/{t}/" rel="tag">{t}</a>' for t in article.tags)
    same = [a for a in site.in_category(article.category) if a.id != article.id]
    related = "".join(f'<li><a href="{esc(a.url)}">{esc(a.title)}</a></li>' for a in same[:4])
    comments = "".join(
        f'<li id="comment-{article.id}{i}" class="comment"><article class="comment-body">'
        f'<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">'
        f'{esc(name)}</b> <span class="says">says:</span></div></footer>'
        f'<div class="comment-content"><p>{esc(said)}</p></div></article></li>'
        for i, (name, said) in enumerate(article.comments)
    )
    html = (
        _head(site, "", article_head(site, article, section=article.category.title()))
        + _masthead(site).replace('class="archive category', 'class="post-template-default single')
        + '<div id="primary" class="content-area"><main id="main" class="site-main">'
        + f'<article id="post-{article.id}" class="post-{article.id} post type-post '
        + f'status-publish hentry category-{article.category}"><header class="entry-header">'
        + f'<span class="cat-links"><a href="{b}/category/{article.category}/" rel="category tag">'
        + f"{esc(article.category.title())}</a></span>"
        + f'<h1 class="entry-title">{esc(article.title)}</h1><div class="entry-meta">'
        + f'<span class="byline">By {authors}</span> <span class="posted-on">'
        + f'<time class="entry-date published" datetime="{article.published.isoformat()}">'
        + f"{human_date(article.published)}</time></span>{updated}</div></header>"
        + f'<div class="entry-content">{"".join(paras)}</div>'
        + f'<footer class="entry-footer"><span class="tags-links">Tagged {tags}</span></footer>'
        + "</article>"
        + '<section class="related-posts"><h2>Related stories</h2>'
        + f"<ul>{related}</ul></section>"
        + '<div id="comments" class="comments-area">'
        + f'<h2 class="comments-title">{len(article.comments)} thoughts on '
        + f"&ldquo;{esc(article.title)}&rdquo;</h2>"
        + f'<ol class="comment-list">{comments}</ol>'
        + '<div id="respond" class="comment-respond"><h3>Leave a Reply</h3>'
        + f'<form action="{b}/wp-comments-post.php" method="post"><textarea name="comment">'
        + "</textarea></form></div></div>"
        + "</main></div>"
        + _sidebar(site)
        + _footer(site)
    )
    return Page(200, html.encode(), last_modified=last_change(article))


def _amp(site: DemoSite, article: Article) -> Page:
    paras = "".join(f"<p>{esc(p)}</p>" for p in article.paragraphs)
    html = (
        '<!DOCTYPE html><html amp lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(article.title)}</title>"
        f'<link rel="canonical" href="{esc(article.url)}">'
        '<meta name="viewport" content="width=device-width"></head><body>'
        f'<header class="amp-header"><a href="{site.base_url}/">{esc(site.name)}</a></header>'
        f'<article><h1>{esc(article.title)}</h1><p class="byline">By '
        f"{esc(byline(article.authors))}</p>"
        f'<time datetime="{article.published.isoformat()}">{human_date(article.published)}'
        f"</time>{paras}</article></body></html>\n"
    )
    return Page(200, html.encode(), last_modified=last_change(article))


def _archive(site: DemoSite, kind: str, slug: str) -> Page | None:
    if kind == "tag":
        arts = [a for a in site.articles() if slug in a.tags]
    elif kind == "month":
        arts = [a for a in site.articles() if a.published.strftime("%Y/%m") == slug]
    else:
        arts = [a for a in site.articles() if slug in {person_slug(n) for n in a.authors}]
    if not arts:
        return None
    html = (
        _head(site, f"{slug} | {site.name}")
        + _masthead(site)
        + '<div id="primary" class="content-area"><main id="main" class="site-main">'
        + f'<header class="page-header"><h1 class="page-title">{esc(slug)}</h1></header>'
        + "".join(_post_summary(site, a, a.url) for a in arts[: site.page_size])
        + "</main></div>"
        + _sidebar(site)
        + _footer(site)
    )
    return Page(200, html.encode(), last_modified=last_change(arts[0]))


def _static(site: DemoSite, path: str, title: str) -> Page:
    html = (
        _head(site, f"{title} | {site.name}")
        + _masthead(site)
        + '<div id="primary" class="content-area"><main id="main" class="site-main">'
        + f'<article class="page"><h1 class="entry-title">{esc(title)}</h1>'
        + '<div class="entry-content"><p>The Daily Ledger is an independent newspaper. Write '
        + "to the newsroom at news@ledger.example.</p></div></article></main></div>"
        + _footer(site)
    )
    return Page(200, html.encode(), last_modified=site.now(0))
