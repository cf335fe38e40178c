"""The simpler metadata fields: language, sections, tags, description, image, URLs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from trafilatura.metadata import extract_catstags, extract_sitename

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


def _may_name_categories(tree: HtmlElement) -> bool:
    """False when trafilatura's extract_catstags("category", tree) finds nothing for sure.

    Its link XPaths keep only links whose address matches "/categor(y|ies|s)?/", and its
    fallback reads article:section and "subject" metas with a content; one C-level walk
    over the links and metas spares its six XPaths (one with a Python regex callback per
    `div`) on the pages that have neither.
    """
    for element in tree.iter("a", "meta"):
        if element.tag == "a":
            if "/categor" in (element.get("href") or ""):
                return True
        elif element.get("content") is not None and (
            element.get("property") == "article:section" or "subject" in (element.get("name") or "")
        ):
            return True
    return False


def categories(tree: HtmlElement, data: PageData) -> tuple[str, ...]:
    """Sections: article:section, JSON-LD articleSection, breadcrumbs, then category links."""
    found = [
        *data.all("article:section", "parsely-section", "section"),
        *ld_texts(data.article.get("articleSection")),
        *_breadcrumbs(data),
    ]
    if not found and _may_name_categories(tree):
        found = extract_catstags("category", tree)
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
