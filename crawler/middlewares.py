"""Downloader middlewares: the crawl scope on every request; capture of every HTTP exchange."""

from __future__ import annotations

import asyncio
import logging
import socket
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Response

from crawler.limits import header_bytes
from crawler.scope import IPAddress, Scope, Target, literal_address, parse_addresses, target
from crawler.services import CrawlServices, RunCounters, services_of
from crawler.writer import Exchange
from storage.records import PageKind

KIND_META = "na_kind"
log = logging.getLogger(__name__)


def _headers(h: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, values in h.items():
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for v in values:
            out.append((name, v.decode("latin-1") if isinstance(v, bytes) else str(v)))
    return out


class CaptureMiddleware:
    """Hands every response (every attempt, error statuses too) to the archive writer.

    Placed after HttpCompressionMiddleware has decoded the body (so it stores what was
    received, decoded, see storage.warc) and before RetryMiddleware (so a 503 that is
    retried is still archived). The capture's future is kept by request (services.captures)
    so the pipeline can pair it with the page's extraction.
    """

    def __init__(self, crawler: Crawler, services: CrawlServices) -> None:
        self.crawler = crawler
        self.services = services

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CaptureMiddleware:
        services = services_of(crawler)
        if services is None:
            raise NotConfigured("the spider has no crawl services (newsarchive crawl)")
        return cls(crawler, services)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if 300 <= response.status < 400 and b"Location" in response.headers:
            return response  # RedirectCaptureMiddleware archived it on its way in
        self.capture(request, response, spider)
        return response

    def capture(self, request: Request, response: Response, spider: Spider | None) -> None:
        """Hand one exchange to the archive writer; the future is kept by request."""
        site = getattr(spider or self.crawler.spider, "site_key", None)
        kind = PageKind(request.meta.get(KIND_META, PageKind.OTHER.value))
        redirects = request.meta.get("redirect_urls") or []
        exchange = Exchange(
            url=redirects[0] if redirects else request.url,
            final_url=response.url,
            status=response.status,
            request_headers=_headers(request.headers),
            response_headers=_headers(response.headers),
            body=response.body,
            fetched_at=datetime.now(UTC),
            page_kind=kind,
            site=site,
            crawl_run_id=self.services.run_ids.get(site or ""),
            method=request.method,
            protocol=str(getattr(response, "protocol", None) or "HTTP/1.1"),
        )
        future = self.services.writer.capture(exchange)
        self.services.captures[request] = future
        if site:
            stats = self.services.site_stats(site)
            stats.add("captures")
            # Every page, not only articles: a capture that could not be written (disk
            # full, read-only WARC folder, database error) fails the run.
            # (The URL, not the request: the future must not keep its weak key alive.)
            url = request.url
            future.add_done_callback(lambda f: _count_write_failure(f, stats, url))


def _count_write_failure(future: Future[Any], stats: RunCounters, url: str) -> None:
    exc = future.exception()
    if exc is not None:
        stats.error("archive_write")
        log.error("could not archive %s: %s: %s", url, type(exc).__name__, exc)


class RedirectCaptureMiddleware(CaptureMiddleware):
    """Archives 3xx responses, which RedirectMiddleware (600) turns into new requests
    before CaptureMiddleware (580) would see them; so a replay of the old URL works.

    It sits before HttpCompressionMiddleware has decoded anything; a redirect's body is
    almost always empty, and an encoded one is stored empty rather than mislabelled.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if 300 <= response.status < 400 and b"Location" in response.headers:
            if response.headers.get(b"Content-Encoding"):
                response = response.replace(body=b"")
            self.capture(request, response, spider)
        return response


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, reading the head of the page only.

    Scrapy looks for the refresh in the first 4,096 characters of `response.text`, but
    getting there decodes the whole body (and keeps the text alive with the response); an
    article page's body is never decoded in this process otherwise (it goes to the
    extraction pool as bytes). The first 16 KiB hold those 4,096 characters in any encoding.
    """

    HEAD_BYTES = 16_384

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if isinstance(response, HtmlResponse) and len(response.body) > self.HEAD_BYTES:
            body = response.body
            # Cut before a UTF-8 continuation byte, not in a character: a page without a
            # declared charset is read as UTF-8 only if it decodes as UTF-8, head included.
            cut = self.HEAD_BYTES
            while cut > self.HEAD_BYTES - 3 and body[cut] & 0xC0 == 0x80:
                cut -= 1
            # Not response.replace(): it reads response.encoding, which may decode it all.
            head = HtmlResponse(
                url=response.url,
                status=response.status,
                headers=response.headers,
                body=body[:cut],
                request=response.request,
            )
            result = super().process_response(request, head)
            return response if result is head else result
        return super().process_response(request, response)


class OutOfScope(IgnoreRequest):
    """A request the crawl's scope forbids (see crawler.scope); counted as `out_of_scope`."""


class ScopeMiddleware:
    """Drops every request outside the spider's scope, whatever made it.

    First in the chain, so it also sees what no spider check sees: redirect targets and
    meta refreshes (RedirectMiddleware and MetaRefreshMiddleware re-schedule them with
    the original request's dont_filter, which Scrapy's offsite check then skips). Host
    names are resolved off the event loop, once per host per crawl, and their addresses
    checked: a public site cannot send the crawler to a loopback or private address.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._addresses: dict[tuple[str, int], list[IPAddress] | None] = {}
        self._own: dict[int, Scope] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        spider = spider or self.crawler.spider
        scope: Scope | None = getattr(spider, "scope", None)
        if scope is None:
            return None
        reason = scope.check_url(request.url)
        if reason is None:
            t = target(request.url)
            if isinstance(t, Target) and literal_address(t.host) is None:
                scope = await self._with_own(spider, scope)
                addresses = await self._resolve(t.host, t.port)
                # Unresolvable: let the download fail and count as `dns`.
                if addresses is not None:
                    reason = scope.check_addresses(addresses)
        if reason is not None:
            log.warning("out of scope, not fetched: %s (%s)", request.url, reason)
            raise OutOfScope(f"out of scope: {reason}")
        return None

    async def _with_own(self, spider: Any, scope: Scope) -> Scope:
        """The scope with the addresses of the site's own start hosts (resolved once)."""
        cached = self._own.get(id(spider))
        if cached is not None:
            return cached
        own: list[IPAddress] = list(scope.own_addresses)
        for url in scope.start_urls:
            t = target(url)
            if not isinstance(t, Target):
                continue
            literal = literal_address(t.host)
            found = [literal] if literal is not None else await self._resolve(t.host, t.port)
            own += found or []
        self._own[id(spider)] = scope = scope.with_own_addresses(own)
        spider.scope = scope
        return scope

    async def _resolve(self, host: str, port: int) -> list[IPAddress] | None:
        key = (host, port)
        if key not in self._addresses:
            try:
                infos = await asyncio.to_thread(
                    socket.getaddrinfo, host, port, type=socket.SOCK_STREAM
                )
            except (OSError, UnicodeError):
                self._addresses[key] = None
            else:
                self._addresses[key] = parse_addresses(infos)
        return self._addresses[key]


class HeadersTooLarge(IgnoreRequest):
    """A response whose header block is over NEWSARCHIVE_MAX_HEADER_BYTES."""


class HeaderLimitMiddleware:
    """Drops a response with an oversized header block before anything archives it.

    Next to the downloader (Twisted already ends a connection on any single header line
    over 16 KiB); the body has DOWNLOAD_MAXSIZE, this is the headers' counterpart.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HeaderLimitMiddleware:
        max_bytes = crawler.settings.getint("NEWSARCHIVE_MAX_HEADER_BYTES", 0)
        if max_bytes <= 0:
            raise NotConfigured("NEWSARCHIVE_MAX_HEADER_BYTES is 0: no header limit")
        return cls(max_bytes)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        size = header_bytes(response.headers)
        if size > self.max_bytes:
            log.warning(
                "response headers of %s are %d bytes (max %d): dropped",
                request.url,
                size,
                self.max_bytes,
            )
            raise HeadersTooLarge(f"headers too large: {size} bytes")
        return response
