"""Category page -> article links, next page, section links and feeds, with no per-site selectors.

A pure function of (html, url): no network, no Scrapy machinery (only its list of file
extensions, in crawler.article_urls). The article links are every link of
the page, in any of its story blocks, whose URL is shaped like one story's page (see
crawler.article_urls, or the site's `article_pattern`), on the page's own site (its
registered domain, or the user's allowed_domains), outside site furniture (navigation,
footer, ads, sharing, comments, paging; most-read and related lists off the front page).
Links keep their tracking parameters (the archive canonicalizes them) but lose their
fragments. `explain` gives the same decision for every link, with its reason.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from crawler.article_urls import NON_ARTICLE_SEGMENTS, is_article_url, url_shape
from crawler.scope import Target, domain_allowed
from storage.urls import site_of

log = logging.getLogger(__name__)


@dataclass
class Discovery:
    """What a category page yields; every URL absolute, in page order, without duplicates."""

    article_links: list[str] = field(default_factory=list)
    next_page: str | None = None
    category_links: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)


@dataclass
class LinkDecision:
    """One <a href> of a page: where it points, its text, and whether it was taken and why."""

    url: str
    text: str
    taken: bool
    reason: str


@dataclass
class _Decision:
    element: lxml.html.HtmlElement
    url: str
    in_scope: bool
    reason: str
    taken: bool = False

    def public(self) -> LinkDecision:
        text = " ".join((self.element.text_content() or "").split())
        if not text:  # image links: their alt text is what a reader sees
            alts = [img.get("alt", "") for img in self.element.iter("img")]
            text = " ".join(" ".join(alts).split())
        return LinkDecision(self.url, text[:200], self.taken, self.reason)


# Class/id words that mark site-wide furniture: navigation, ads, sharing, comments, paging.
# Links there are never the page's stories.
_FURNITURE_WORDS = frozenset(
    {
        "menu", "footer", "nav", "navbar", "navigation", "subnav", "ad", "ads", "advert",
        "adverts", "advertisement", "advertising", "sponsor", "sponsored", "promoted",
        "breadcrumb", "breadcrumbs", "share", "sharing", "social", "comments", "comment",
        "newsletter", "masthead", "topbar", "cookie", "cookies", "pager", "pagination",
        "outbrain", "taboola",
    }
)  # fmt: skip
# Ranked or related story lists (most read, popular, trending, related, recommended): on a
# section page they repeat other sections' stories, which those sections list themselves;
# on a site's front page they are story blocks like the others.
_STORY_LIST_WORDS = frozenset(
    {"related", "popular", "trending", "mostread", "mostpopular", "recommended", "mostviewed"}
)
# Sidebars, widgets and rails are only containers: blog engines (Blogger, WordPress themes)
# put the post list itself in "widgets", and sidebars list the site's recent stories. What
# they hold is judged by the words above, not by the container's name.
_FURNITURE_TAGS = frozenset({"nav", "form"})
_FURNITURE_ROLES = frozenset({"navigation", "contentinfo", "menu", "menubar", "search"})
# Words in a class that describe the wrapper's neighbours, not the wrapper ("has-sidebar").
_WRAPPER_PREFIXES = ("has-", "with-", "no-", "is-")
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/rdf+xml"}
)
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


def explain(
    html: bytes | str,
    url: str,
    *,
    article_pattern: str | None = None,
    allowed_domains: Sequence[str] = (),
) -> list[LinkDecision]:
    """Every link of the page, in document order, with whether discovery takes it and why."""
    root = _parse(html)
    if root is None:
        return []
    try:
        page = _Page(root, url, article_pattern, allowed_domains)
    except (ValueError, TypeError, etree.LxmlError) as exc:
        log.debug("discovery failed on %s: %s", url, exc)
        return []
    return [d.public() for d in page.decisions]


def format_discovery(d: Discovery, fmt: str = "table") -> str:
    """Render a Discovery as `table` (a readable listing) or `json` (the dataclass's fields)."""
    if fmt == "json":
        return json.dumps(asdict(d), indent=2)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: expected 'table' or 'json'")
    lines = [f"article links ({len(d.article_links)}):"]
    lines += [f"  {u}" for u in d.article_links]
    lines.append(f"next page: {d.next_page or '(none)'}")
    lines.append(f"category links ({len(d.category_links)}):")
    lines += [f"  {u}" for u in d.category_links]
    lines.append(f"feeds ({len(d.feeds)}):")
    lines += [f"  {u}" for u in d.feeds]
    return "\n".join(lines)


def format_explanation(decisions: Sequence[LinkDecision], fmt: str = "table") -> str:
    """Render explain()'s decisions as `table` (a summary, then one line per link) or `json`."""
    if fmt == "json":
        return json.dumps([asdict(d) for d in decisions], indent=2, ensure_ascii=False)
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}: expected 'table' or 'json'")
    taken = sum(d.taken for d in decisions)
    kinds = Counter(d.reason.split(":")[0].split(" (")[0] for d in decisions if not d.taken)
    left = ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
    lines = [f"{len(decisions)} links: {taken} taken; left: {left or 'none'}", ""]
    width = min(40, max((len(d.reason) for d in decisions), default=6))
    lines.append(f"{'taken':5}  {'why':{width}}  url  [text]")
    for d in decisions:
        text = f"  [{d.text[:60]}]" if d.text else ""
        lines.append(f"{'yes' if d.taken else 'no':5}  {d.reason[:width]:{width}}  {d.url}{text}")
    return "\n".join(lines)


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
        self.site = site_of(url)
        # A site's front page (/, /index.html) is all story blocks, ranked lists included.
        path = urlsplit(url).path
        self.front_page = re.fullmatch(r"/?(?:index\.\w+)?", path) is not None
        base = root.find(".//base[@href]")
        self.base = url
        if base is not None:
            try:
                self.base = urljoin(url, _clean_href(base.get("href", "")))
            except ValueError:
                pass
        self._furniture: dict[lxml.html.HtmlElement, str] = {}
        self._sites: dict[str, bool] = {}
        self.decisions = self._classify()

    def discovery(self) -> Discovery:
        links = [(d.element, d.url) for d in self.decisions if d.in_scope]
        return Discovery(
            article_links=_unique(d.url for d in self.decisions if d.taken),
            next_page=self._next_page(links),
            category_links=self._categories(links),
            feeds=self._feeds(),
        )

    def _classify(self) -> list[_Decision]:
        """Every <a href> of the page, in document order, taken or left with the reason."""
        out: list[_Decision] = []
        resolved: dict[str, tuple[str, str | None]] = {}  # permalinks repeat on list pages
        taken: set[str] = set()
        for el in self.root.iter("a"):
            href = el.get("href")
            if href is None:
                continue
            if href not in resolved:
                resolved[href] = self._resolve(href)
            url, left = resolved[href]
            d = _Decision(el, url, in_scope=left is None, reason=left or "")
            out.append(d)
            if left is not None:
                continue
            if url == self.url or url == self.base:
                d.reason = "this page"
                continue
            furniture = self._furniture_of(el)
            shaped, why = self._shape(url)
            if not shaped:
                d.reason = f"url shape: {why}"
            elif furniture:
                d.reason = f"furniture: {furniture}"
            elif url in taken:
                d.reason = "duplicate"
            else:
                d.taken, d.reason = True, why
                taken.add(url)
        return out

    def _resolve(self, href: str) -> tuple[str, str | None]:
        """(absolute URL without fragment, None) for an in-scope link, else (href, why not)."""
        href = _clean_href(href)
        if not href:
            return href, "empty href"
        if href.startswith("#"):
            return href, "fragment of this page"
        try:
            absolute = urldefrag(urljoin(self.base, href))[0]
            parts = urlsplit(absolute)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            return href, "malformed URL"
        if parts.scheme not in ("http", "https"):
            return absolute, f"not a web link ({parts.scheme}:)"
        if not self._same_site(absolute):
            return absolute, f"off-site ({parts.netloc})"
        return absolute, None

    def _same_site(self, url: str) -> bool:
        """In the user's allowed_domains when given (their scope wins, by the crawl's own
        scope rule), else on this page's registered domain: newsrooms put stories on
        sub-domains (blogs., sport., regional editions), and links to another registered
        domain are someone else's site."""
        netloc = urlsplit(url).netloc.lower()
        known = self._sites.get(netloc)
        if known is None:
            if self.domains:
                # The host alone decides here: a link to another scheme on an allowed host
                # (a rel=next to file://) is the crawl's scope rule's to refuse, and count.
                parts = urlsplit(url)
                try:
                    port = parts.port or 0
                except ValueError:
                    port = 0
                host = (parts.hostname or "").rstrip(".")
                known = domain_allowed(Target(parts.scheme, host, port), self.domains)
            else:
                known = site_of(url) == self.site
            self._sites[netloc] = known
        return known

    def _furniture_of(self, el: lxml.html.HtmlElement | None) -> str:
        """What furniture el or an ancestor is ("" for none), memoised per element."""
        if el is None or el.tag in ("body", "html"):
            return ""
        known = self._furniture.get(el)
        if known is None:
            known = self._own_furniture(el) or self._furniture_of(el.getparent())
            self._furniture[el] = known
        return known

    def _own_furniture(self, el: lxml.html.HtmlElement) -> str:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _FURNITURE_TAGS:
            return f"<{tag}>"
        role = (el.get("role") or "").lower()
        if role in _FURNITURE_ROLES:
            return f"role={role}"
        # The site header is not furniture as a whole: its menus are (nav, menu classes), but
        # news sites run breaking-news tickers and top-story strips in it.
        if tag == "footer" and not any(
            # A header inside an article or main is the article's own heading, not the site's.
            a.tag in ("article", "main")
            for a in el.iterancestors()
        ):
            return f"<{tag}>"
        if tag == "article":
            return ""  # WordPress puts taxonomy noise ("tag-ads") in article classes
        for token in f"{el.get('class', '')} {el.get('id', '')}".lower().split():
            if token.startswith(_WRAPPER_PREFIXES):
                continue
            words = {w for w in re.split(r"[-_]+", token) if w}
            words.add(token.replace("-", "").replace("_", ""))
            furniture = words & _FURNITURE_WORDS or (
                not self.front_page and words & _STORY_LIST_WORDS
            )
            # A page-wide wrapper named after its neighbours ("content-sidebar") holds
            # the main content; furniture never does.
            if furniture and not el.xpath(".//main|.//*[@role='main']|.//article[2]"):
                return f"{tag}.{token}"
        return ""

    def _shape(self, url: str) -> tuple[bool, str]:
        if self.pattern is not None:
            if self.pattern.search(url) is not None:
                return True, "matches article_pattern"
            return False, "does not match article_pattern"
        return url_shape(url)

    def _next_page(self, links: list[tuple[lxml.html.HtmlElement, str]]) -> str | None:
        def ok(u: str) -> bool:
            return u != self.url and self._same_site(u)

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
                and segments[0] not in NON_ARTICLE_SEGMENTS
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


def _clean_href(href: str) -> str:
    """As a browser reads an href: surrounding spaces trimmed, tabs and newlines dropped."""
    return re.sub(r"[\t\n\r]", "", href).strip()


def _unique(urls: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for u in urls:
        seen.setdefault(u, None)
    return list(seen)
