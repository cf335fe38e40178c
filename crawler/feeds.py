"""RSS/Atom feeds and (Google News) sitemaps -> article links with the dates they give."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree


@dataclass
class FeedLinks:
    """Links found in a feed or sitemap; sub-sitemaps of a sitemap index apart."""

    links: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    dates: dict[str, datetime] = field(default_factory=dict)


def _local(tag: object) -> str:
    return tag.split("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _date(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def parse_feed_or_sitemap(body: bytes, base_url: str) -> FeedLinks:
    """Parse RSS 2.0, Atom, a sitemap urlset (with news:publication_date) or sitemap index.

    Never raises: unparseable input gives empty results.
    """
    out = FeedLinks()
    try:
        parser = etree.XMLParser(
            recover=True, resolve_entities=False, no_network=True, huge_tree=False
        )
        root = etree.fromstring(body, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return out
    if root is None:
        return out
    kind = _local(root.tag)
    for el in root.iter():
        tag = _local(el.tag)
        if kind == "sitemapindex" and tag == "sitemap":
            loc = _child_text(el, "loc")
            if loc:
                out.sitemaps.append(urljoin(base_url, loc))
        elif kind == "urlset" and tag == "url":
            loc = _child_text(el, "loc")
            if loc:
                url = urljoin(base_url, loc)
                out.links.append(url)
                when = _date(_child_text(el, "publication_date") or _child_text(el, "lastmod"))
                if when:
                    out.dates[url] = when
        elif tag == "item":  # RSS
            link = _child_text(el, "link") or _child_text(el, "guid")
            if link:
                url = urljoin(base_url, link)
                out.links.append(url)
                when = _date(_child_text(el, "pubdate") or _child_text(el, "date"))
                if when:
                    out.dates[url] = when
        elif tag == "entry":  # Atom
            href = None
            for child in el:
                if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
                    href = child.get("href")
                    break
            if href:
                url = urljoin(base_url, href)
                out.links.append(url)
                when = _date(_child_text(el, "published") or _child_text(el, "updated"))
                if when:
                    out.dates[url] = when
    return out


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el.iter():
        if child is not el and _local(child.tag) == name and child.text:
            return str(child.text).strip()
    return None
