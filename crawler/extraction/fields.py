"""The simpler metadata fields: language, sections, tags, description, image, URLs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement
from trafilatura.baseline import block_text
from trafilatura.metadata import extract_sitename
from trafilatura.utils import line_processing

from crawler.extraction.structured import PageData, ld_texts
from crawler.extraction.titles import clean, key

_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*$")
_HOME = {"home", "homepage", "startseite", "accueil", "inicio", "portada", "news"}
_INTERNAL_TAG = re.compile(r"^\s*[_@#]|[:=]")
_MAX_TAGS = 50
_MAX_TAG_CHARS = 80
_MAX_CATEGORIES = 10


def _dedupe(values: list[str], limit: int) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        value = clean(value).strip(" ,;/|")
        if value and len(value) <= _MAX_TAG_CHARS and key(value) and key(value) not in seen:
            seen[key(value)] = value
    return tuple(seen.values())[:limit]


def language(tree: HtmlElement, data: PageData) -> str | None:
    """ISO 639 language code: html lang, content-language, og:locale, JSON-LD inLanguage."""
    html = tree if tree.tag == "html" else tree.find(".//html")
    candidates = [
        html.get("lang") or html.get("xml:lang") if html is not None else None,
        data.first("content-language", "og:locale", "dc.language", "language"),
        *ld_texts(data.article.get("inLanguage"), "name"),
    ]
    for candidate in candidates:
        if candidate and (match := _LANGUAGE.match(candidate.strip())):
            return match[1].lower()
    return None


def _breadcrumbs(data: PageData) -> list[str]:
    for crumbs in data.of_type("BreadcrumbList"):
        items: Any = crumbs.get("itemListElement")
        if not isinstance(items, list):
            continue
        named: list[tuple[int, str]] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            inner = item.get("item")
            names = ld_texts(item.get("name")) or ld_texts(inner, "name")
            position = item.get("position")
            order = position if isinstance(position, int) else len(named)
            if names:
                named.append((order, names[0]))
        names_in_order = [name for _, name in sorted(named, key=lambda pair: pair[0])]
        # The trail starts at "Home" and often ends at the article itself: neither is a section.
        return [n for n in names_in_order[:-1] if key(n) not in _HOME] or names_in_order[:1]
    return []


# trafilatura's extract_catstags("category", tree) tries six XPaths in turn, each a walk of
# the page (one with a Python regex callback per <div>), ~1.3 ms a page: the links they keep
# are those whose address matches its pattern, inside one of six kinds of container. Here
# one C-level walk finds those links and each container test reads the links' ancestors.
# tests/test_trafilatura_mirrors.py pins the expressions' text and the answer to the library.
_CATEGORY_HREF = re.compile("/categor(?:y|ies|s)?/")
_META_CLASS = re.compile("^(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)")


def _container_kind(element: HtmlElement) -> int | None:
    """The first of CATEGORIES_XPATHS that keeps the links inside `element`, if any: a
    category link inside it is found by that one, so no later one is tried."""
    tag = element.tag
    if tag not in _CONTAINER_TAGS:
        return None
    cls = element.get("class") or ""
    if tag == "div":
        if _META_CLASS.search(cls) or (element.get("id") or "").startswith("postpath"):
            return 0
        return 5 if cls in ("row", "tags") else None
    if tag == "p":
        postmeta = cls.startswith(("postmeta", "entry-categories")) or cls == "postinfo"
        return 1 if postmeta or element.get("id") == "filedunder" else None
    if tag == "footer":
        return 2 if cls.startswith(("entry-meta", "entry-footer")) else None
    if tag in ("li", "span"):
        listed = cls in ("post-category", "postcategory", "entry-category")
        return 3 if listed or "cat-links" in cls else None
    return 4 if cls == "entry-header" else None  # header


_CONTAINER_TAGS = frozenset({"div", "p", "footer", "li", "span", "header"})
_CATEGORY_CONTAINERS = 6
_SECTION_METAS = XPath(
    './/head//meta[@property="article:section" or contains(@name, "subject")][@content]'
)


def _category_links(tree: HtmlElement) -> list[str]:
    """trafilatura's extract_catstags("category", tree), the same list."""
    links: list[HtmlElement] = []
    metas = False
    for element in tree.iter("a", "meta"):
        if element.tag == "a":
            href = element.get("href")
            if href and "/categor" in href and _CATEGORY_HREF.search(href):
                links.append(element)
        elif element.get("content") is not None:
            metas = metas or element.get("property") == "article:section"
            metas = metas or "subject" in (element.get("name") or "")
    kinds = [{_container_kind(a) for a in link.iterancestors()} for link in links]
    results: list[str] = []
    for kind in range(_CATEGORY_CONTAINERS):
        results.extend(
            block_text(link) for link, inside in zip(links, kinds, strict=True) if kind in inside
        )
        if results:
            break
    if not results and metas:  # its fallback
        results.extend(meta.get("content") for meta in _SECTION_METAS(tree))
    return [r for r in dict.fromkeys(line_processing(x) for x in results if x) if r]


def categories(tree: HtmlElement, data: PageData) -> tuple[str, ...]:
    """Sections: article:section, JSON-LD articleSection, breadcrumbs, then category links."""
    found = [
        *data.all("article:section", "parsely-section", "section"),
        *ld_texts(data.article.get("articleSection")),
        *_breadcrumbs(data),
    ]
    if not found:
        found = _category_links(tree)
    return _dedupe(found, _MAX_CATEGORIES)


def _split_keywords(values: list[str]) -> list[str]:
    return [part for value in values for part in re.split(r"[,;]", value)]


def tags(data: PageData) -> tuple[str, ...]:
    """Tags: article:tag, JSON-LD keywords, news_keywords/keywords meta."""
    # CMS-internal flags ("_no-apple-news", "@post-id:123", "type:article") are not tags.
    found = [
        *data.all("article:tag"),
        *_split_keywords(ld_texts(data.article.get("keywords"))),
        *_split_keywords(data.all("news_keywords", "keywords", "parsely-tags")),
    ]
    return _dedupe([t for t in found if not _INTERNAL_TAG.search(t)], _MAX_TAGS)


def description(data: PageData) -> str | None:
    """The standfirst: og:description, description meta, JSON-LD description."""
    for value in (
        data.first("og:description", "description", "twitter:description"),
        *ld_texts(data.article.get("description")),
    ):
        if value and (cleaned := clean(value)):
            return cleaned
    return None


def _absolute(data: PageData, url: str, link: str | None) -> str | None:
    if not link or not link.strip():
        return None
    base_url = urljoin(url, data.base_href) if data.base_href is not None else url
    try:
        absolute = urljoin(base_url, link.strip())
        scheme = urlsplit(absolute).scheme
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def lead_image(data: PageData, url: str) -> str | None:
    """The lead image URL (og:image, twitter:image, JSON-LD image), made absolute."""
    for link in (
        data.first("og:image", "og:image:url", "og:image:secure_url"),
        data.first("twitter:image", "twitter:image:src"),
        *ld_texts(data.article.get("image"), "url", "contentUrl")[:1],
    ):
        if absolute := _absolute(data, url, link):
            return absolute
    return None


def canonical_url(data: PageData, url: str) -> str | None:
    """rel=canonical, else og:url, as the page declares it, made absolute."""
    for link in data.links:
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels and (absolute := _absolute(data, url, link.get("href"))):
            return absolute
    return _absolute(data, url, data.first("og:url"))


def sitename(tree: HtmlElement, sites: list[str]) -> str | None:
    """The site's own name (og:site_name, JSON-LD publisher) or the <title>'s domain part."""
    if sites:
        return sites[0]
    found = extract_sitename(tree)
    return clean(found) or None if found else None
