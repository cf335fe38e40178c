"""RSS/Atom feeds and (Google News) sitemaps -> article links with the dates they give."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from lxml import etree


@dataclass
class FeedLinks:
    """Links found in a feed or sitemap; sub-sitemaps of a sitemap index apart."""

    links: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    dates: dict[str, datetime] = field(default_factory=dict)
    # Entries skipped (a non-http link such as a `urn:` guid, a bad port, a malformed URL)
    # or whose date was dropped (out of range): each with why, for the crawl's log and stats.
    bad_entries: list[str] = field(default_factory=list)

    def add(self, link: str | None, base_url: str, date_text: str | None = None) -> None:
        """Take one entry's link (and date); a bad one is noted and skipped, never raised."""
        if not link:
            return
        url = _http_url(base_url, link)
        if url is None:
            self.bad_entries.append(f"not an http(s) URL: {link[:200]!r}")
            return
        self.links.append(url)
        if date_text and date_text.strip():
            when = _date(date_text)
            if when is None:
                self.bad_entries.append(f"bad date {date_text[:100]!r} for {url}")
            else:
                self.dates[url] = when

    def add_sitemap(self, link: str | None, base_url: str) -> None:
        """Take a sitemap index's <loc>; a bad one is noted and skipped."""
        if not link:
            return
        url = _http_url(base_url, link)
        if url is None:
            self.bad_entries.append(f"not an http(s) sitemap URL: {link[:200]!r}")
        else:
            self.sitemaps.append(url)


def _http_url(base_url: str, link: str) -> str | None:
    """The absolute http(s) URL of a link, or None when it is not one (bad port too)."""
    try:
        url = urljoin(base_url, link.strip())
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


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
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    try:
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):  # e.g. year 1 at +14:00
        return None


def parse_feed_or_sitemap(body: bytes, base_url: str) -> FeedLinks:
    """Parse RSS 2.0, Atom, a sitemap urlset (with news:publication_date) or sitemap index.

    Never raises: unparseable input gives empty results, and a bad entry is skipped (and
    listed in `bad_entries`) while the rest of the feed is used.
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
            out.add_sitemap(_child_text(el, "loc"), base_url)
        elif kind == "urlset" and tag == "url":
            date = _child_text(el, "publication_date") or _child_text(el, "lastmod")
            out.add(_child_text(el, "loc"), base_url, date)
        elif tag == "item":  # RSS
            date = _child_text(el, "pubdate") or _child_text(el, "date")
            out.add(_child_text(el, "link") or _child_text(el, "guid"), base_url, date)
        elif tag == "entry":  # Atom
            href = None
            for child in el:
                if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
                    href = child.get("href")
                    break
            date = _child_text(el, "published") or _child_text(el, "updated")
            out.add(href, base_url, date)
    return out


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el.iter():
        if child is not el and _local(child.tag) == name and child.text:
            return str(child.text).strip()
    return None
