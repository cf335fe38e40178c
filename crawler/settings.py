"""Scrapy settings: polite defaults, the capture middleware and the archive pipeline.

`settings_for(archive)` overlays what newsarchive.toml's [archive] table says, and
`crawler.runner.CrawlSession.settings()` adds per-site download slots and the shared
frontier. `scrapy.cfg` points at this module, and `scrapy crawl news -a site=KEY` goes
through the same CrawlSession, so both entry points crawl with the same settings.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import default_settings

BOT_NAME = "newsarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness first: robots.txt, few parallel requests per site, a delay, AutoThrottle.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
RANDOMIZE_DOWNLOAD_DELAY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

# Limits: never let one response eat the machine (also bounds decompressed size).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30
REDIRECT_MAX_TIMES = 10
# What one page may make the crawl do; each limit hit is an error kind in crawl_runs.stats.
NEWSARCHIVE_MAX_LINKS_PER_PAGE = 2000  # article links taken from one page, feed or sitemap
NEWSARCHIVE_MAX_SITEMAP_DEPTH = 3  # sitemap indexes nested below a configured sitemap
NEWSARCHIVE_MAX_HEADER_BYTES = 64 * 1024  # a response's header block
RETRY_ENABLED = True
RETRY_TIMES = 2
# 429 and 503 are PolitenessMiddleware's: it pauses the host instead of retrying at once.
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
NEWSARCHIVE_MAX_RETRY_AFTER = 300.0

# Back-pressure: stop fetching while ~4 MB of pages wait for extraction and recording, so a
# slow extraction pool keeps memory flat and a killed crawl has little in flight to redo.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 4_000_000
# Scrapy starts this many asyncio tasks for the output of every response, whatever its size
# (scrapy.utils.asyncio._parallel_asyncio): 100 by default, ~0.3 ms of the crawl process's
# CPU per page for an article page that yields one item. A category page's links are
# requests, which take no time to process; 16 is plenty.
CONCURRENT_ITEMS = 16

# Spiders see every status: errors are recorded, not dropped by HttpErrorMiddleware.
HTTPERROR_ALLOW_ALL = True

DOWNLOADER_MIDDLEWARES = {
    # First: the crawl scope (crawler/scope.py) on every request, redirect targets included.
    "crawler.middlewares.ScopeMiddleware": 10,
    # After RobotsTxtMiddleware (100) has parsed robots.txt: Crawl-delay, Retry-After, back-off.
    "crawler.politeness.PolitenessMiddleware": 150,
    # Scrapy's meta refresh (580), without decoding a whole article page to find it; before
    # CaptureMiddleware in the list, so a page with a refresh is captured before it is left.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.HeadMetaRefreshMiddleware": 579,
    # After HttpCompressionMiddleware (590) decodes, before RetryMiddleware (550) retries.
    "crawler.middlewares.CaptureMiddleware": 580,
    # Before RedirectMiddleware (600) follows a 3xx: the redirect itself is archived too.
    "crawler.middlewares.RedirectCaptureMiddleware": 650,
    # Next to the downloader: an oversized header block is dropped before any capture.
    "crawler.middlewares.HeaderLimitMiddleware": 950,
}
# The web is fetched over http(s) only: a link to file://, ftp://, s3:// or data: is never
# followed, whatever a page says (the scope refuses them too).
DOWNLOAD_HANDLERS = {
    "file": None,
    "s3": None,
    "ftp": None,
    "data": None,
    # Without Twisted's at-once retry of a dropped keep-alive request (see politeness.py).
    "http": "crawler.politeness.PoliteHTTPDownloadHandler",
    "https": "crawler.politeness.PoliteHTTPDownloadHandler",
}

ITEM_PIPELINES = {"crawler.pipelines.ArchivePipeline": 300}
# Request fingerprints kept as packed 8-byte digests: a long run's memory stays flat.
DUPEFILTER_CLASS = "crawler.seen.CompactDupeFilter"

TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's RemoteControl extension starts an HTTP server in every crawl process that runs
# Python code sent to it (and writes a job file under the user's state directory); an
# unattended archiver has no use for it. Switched off, or set to None in EXTENSIONS (Scrapy
# imports every class path named there), its module is still imported (aiohttp, 0.15-0.3 s
# of start-up); left out of the base list, it never is.
REMOTE_CONTROL_ENABLED = False
EXTENSIONS_BASE = {
    path: order
    for path, order in default_settings.EXTENSIONS_BASE.items()
    if not path.endswith(".RemoteControl")
}
LOG_LEVEL = "WARNING"
COOKIES_ENABLED = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"


def settings_for(archive: Any) -> dict[str, Any]:
    """The Scrapy settings for a crawl under this [archive] config."""
    out = {k: v for k, v in globals().items() if k.isupper()}
    out.update(
        USER_AGENT=archive.user_agent,
        ROBOTSTXT_OBEY=archive.obey_robots,
        CONCURRENT_REQUESTS_PER_DOMAIN=archive.concurrency_per_domain,
        DOWNLOAD_DELAY=archive.download_delay,
        AUTOTHROTTLE_ENABLED=archive.autothrottle,
        DOWNLOAD_MAXSIZE=int(archive.max_response_mb * 1024 * 1024),
        DOWNLOAD_WARNSIZE=int(archive.max_response_mb * 1024 * 1024 / 2),
        DOWNLOAD_TIMEOUT=archive.download_timeout,
        NEWSARCHIVE_MAX_RETRY_AFTER=archive.max_retry_after,
        NEWSARCHIVE_MAX_LINKS_PER_PAGE=archive.max_links_per_page,
        NEWSARCHIVE_MAX_SITEMAP_DEPTH=archive.max_sitemap_depth,
        NEWSARCHIVE_MAX_HEADER_BYTES=int(archive.max_header_kb * 1024),
    )
    return out
