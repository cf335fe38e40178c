"""One generic news spider, driven by a site's config (sites are data, not code).

From the site's category pages (start_urls) it follows pagination up to max_pages and
requests every article link; feeds and sitemaps feed the same frontier; due revisits
are fetched too. With no feeds or sitemaps in the config (and auto_sources on), the feeds
category pages link and the sitemaps robots.txt names are used instead.

Incremental: an article already archived is not fetched again from a listing, feed or
sitemap; its revisits (when due) catch edits. Pagination stops at a page whose article
links are all archived already. With --full, known articles are fetched again, with
If-None-Match / If-Modified-Since.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from protego import Protego
from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import SiteConfig
from crawler.discovery import discover
from crawler.feeds import parse_feed_or_sitemap
from crawler.items import ArticlePage, StoredPage
from crawler.limits import cut_after_links
from crawler.middlewares import KIND_META
from crawler.scope import Scope
from crawler.seen import FingerprintSet, url_digest
from crawler.services import CrawlServices
from storage import urls
from storage.records import PageKind
from storage.url_state import UrlInfo

PAGE_META = "na_page"
FEED_DATE_META = "na_feed_date"
SITEMAP_DEPTH_META = "na_sitemap_depth"
AUTO_META = "na_auto_source"
# A site's robots.txt usually names its whole-archive sitemap (every story it ever ran);
# new stories are its recently dated entries (news sitemaps hold only the last two days).
AUTO_SITEMAP_WINDOW = timedelta(days=3)


class NewsSpider(Spider):
    """Crawl one configured site's category pages, feeds and sitemaps into the archive."""

    name = "news"

    def __init__(
        self,
        site: SiteConfig,
        services: CrawlServices,
        *,
        max_pages: int | None = None,
        incremental: bool = True,
        revisits: bool = True,
        categories: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"news:{site.key}", **kwargs)
        self.site = site
        self.site_key = site.key
        self.services = services
        self.max_pages = max_pages or site.max_pages
        self.incremental = incremental
        self.revisits = revisits
        self.categories = categories
        self.shared_frontier = bool(services.config.archive.frontier)
        # Scrapy's offsite filter knows hosts only; the scope also honours host:port, and
        # ScopeMiddleware applies it to every request, redirect targets included.
        self.allowed_domains = sorted({d.split(":")[0] for d in site.allowed_domains})
        self.scope = Scope.for_site(
            site.allowed_domains, [*site.start_urls, *site.feeds, *site.sitemaps]
        )
        self.stats_ = services.site_stats(site.key)
        # 64-bit digests of the article URLs asked for in this run, packed: ~8 bytes per
        # article instead of its URL string.
        self._seen_articles = FingerprintSet()
        # Feeds and sitemaps found on the site itself, when the config names none.
        self.auto_sources = site.auto_sources and not site.feeds and not site.sitemaps
        self._sources_seen: set[str] = set()

    async def start(self) -> AsyncIterator[Request | StoredPage]:
        """Category pages first, then feeds, sitemaps and due revisits."""
        frontier = self.services.frontiers.get(self.name)
        if frontier is not None and not frontier.claim_seed(self.site.time_limit_seconds):
            self.logger.info("joining the shared frontier: another worker seeded this epoch")
            return
        if self.categories:
            known: dict[str, UrlInfo] = {}
            if self.incremental:
                known = await asyncio.wrap_future(self.services.lookup(list(self.site.start_urls)))
            for url in self.site.start_urls:
                yield self._category_request(url, 1, known.get(url))
            for url in self.site.feeds:
                yield self._feed_request(url, PageKind.FEED)
            for url in self.site.sitemaps:
                yield self._feed_request(url, PageKind.SITEMAP)
            if self.auto_sources:
                for robots in self._robots_requests():
                    yield robots
        if self.revisits:
            due = await asyncio.wrap_future(
                self.services.due_revisits(self.site_key, datetime.now(UTC))
            )
            self.stats_.add("revisits_due", len(due))
            for req in await self._article_requests(due, revisit=True):
                yield req

    def _feed_request(self, url: str, kind: PageKind, *, auto: bool = False) -> Request:
        return Request(
            url,
            callback=self.parse_feed,
            errback=self.on_error,
            meta={KIND_META: kind.value, SITEMAP_DEPTH_META: 0, AUTO_META: auto},
            dont_filter=True,
        )

    def _robots_requests(self) -> list[Request]:
        """robots.txt of each start URL's host, read for its Sitemap: lines."""
        out = []
        for start in self.site.start_urls:
            parts = urlsplit(start)
            url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            if url in self._sources_seen or not self._allowed(url):
                continue
            self._sources_seen.add(url)
            out.append(
                Request(
                    url,
                    callback=self.parse_robots,
                    errback=self.on_error,
                    meta={KIND_META: PageKind.OTHER.value},
                    dont_filter=True,
                )
            )
        return out

    def _auto_source_requests(self, urls: Iterable[str], kind: PageKind) -> list[Request]:
        """Requests for feeds/sitemaps the site itself names, once per run, in scope only."""
        out = []
        for url in urls:
            if url in self._sources_seen or not self._allowed(url):
                continue
            self._sources_seen.add(url)
            self.stats_.add("auto_sources")
            out.append(self._feed_request(url, kind, auto=True))
        return out

    def parse_robots(self, response: Response) -> Iterable[Request]:
        """The Sitemap: lines of robots.txt join the sources (protego parses the file)."""
        try:
            self.stats_.add("pages")
            if response.status != 200:
                return []
            text = response.body.decode("utf-8", "replace")
            sitemaps = [response.urljoin(u.strip()) for u in Protego.parse(text).sitemaps]
            return self._auto_source_requests(sitemaps, PageKind.SITEMAP)
        finally:
            self._done(response.request)

    def _limit(self, name: str, default: int) -> int:
        settings = getattr(self, "settings", None)
        return settings.getint(name, default) if settings is not None else default

    def _category_request(self, url: str, page: int, known: UrlInfo | None = None) -> Request:
        # Incremental crawls ask "changed since last time?": a 304 means nothing new here.
        headers = known.conditional_headers() if known is not None else {}
        return Request(
            url,
            callback=self.parse_category,
            errback=self.on_error,
            headers=headers,
            # Category pages are re-fetched every run, never filtered as already seen.
            dont_filter=True,
            meta={KIND_META: PageKind.CATEGORY.value, PAGE_META: page},
        )

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        from scrapy import signals

        if "services" not in kwargs:
            # `scrapy crawl news -a site=KEY [-a config=FILE]`: the same crawl session,
            # services, archive and summary as `newsarchive crawl KEY`.
            from crawler.runner import open_standalone

            kwargs = open_standalone(crawler, kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._on_idle, signal=signals.spider_idle)
        return spider

    def _on_idle(self) -> None:
        """With a shared frontier, stay up while other workers may still hand us work."""
        from scrapy.exceptions import DontCloseSpider

        frontier = self.services.frontiers.get(self.name)
        if frontier is not None and frontier.keep_alive():
            raise DontCloseSpider

    def _done(self, request: Request | None) -> None:
        frontier = self.services.frontiers.get(self.name)
        if frontier is not None:
            frontier.done(request)

    async def parse_category(self, response: Response) -> AsyncIterator[Request | StoredPage]:
        """Discover article links and the next page; stop early when nothing is new."""
        try:
            async for req in self._parse_category(response):
                yield req
        finally:
            self._done(response.request)

    async def _parse_category(self, response: Response) -> AsyncIterator[Request | StoredPage]:
        self.stats_.add("pages")
        if response.status == 304:
            self.stats_.add("incremental_stops")
            return
        if response.status >= 400:
            self.stats_.error(f"http_{response.status}")
            return
        max_links = self._limit("NEWSARCHIVE_MAX_LINKS_PER_PAGE", 2000)
        # Navigation links come with the articles: parse up to twice as many anchors.
        body, cut = cut_after_links(response.body, 2 * max_links)
        # Off the event loop: a big page must not stall every other download.
        found = await asyncio.to_thread(
            discover,
            body,
            response.url,
            article_pattern=self.site.article_pattern,
            allowed_domains=self.allowed_domains,
        )
        if self.auto_sources:
            for feed in self._auto_source_requests(found.feeds, PageKind.FEED):
                yield feed
        links = found.article_links
        if cut or len(links) > max_links:
            self.stats_.error("too_many_links")
            self.logger.warning(
                "%s: more links than max_links_per_page (%d): the rest are ignored",
                response.url,
                max_links,
            )
            links = links[:max_links]
        requests = await self._article_requests(links)
        for req in requests:
            yield req
        page = int(response.meta.get(PAGE_META, 1))
        all_known = bool(found.article_links) and not any(
            isinstance(r, StoredPage) or r.meta["na_new"] for r in requests
        )
        if self.incremental and all_known:
            self.stats_.add("incremental_stops")
            return
        if found.next_page and page < self.max_pages and self._in_scope(found.next_page):
            yield self._category_request(found.next_page, page + 1)

    async def _article_requests(
        self,
        links: Iterable[str],
        *,
        revisit: bool = False,
        feed_dates: dict[str, datetime] | None = None,
    ) -> list[Request | StoredPage]:
        """Requests for article links: canonical URL, conditional headers when known.

        A link captured by an interrupted crawl but never extracted becomes a StoredPage:
        the pipeline extracts it from WARC, nothing is fetched again.
        """
        wanted: list[str] = []
        for link in links:
            if not self._allowed(link):
                continue
            clean = urls.canonicalize(link)
            if self._seen_articles.add(url_digest(clean)):
                wanted.append(clean)
        if not wanted:
            return []
        info = await asyncio.wrap_future(self.services.lookup(wanted))
        out: list[Request | StoredPage] = []
        for url in wanted:
            known = info.get(url) or UrlInfo(url)
            if not known.known_article and known.pending_capture_id and not revisit:
                self.stats_.add("recovered")
                out.append(StoredPage(known.pending_capture_id, url, self.site_key))
                continue
            if known.known_article and self.incremental and not revisit:
                # Archived already: its revisits (start(), when due) catch edits; a listing
                # that names it again is no reason to download it again. --full does.
                self.stats_.add("articles_known")
                continue
            headers = known.conditional_headers() if known.known_article else {}
            meta: dict[str, Any] = {
                KIND_META: PageKind.ARTICLE.value,
                "na_new": not known.known_article,
                "na_revisit": revisit,
            }
            if feed_dates and url in feed_dates:
                meta[FEED_DATE_META] = feed_dates[url]
            out.append(
                Request(
                    url,
                    callback=self.parse_article,
                    errback=self.on_error,
                    headers=headers,
                    meta=meta,
                    # This spider already asks for each article once per run. Alone, it
                    # skips the dupefilter, so a redirect loop back to an article shows up
                    # as "max redirections" instead of vanishing; on a shared frontier the
                    # dupefilter is what keeps workers from fetching an article twice.
                    dont_filter=revisit or not self.shared_frontier,
                )
            )
        return out

    def parse_article(self, response: Response) -> Iterable[ArticlePage]:
        """Hand the captured page to the pipeline for extraction and recording."""
        self.stats_.add("pages")
        if response.status >= 400:
            self.stats_.error(f"http_{response.status}")
        capture = self.services.captures.pop(response.request, None)
        if capture is None:
            self._done(response.request)
            return
        redirects = response.meta.get("redirect_urls") or []
        yield ArticlePage(
            url=redirects[0] if redirects else response.url,
            body=response.body,
            site=self.site_key,
            capture=capture,
            feed_date=response.meta.get(FEED_DATE_META),
            request=response.request,
        )

    async def parse_feed(self, response: Response) -> AsyncIterator[Request | StoredPage]:
        """RSS/Atom feeds and (news) sitemaps: their links join the article frontier."""
        try:
            async for req in self._parse_feed(response):
                yield req
        finally:
            self._done(response.request)

    async def _parse_feed(self, response: Response) -> AsyncIterator[Request | StoredPage]:
        self.stats_.add("pages")
        if response.status >= 400:
            self.stats_.error(f"http_{response.status}")
            return
        parsed = await asyncio.to_thread(parse_feed_or_sitemap, response.body, response.url)
        for why in parsed.bad_entries:
            self.stats_.error("feed_bad_entry")
            self.logger.warning("%s: entry skipped: %s", response.url, why)
        auto = bool(response.meta.get(AUTO_META))
        depth = int(response.meta.get(SITEMAP_DEPTH_META, 0)) + 1
        max_depth = self._limit("NEWSARCHIVE_MAX_SITEMAP_DEPTH", 3)
        subs = [sub for sub in parsed.sitemaps if self._in_scope(sub)]
        if subs and depth > max_depth:
            self.stats_.error("sitemap_depth")
            self.logger.warning(
                "%s: sitemap index nested deeper than max_sitemap_depth (%d): %d not followed",
                response.url,
                max_depth,
                len(subs),
            )
            subs = []
        for sub in subs:
            yield Request(
                sub,
                callback=self.parse_feed,
                errback=self.on_error,
                meta={
                    KIND_META: PageKind.SITEMAP.value,
                    SITEMAP_DEPTH_META: depth,
                    AUTO_META: auto,
                },
            )
        links = parsed.links
        if auto and response.meta.get(KIND_META) == PageKind.SITEMAP.value:
            since = datetime.now(UTC) - AUTO_SITEMAP_WINDOW
            links = [u for u in links if u in parsed.dates and parsed.dates[u] >= since]
        max_links = self._limit("NEWSARCHIVE_MAX_LINKS_PER_PAGE", 2000)
        if len(links) > max_links:
            self.stats_.error("too_many_links")
            self.logger.warning(
                "%s: more links than max_links_per_page (%d)", response.url, max_links
            )
            links = links[:max_links]
        dates = {urls.canonicalize(u): d for u, d in parsed.dates.items()}
        for req in await self._article_requests(links, feed_dates=dates):
            yield req

    def on_error(self, failure: Failure) -> None:
        """Record a fetch that produced no response (timeout, DNS, refused, too big...)."""
        request = getattr(failure, "request", None)
        name = failure.type.__name__ if failure.type else "error"
        if "crawl stopping" in failure.getErrorMessage():
            return  # never sent: the next run (or another worker) fetches it
        self._done(request)
        kind = error_kind(name, failure.getErrorMessage())
        self.stats_.error(kind)
        if request is not None and kind not in ("robots", "offsite", "out_of_scope"):
            self.services.writer.note_error(
                request.url,
                self.site_key,
                request.meta.get(KIND_META, "other"),
                datetime.now(UTC),
            )
        self.logger.info("fetch failed (%s): %s: %s", kind, name, failure.getErrorMessage())

    def _allowed(self, url: str) -> bool:
        return self.scope.allows(url)

    def _in_scope(self, url: str) -> bool:
        """Like _allowed, for links the site tells us to follow (next page, sub-sitemap):
        one out of scope is counted and logged, unlike an article link to another site."""
        reason = self.scope.check_url(url)
        if reason is not None:
            self.stats_.error("out_of_scope")
            self.logger.warning("out of scope, not fetched: %s (%s)", url, reason)
        return reason is None


_KINDS_BY_TYPE = {
    "TimeoutError": "timeout",
    "TCPTimedOutError": "timeout",
    "DownloadTimeoutError": "timeout",
    "DNSLookupError": "dns",
    "CannotResolveHostError": "dns",
    "ConnectionRefusedError": "connection_refused",
    "DownloadConnectionRefusedError": "connection_refused",
    "ConnectionLost": "connection_lost",
    "ConnectionDone": "connection_lost",
    "ResponseNeverReceived": "connection_lost",
    "ResponseFailed": "connection_lost",
    "ResponseDataLossError": "connection_lost",
    "DownloadFailedError": "connection_lost",
    "DownloadCancelledError": "too_large",
    "CancelledError": "too_large",
    "HostPaused": "retry_after",
    "OutOfScope": "out_of_scope",
    "HeadersTooLarge": "headers_too_large",
}
_KINDS_BY_MESSAGE = (
    ("Forbidden by robots.txt", "robots"),
    ("max redirections", "redirect_loop"),
    ("DOWNLOAD_MAXSIZE", "too_large"),
    ("max size", "too_large"),
    ("Filtered offsite", "offsite"),
)


def error_kind(name: str, message: str) -> str:
    """A short, stable name for a fetch failure, used as the key in crawl_runs.stats."""
    if name in _KINDS_BY_TYPE:
        return _KINDS_BY_TYPE[name]
    for needle, kind in _KINDS_BY_MESSAGE:
        if needle in message:
            return kind
    return name
