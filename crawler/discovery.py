"""Category page -> article links, next page, section links and feeds, with no per-site selectors.

A pure function of (html, url): no network, no Scrapy. The article links are the page's *main
list*: links whose URL looks like an article (or matches the site's `article_pattern`), that sit
outside page furniture (header, nav, footer, aside, sidebars, widgets, ads, "related",
"most read"), taken from the repeated block structure (many sibling blocks of one kind) that
holds the most of them, plus any others inside the same <main>. Links keep their tracking
parameters (the archive canonicalizes them) but lose their fragments.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

log = logging.getLogger(__name__)


@dataclass
class Discovery:
    """What a category page yields; every URL absolute, in page order, without duplicates."""

    article_links: list[str] = field(default_factory=list)
    next_page: str | None = None
    category_links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


# Class/id words that mark page furniture rather than the page's own list.
_FURNITURE_WORDS = frozenset(
    {
        "sidebar", "widget", "widgets", "menu", "footer", "nav", "navbar", "navigation", "subnav",
        "related", "popular", "trending", "ad", "ads", "advert", "adverts", "advertisement",
        "advertising", "sponsor", "sponsored", "promo", "promoted", "breadcrumb", "breadcrumbs",
        "share", "sharing", "social", "comments", "comment", "newsletter", "rail", "mostread",
        "masthead", "topbar", "cookie", "cookies", "pager", "pagination", "outbrain", "taboola",
        "recommended",
    }
)  # fmt: skip
_FURNITURE_TAGS = frozenset({"nav", "aside", "form"})
_FURNITURE_ROLES = frozenset(
    {"navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "search"}
)
# Words in a class that describe the wrapper's neighbours, not the wrapper ("has-sidebar").
_WRAPPER_PREFIXES = ("has-", "with-", "no-", "is-")
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml"}
)
_NON_ARTICLE_SEGMENTS = frozenset(
    {
        "tag", "tags", "category", "categories", "section", "sections", "author", "authors",
        "topic", "topics", "page", "search", "login", "signin", "sign-in", "logout", "register",
        "subscribe", "account", "feed", "feeds", "rss", "about", "about-us", "contact",
        "contact-us", "privacy", "privacy-policy", "terms", "cookies", "imprint", "impressum",
        "wp-login.php", "wp-admin", "wp-content", "wp-json", "wp-includes", "cdn-cgi", "amp",
        "newsletter", "newsletters", "advertise", "jobs", "careers", "help", "faq",
    }
)  # fmt: skip
_STATIC_EXT = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|css|js|pdf|zip|gz|mp3|mp4|m4a|webm|avi|mov|xml|json|txt|"
    r"woff2?|ttf|docx?|xlsx?|pptx?|rss|atom)$",
    re.I,
)
# /2024/05/01/<anything> or /2024/05/<slug>; not the bare archives /2024/05/ and /2024/05/01/.
_DATE_PATH = re.compile(
    r"/(?:19|20)\d{2}/(?:0?[1-9]|1[0-2])/(?:(?:0?[1-9]|[12]\d|3[01])/[^/]+|[^/]*[a-z][^/]*)",
    re.I,
)
_COMPACT_DATE = re.compile(r"/(?:19|20)\d{2}-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])/[^/]+")
_ID_PATH = re.compile(
    r"(?:/(?:article|articles|story|stories|news|a|p|id|post|posts)/\d{3,}(?:/|$|\.))"
    r"|(?:[-_/]\d{5,}(?:\.[a-z]{2,5})?/?$)|(?:-\d{4,}\.[a-z]{2,5}$)",
    re.I,
)
_ID_QUERY = re.compile(r"^(?:p|id|article|articleid|story|storyid)$", re.I)
_PAGE_PATH = re.compile(r"/page/(\d+)/?$")
_PAGE_QUERY_KEYS = ("page", "paged", "pg", "p")
_NEXT_TEXT = re.compile(
    r"^(?:(?:next|older)(?:\s+(?:page|posts|entries|articles|stories|results|news))?"
    r"\s*[»\u203a>\u2192]*|[»\u203a>\u2192]{1,2}|more stories|load more"
    r"|weiter|suivant|siguiente)$"
)
_SECTION_FIRST = frozenset({"category", "categories", "section", "sections", "topic", "topics"})


def discover(
    html: bytes | str,
    url: str,
    *,
    article_pattern: str | None = None,
    allowed_domains: Sequence[str] = (),
) -> Discovery:
    """Article links, next page, section links and feeds of the category page `html` at `url`.

    Never raises for bad input: a page that cannot be parsed yields an empty Discovery.
    """
    root = _parse(html)
    if root is None:
        return Discovery()
    try:
        return _Page(root, url, article_pattern, allowed_domains).discovery()
    except (ValueError, TypeError, etree.LxmlError) as exc:
        # A malformed page must not stop a crawl; it just yields nothing.
        log.debug("discovery failed on %s: %s", url, exc)
        return Discovery()


def format_discovery(d: Discovery, fmt: str = "text") -> str:
    """Render a Discovery as `text` (a readable listing) or `json` (the dataclass's fields)."""
    if fmt == "json":
        return json.dumps(asdict(d), indent=2)
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}: expected 'text' or 'json'")
    lines = [f"article links ({len(d.article_links)}):"]
    lines += [f"  {u}" for u in d.article_links]
    lines.append(f"next page: {d.next_page or '(none)'}")
    lines.append(f"category links ({len(d.category_links)}):")
    lines += [f"  {u}" for u in d.category_links]
    lines.append(f"feeds ({len(d.feeds)}):")
    lines += [f"  {u}" for u in d.feeds]
    return "\n".join(lines)


# Small: the links that repeat are a site's navigation; article links are seen once each, and
# a big cache would only keep a long crawl's URL strings alive.
@functools.lru_cache(maxsize=2048)
def is_article_url(url: str) -> bool:
    """Whether a URL is shaped like an article's: date, long slug, numeric id or .html page."""
    parts = urlsplit(url)
    path = parts.path
    segments = [s for s in path.split("/") if s]
    if _STATIC_EXT.search(path) or any(s.lower() in _NON_ARTICLE_SEGMENTS for s in segments):
        return False
    if any(_ID_QUERY.match(k) and v.isdigit() for k, v in parse_qsl(parts.query)):
        return True
    if not segments:
        return False
    if _DATE_PATH.search(path) or _COMPACT_DATE.search(path) or _ID_PATH.search(path):
        return True
    stem = segments[-1].rsplit(".", 1)[0]
    words = [w for w in re.split(r"[-_]+", stem) if re.search(r"[a-z]", w, re.I)]
    if len(words) >= 3:
        return True
    has_ext = re.search(r"\.(s?html?|php|aspx?|jsp)$", segments[-1], re.I)
    return bool(has_ext) and stem.lower() not in {"index", "default", "home", "main"}


def _parse(html: bytes | str) -> lxml.html.HtmlElement | None:
    """Decode (BOM, <meta charset>, utf-8 fallback) and parse leniently; None if no document."""
    if isinstance(html, bytes):
        _, text = html_to_unicode(None, html)
    else:
        text = html
    text = text.replace("\x00", "")
    if not text.strip():
        return None
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError, etree.LxmlError):
        return None
    return root if isinstance(root, lxml.html.HtmlElement) else None


def _page_number(url: str) -> tuple[str, int]:
    """(the URL without its page number, the page number; 1 when there is none)."""
    parts = urlsplit(url)
    path, number = parts.path, 1
    if m := _PAGE_PATH.search(path):
        number, path = int(m.group(1)), path[: m.start()] + "/"
    query = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _PAGE_QUERY_KEYS and value.isdigit():
            number = int(value)
        else:
            query.append(f"{key}={value}")
    base = f"{parts.scheme}://{parts.netloc}{path.rstrip('/')}?{'&'.join(query)}"
    return base, number


class _Page:
    """One parsed page; holds the memoised furniture test while links are classified."""

    def __init__(
        self,
        root: lxml.html.HtmlElement,
        url: str,
        article_pattern: str | None,
        allowed_domains: Sequence[str],
    ) -> None:
        self.root, self.url = root, url
        self.pattern = re.compile(article_pattern) if article_pattern else None
        self.domains = [d.lower().lstrip(".") for d in allowed_domains]
        here = urlsplit(url)
        self.host, self.port = (here.hostname or "").removeprefix("www."), here.port
        base = root.find(".//base[@href]")
        self.base = urljoin(url, base.get("href", "").strip()) if base is not None else url
        self._furniture: dict[lxml.html.HtmlElement, bool] = {}

    def discovery(self) -> Discovery:
        links = self._links()
        return Discovery(
            article_links=self._articles(links),
            next_page=self._next_page(links),
            category_links=self._categories(links),
            feeds=self._feeds(),
        )

    def _links(self) -> list[tuple[lxml.html.HtmlElement, str]]:
        """(element, absolute URL without fragment) for every followable same-site <a>."""
        out = []
        resolved: dict[str, str | None] = {}  # list pages repeat each permalink several times
        for el in self.root.iter("a"):
            href = el.get("href") or ""
            if href not in resolved:
                resolved[href] = self._resolve(href)
            absolute = resolved[href]
            if absolute is not None:
                out.append((el, absolute))
        return out

    def _resolve(self, href: str) -> str | None:
        """Absolute same-site http(s) URL without fragment, or None."""
        href = re.sub(r"[\t\n\r]", "", href).strip()
        if not href or href.startswith("#"):
            return None
        try:
            absolute = urldefrag(urljoin(self.base, href))[0]
            parts = urlsplit(absolute)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            return None
        if parts.scheme in ("http", "https") and self._same_site(parts.hostname, parts.port):
            return absolute
        return None

    def _same_site(self, host: str | None, port: int | None) -> bool:
        host = (host or "").lower()
        if self.domains:
            return any(host == d or host.endswith("." + d) for d in self.domains)
        return host.removeprefix("www.") == self.host and port == self.port

    def _is_furniture(self, el: lxml.html.HtmlElement | None) -> bool:
        """Whether el or an ancestor is page furniture (memoised per element)."""
        if el is None or el.tag in ("body", "html"):
            return False
        known = self._furniture.get(el)
        if known is None:
            known = self._own_furniture(el) or self._is_furniture(el.getparent())
            self._furniture[el] = known
        return known

    def _own_furniture(self, el: lxml.html.HtmlElement) -> bool:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _FURNITURE_TAGS or (el.get("role") or "").lower() in _FURNITURE_ROLES:
            return True
        if tag in ("header", "footer") and not any(
            # A header inside an article or main is the article's own heading, not the site's.
            a.tag in ("article", "main")
            for a in el.iterancestors()
        ):
            return True
        if tag == "article":
            return False  # WordPress puts taxonomy noise ("tag-ads") in article classes
        for token in f"{el.get('class', '')} {el.get('id', '')}".lower().split():
            if token.startswith(_WRAPPER_PREFIXES):
                continue
            words = {w for w in re.split(r"[-_]+", token) if w}
            if words & _FURNITURE_WORDS or token.replace("-", "").replace("_", "") in (
                _FURNITURE_WORDS
            ):
                # A page-wide wrapper named after its neighbours ("content-sidebar") holds
                # the main content; furniture never does.
                return not el.xpath(".//main|.//*[@role='main']|.//article[2]")
        return False

    def _article_shaped(self, url: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(url) is not None
        return is_article_url(url)

    def _articles(self, links: list[tuple[lxml.html.HtmlElement, str]]) -> list[str]:
        shaped = [(el, u) for el, u in links if u != self.url and self._article_shaped(u)]
        candidates = [(el, u) for el, u in shaped if not self._is_furniture(el)]
        if not candidates:
            return []
        container = _main_list_container(candidates)
        roots = [container] if container is not None else []
        main = next(iter(self.root.xpath("//main|//*[@role='main']")), None)
        if main is not None and (container is None or container in set(main.iter())):
            roots.append(main)
        if roots:
            inside = [(el, u) for el, u in candidates if any(r in _lineage(el) for r in roots)]
            candidates = inside or candidates
        return _unique(u for _, u in candidates)

    def _next_page(self, links: list[tuple[lxml.html.HtmlElement, str]]) -> str | None:
        def ok(u: str) -> bool:
            return u != self.url and self._same_site(urlsplit(u).hostname, urlsplit(u).port)

        for el in self.root.iter("link"):
            if "next" in (el.get("rel") or "").lower().split() and el.get("href"):
                u = urldefrag(urljoin(self.base, el.get("href", "").strip()))[0]
                if ok(u):
                    return str(u)
        for el, u in links:
            if "next" in (el.get("rel") or "").lower().split() and ok(u):
                return u
        for el, u in links:
            label = el.text_content() or el.get("aria-label") or el.get("title") or ""
            if _NEXT_TEXT.match(" ".join(label.lower().split())) and ok(u):
                return u
        base, number = _page_number(self.url)
        for _, u in links:
            if _page_number(u) == (base, number + 1) and ok(u):
                return u
        return None

    def _categories(self, links: list[tuple[lxml.html.HtmlElement, str]]) -> list[str]:
        out = []
        for el, u in links:
            segments = [s for s in urlsplit(u).path.lower().split("/") if s]
            if not segments or _PAGE_PATH.search(urlsplit(u).path) or is_article_url(u):
                continue
            named = re.fullmatch(r"[a-z][a-z0-9-]*", segments[-1]) is not None
            sectioned = segments[0] in _SECTION_FIRST or segments[0] == "news"
            if (sectioned and len(segments) == 2 and named) or (
                len(segments) == 1
                and named
                and segments[0] not in _NON_ARTICLE_SEGMENTS
                and self._in_menu(el)
            ):
                out.append(u)
        return _unique(out)

    def _in_menu(self, el: lxml.html.HtmlElement) -> bool:
        for a in [el, *el.iterancestors()]:
            words = set(re.split(r"[-_\s]+", f"{a.get('class', '')} {a.get('id', '')}".lower()))
            if a.tag == "nav" or a.get("role") == "navigation" or words & {"menu", "nav"}:
                return True
        return False

    def _feeds(self) -> list[str]:
        out = []
        for el in self.root.iter("link"):
            rel = (el.get("rel") or "").lower().split()
            kind = (el.get("type") or "").lower().split(";")[0].strip()
            if "alternate" in rel and kind in _FEED_TYPES and el.get("href"):
                out.append(urldefrag(urljoin(self.base, el.get("href", "").strip()))[0])
        return _unique(out)


def _lineage(el: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return [el, *el.iterancestors()]


def _signature(el: lxml.html.HtmlElement) -> tuple[str, str]:
    """What makes sibling blocks "the same kind": tag and first class word without digits."""
    first = next((c for c in el.get("class", "").split() if not re.search(r"\d", c)), "")
    return str(el.tag), first


def _main_list_container(
    candidates: list[tuple[lxml.html.HtmlElement, str]],
) -> lxml.html.HtmlElement | None:
    """The parent of the largest run of same-kind sibling blocks holding article links."""
    items: dict[tuple[lxml.html.HtmlElement, tuple[str, str]], set[lxml.html.HtmlElement]] = {}
    for el, _ in candidates:
        for block in _lineage(el):
            parent = block.getparent()
            if parent is None or block.tag == "body":
                break
            items.setdefault((parent, _signature(block)), set()).add(block)
    best = max(items.items(), key=lambda kv: len(kv[1]), default=None)
    if best is None or len(best[1]) < 2:
        return None
    return best[0][0]


def _unique(urls: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for u in urls:
        seen.setdefault(u, None)
    return list(seen)
