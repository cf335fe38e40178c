"""Per-host politeness beyond Scrapy's defaults: Crawl-delay, Retry-After pauses, back-off.

Scrapy obeys robots.txt rules but not its Crawl-delay, and its RetryMiddleware retries a
429/503 at once. Here, per host (host:port, which is also the download slot):
- Crawl-delay from robots.txt becomes the slot's minimum delay, without jitter, and
  AutoThrottle is told not to lower it;
- a 429 or 503 pauses the host: for Retry-After (seconds or HTTP date) when given, else
  for an exponential back-off; the request is retried after the pause (a few times);
- a Retry-After longer than `max_retry_after` makes the crawl give up on that host for
  this run: its remaining requests are dropped, never sent early.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Any

from scrapy import Request, Spider
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler import internals
from storage.urls import host_of

log = logging.getLogger(__name__)

SLOT_META = "download_slot"
INTERVAL_META = "na_host_interval"
PAUSE_STATUSES = (429, 503)


class HostPaused(IgnoreRequest):
    """A request dropped because its host asked us to stay away longer than we wait."""


def parse_retry_after(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass
class HostState:
    """What the crawl knows about one host's patience."""

    crawl_delay: float | None = None  # None: robots.txt not looked at yet
    failures: int = 0
    paused_until: float = 0.0
    gave_up: str | None = None


class PolitenessMiddleware:
    """Crawl-delay, Retry-After and back-off per host (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        self.crawler = crawler
        self.max_retry_after = s.getfloat("NEWSARCHIVE_MAX_RETRY_AFTER", 300.0)
        self.max_retries = s.getint("NEWSARCHIVE_PAUSE_RETRIES", 3)
        self.backoff_base = s.getfloat("NEWSARCHIVE_BACKOFF_BASE", 1.0)
        self.backoff_max = s.getfloat("NEWSARCHIVE_BACKOFF_MAX", 60.0)
        self.obey_robots = s.getbool("ROBOTSTXT_OBEY")
        self.user_agent = s.get("USER_AGENT") or ""
        self.hosts: dict[str, HostState] = {}
        self.host_interval = s.getfloat("NEWSARCHIVE_HOST_INTERVAL")
        self.slot_intervals: dict[str, float] = s.getdict("NEWSARCHIVE_SLOT_INTERVALS")
        # A shared Redis frontier: the download handler spaces requests across workers.
        self.shared_rate = bool(s.get("NEWSARCHIVE_FRONTIER"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessMiddleware:
        from scrapy import signals

        mw = cls(crawler)
        # response_downloaded fires before the download slot sends its next request, so a
        # pause set here holds for the very next request to the host; process_response
        # runs later, after other requests may already have gone out.
        crawler.signals.connect(mw._on_downloaded, signal=signals.response_downloaded)
        return mw

    # -- helpers ------------------------------------------------------------------------------

    def _robots_delay(self, request: Request) -> float | None:
        """Crawl-delay of the host's robots.txt, once RobotsTxtMiddleware has parsed it."""
        from scrapy.robotstxt import RobotParser

        netloc = request.url.split("/", 3)[2] if "://" in request.url else ""
        enabled, parser = internals.robots_parser(self.crawler, netloc)
        if not enabled:
            return 0.0
        if isinstance(parser, RobotParser):
            ua = request.headers.get(b"User-Agent") or self.user_agent
            return parser.crawl_delay(ua) or 0.0
        return None

    def _apply_min_delay(self, key: str, delay: float) -> None:
        internals.raise_slot_delay(self.crawler, key, delay)

    def _pause(self, key: str, seconds: float) -> None:
        state = self.hosts.setdefault(key, HostState())
        state.paused_until = max(state.paused_until, monotonic() + seconds)
        internals.hold_slot_until(self.crawler, key, state.paused_until)
        log.info("pausing %s for %.1fs", key, seconds)

    def _drop_queued(self, key: str, reason: str) -> None:
        """Fail the requests already waiting in the host's download slot: never send them."""
        from twisted.python.failure import Failure

        for _request, deferred in internals.drain_slot(internals.download_slot(self.crawler, key)):
            deferred.errback(Failure(HostPaused(reason)))  # type: ignore[no-untyped-call]

    # -- Scrapy hooks -------------------------------------------------------------------------

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            key = request.meta.setdefault(SLOT_META, host_of(request.url))
        except ValueError:
            return
        state = self.hosts.setdefault(key, HostState())
        if state.gave_up:
            raise HostPaused(state.gave_up)
        if state.crawl_delay is None and self.obey_robots:
            delay = self._robots_delay(request)
            if delay is not None:
                state.crawl_delay = delay
                if delay:
                    log.info("%s: robots.txt Crawl-delay %.1fs", key, delay)
                    if not self.shared_rate:  # else the shared limiter spaces requests
                        self._apply_min_delay(key, delay)
        if state.crawl_delay or state.paused_until > monotonic():
            request.meta["autothrottle_dont_adjust_delay"] = True
        if state.paused_until > monotonic():
            self._pause(key, state.paused_until - monotonic())
        if self.shared_rate:
            # Several workers share one host: the download handler books each request's
            # send time in Redis (crawler.frontier), so that together they keep the host's
            # interval (site delay or Crawl-delay), not N times its rate.
            request.meta[INTERVAL_META] = max(
                float(self.slot_intervals.get(key, self.host_interval)), state.crawl_delay or 0.0
            )

    def _on_downloaded(self, response: Response, request: Request, spider: Any = None) -> None:
        if response.status not in PAUSE_STATUSES:
            return
        key = request.meta.get(SLOT_META) or host_of(response.url)
        state = self.hosts.setdefault(key, HostState())
        state.failures += 1
        retries = int(request.meta.get("retry_times", 0))
        wait = parse_retry_after(response.headers.get(b"Retry-After"))
        if wait is None:
            # Grows with the host's failures in a row and with this URL's own retries (other
            # pages of the host may be fine while this one keeps failing).
            exponent = max(state.failures - 1, retries)
            wait = min(self.backoff_base * 2**exponent, self.backoff_max)
        if wait > self.max_retry_after:
            state.gave_up = (
                f"Retry-After {wait:.0f}s from {key} exceeds max_retry_after "
                f"{self.max_retry_after:.0f}s: host skipped for this run"
            )
            self._pause(key, self.max_retry_after)
            self._drop_queued(key, state.gave_up)
            log.warning(state.gave_up)
        else:
            self._pause(key, wait)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        key = request.meta.get(SLOT_META) or host_of(response.url)
        state = self.hosts.setdefault(key, HostState())
        if response.status not in PAUSE_STATUSES:
            if response.status < 500:
                state.failures = 0
            return response
        if state.gave_up:
            raise HostPaused(state.gave_up)  # recorded as "retry_after"; the 429 is in WARC
        # Asked again through Scrapy's own retry helper (retry_times meta, retry_pause/*
        # stats); the host's pause above decides when it goes out.
        retry = get_retry_request(
            request,
            spider=spider or self.crawler.spider,  # type: ignore[arg-type]
            reason=f"http_{response.status}",
            max_retry_times=self.max_retries,
            stats_base_key="retry_pause",
        )
        if retry is None:
            return response
        retry.meta["autothrottle_dont_adjust_delay"] = True
        return retry


class PoliteHTTPDownloadHandler(HTTP11DownloadHandler):  # type: ignore[misc]
    """Scrapy's HTTP/1.1 handler without Twisted's own at-once retry.

    Twisted's connection pool silently re-sends an idempotent request when a reused
    keep-alive connection closes before any answer: a second request milliseconds after
    the first, inside the host's Crawl-delay. Here that failure surfaces instead
    (`connection_lost`), and RetryMiddleware retries it through the download slot, which
    keeps the delay.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool.retryAutomatically = False
