"""Downloader middlewares: capture of every HTTP exchange into WARC + the archive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.services import CrawlServices, services_of
from crawler.writer import Exchange
from storage.records import PageKind

KIND_META = "na_kind"


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
        self.services.captures[request] = self.services.writer.capture(exchange)
        if site:
            self.services.site_stats(site).add("captures")


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
