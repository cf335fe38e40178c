"""Run one crawl of some sites in this process and record it in crawl_runs.

Twisted's reactor cannot restart in one process, so each crawl is one process: the CLI
runs it in the foreground, the scheduler starts `newsarchive crawl` as a subprocess.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawler import internals, lifeline
from crawler.config import Config, ConfigError, SiteConfig
from crawler.services import CrawlServices, RunCounters
from crawler.settings import settings_for
from storage import runs
from storage.db import Archive
from storage.errors import StorageError
from storage.ingest import ensure_site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """The result of one site's crawl run."""

    site: str
    run_id: int
    status: str
    stats: dict[str, Any]
    reason: str


class CrawlSession:
    """One crawl process's runs of some sites: their crawl_runs rows and shared services.

    Opening it settles runs of dead processes on this host, opens (or takes over) one
    crawl_runs row per site and starts the services; `finish()` writes each run's outcome.
    `run_crawl` and `scrapy crawl news -a site=KEY` both go through it.
    """

    def __init__(
        self,
        config: Config,
        sites: Sequence[SiteConfig],
        *,
        trigger: str = "manual",
        schedule_id: str | None = None,
        fire_time: datetime | None = None,
        run_id: int | None = None,
    ) -> None:
        self.config = config
        self.sites = list(sites)
        self.archive = Archive(config.archive.database_url)
        self.reasons: dict[str, str] = {}
        host, pid = socket.gethostname(), os.getpid()
        with self.archive.session() as s:
            runs.settle_dead_runs(s, host, pid, lifeline.is_alive)
            # Stop early only when the last run finished: after a crash, finish its work.
            self.complete = {site.key: runs.last_crawl_completed(s, site.key) for site in sites}
        self.run_ids: dict[str, int] = {}
        with self.archive.session() as s:
            for site in self.sites:
                ensure_site(s, site.key, site.name, site.model_dump(mode="json"))
                self.run_ids[site.key] = runs.open_run(
                    s,
                    site.key,
                    trigger=trigger,
                    host=host,
                    pid=pid,
                    schedule_id=schedule_id,
                    fire_time=fire_time,
                    # The scheduler made the row (unique per fire); this process takes it over.
                    run_id=run_id if len(self.sites) == 1 else None,
                )
        try:
            self.services = CrawlServices(config, run_ids=self.run_ids)
        except Exception as exc:  # e.g. a WARC folder that cannot be created
            with self.archive.session() as s:
                runs.fail_runs(
                    s, self.run_ids.values(), f"could not start: {type(exc).__name__}: {exc}"
                )
            self.archive.close()
            raise StorageError(f"cannot start the crawl: {exc}") from None

    def settings(self) -> dict[str, Any]:
        """Scrapy settings for this crawl: polite defaults, per-site slots, the frontier."""
        config = self.config
        settings = settings_for(config.archive)
        slots: dict[str, dict[str, Any]] = {}
        for site in self.sites:
            for domain in site.allowed_domains:
                slot: dict[str, Any] = {}
                if site.concurrency is not None:
                    slot["concurrency"] = site.concurrency
                if site.download_delay is not None:
                    slot["delay"] = site.download_delay
                if slot:
                    slots[domain] = slot  # download slots are keyed by host[:port]
        if slots:
            settings["DOWNLOAD_SLOTS"] = slots
        if config.archive.frontier:
            handlers = {**settings["DOWNLOAD_HANDLERS"]}
            settings.update(frontier_settings(config.archive.frontier))
            settings["DOWNLOAD_HANDLERS"] = {**handlers, **settings["DOWNLOAD_HANDLERS"]}
            # Spacing per host is the shared Redis limiter's job: a local delay on top of it
            # would only bunch requests up after their booked time.
            settings["NEWSARCHIVE_HOST_INTERVAL"] = settings["DOWNLOAD_DELAY"]
            settings["NEWSARCHIVE_SLOT_INTERVALS"] = {
                k: v.get("delay", 0.0) for k, v in settings.get("DOWNLOAD_SLOTS", {}).items()
            }
            settings["DOWNLOAD_DELAY"] = 0
            settings["RANDOMIZE_DOWNLOAD_DELAY"] = False
            for slot in settings.get("DOWNLOAD_SLOTS", {}).values():
                slot.pop("delay", None)
        return settings

    def spider_kwargs(
        self,
        site: SiteConfig,
        *,
        max_pages: int | None = None,
        incremental: bool = True,
        revisits: bool = True,
        categories: bool = True,
    ) -> dict[str, Any]:
        """What NewsSpider is built with for one site of this session."""
        return {
            "site": site,
            "services": self.services,
            "max_pages": max_pages,
            "incremental": incremental and self.complete[site.key],
            "revisits": revisits,
            "categories": categories,
        }

    def watch(self, crawler: Any, site: SiteConfig) -> None:
        """Remember why the site's spider closed (finished, shutdown, ...)."""
        from scrapy import signals

        def closed(spider: Any, reason: str, _key: str = site.key) -> None:
            self.reasons[_key] = reason

        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)

    def finish(self, error: str | None = None) -> list[RunSummary]:
        """Stop the services and write each site's run outcome; returns the summaries."""
        self.services.close()
        summaries = []
        with self.archive.session() as s:
            for site in self.sites:
                reason = self.reasons.get(site.key, "not started")
                stats = self.services.site_stats(site.key).as_dict()
                # Pages fetched but not archived make the run failed, never "ok": the next
                # run then does not stop early, and fetches them again.
                lost = stats["errors"].get("archive_write", 0)
                site_error = error or (
                    f"{lost} pages fetched but not archived (archive_write)" if lost else None
                )
                status = "failed" if site_error else "ok" if reason == "finished" else "killed"
                runs.finish_run(
                    s,
                    self.run_ids[site.key],
                    status=status,
                    stats=stats,
                    error=site_error or (None if reason == "finished" else f"stopped: {reason}"),
                )
                summaries.append(
                    RunSummary(site.key, self.run_ids[site.key], status, stats, reason)
                )
        self.archive.close()
        return summaries


def select_sites(config: Config, site_keys: Sequence[str] = ()) -> list[SiteConfig]:
    """The named sites (all configured ones when none are named); unknown keys are errors."""
    if not config.sites:
        raise ConfigError(f"{config.source or 'config'}: no [[sites]] configured to crawl")
    return [config.site(k) for k in site_keys] if site_keys else list(config.sites)


def run_crawl(
    config: Config,
    site_keys: Sequence[str] = (),
    *,
    max_pages: int | None = None,
    incremental: bool = True,
    revisits: bool = True,
    categories: bool = True,
    trigger: str = "manual",
    schedule_id: str | None = None,
    fire_time: datetime | None = None,
    run_id: int | None = None,
    on_progress: Callable[[dict[str, RunCounters]], None] | None = None,
    before_start: Callable[[], None] | None = None,
) -> list[RunSummary]:
    """Crawl the named sites (all configured ones when none are named); blocks until done.

    `before_start` runs once everything is set up, just before the first request (the
    crawl command freezes start-up's objects out of the garbage collector's sight there).
    """
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.news import NewsSpider

    sites = select_sites(config, site_keys)
    session = CrawlSession(
        config,
        sites,
        trigger=trigger,
        schedule_id=schedule_id,
        fire_time=fire_time,
        run_id=run_id,
    )
    settings = session.settings()
    settings["LOG_INSTALL_ROOT_HANDLER"] = False
    process = CrawlerProcess(settings)
    for site in sites:
        crawler = process.create_crawler(NewsSpider)
        session.watch(crawler, site)
        process.crawl(
            crawler,
            **session.spider_kwargs(
                site,
                max_pages=max_pages,
                incremental=incremental,
                revisits=revisits,
                categories=categories,
            ),
        )
    services = session.services
    stop_progress = threading.Event()
    ticker = None
    if on_progress is not None:
        ticker = threading.Thread(
            target=_tick, args=(on_progress, services, stop_progress), daemon=True
        )
        ticker.start()
    error: str | None = None
    try:
        _install_stop_handlers(process)
        if before_start is not None:
            before_start()
        process.start(install_signal_handlers=False)
    except Exception as exc:  # a crash of the crawl machinery itself: record it
        error = f"{type(exc).__name__}: {exc}"
        log.exception("crawl failed")
    finally:
        stop_progress.set()
        summaries = session.finish(error)
    if ticker is not None:
        ticker.join(1)
        on_progress(services.stats) if on_progress else None
    return summaries


def open_standalone(crawler: Any, spider_args: dict[str, Any]) -> dict[str, Any]:
    """For `scrapy crawl news -a site=KEY [-a config=FILE] [-a max_pages=N]`: open a crawl
    session on the crawler's settings and return the spider's keyword arguments.

    A missing or unknown site, or a bad config, is one line on stderr and exit status 2
    (before anything is opened), as with `newsarchive crawl`.
    """
    from scrapy import signals

    from crawler.config import load_config

    args = dict(spider_args)
    key = args.pop("site", None)
    config_path = args.pop("config", None)
    max_pages = args.pop("max_pages", None)
    try:
        if not key:
            raise ConfigError("scrapy crawl news needs a site: scrapy crawl news -a site=KEY")
        config = load_config(config_path)
        site = select_sites(config, [key])[0]
        pages = int(max_pages) if max_pages is not None else None
        session = CrawlSession(config, [site])
    except (ConfigError, StorageError, ValueError) as exc:
        # Raised here, Scrapy would only log it with a traceback and carry on: stop now.
        sys.stderr.write(f"error: {exc}\n")
        sys.stderr.flush()
        os._exit(2)
    crawler.settings.setdict(session.settings(), priority="spider")
    session.watch(crawler, site)

    def closed() -> None:
        print(format_summary(session.finish()), flush=True)

    # After the session's own spider_closed handler has recorded the reason.
    crawler.signals.connect(closed, signal=signals.engine_stopped, weak=False)
    return {**args, **session.spider_kwargs(site, max_pages=pages)}


STOPPING_MESSAGE = "crawl stopping: request not sent"


def _install_stop_handlers(process: Any) -> None:
    """SIGTERM/SIGINT: finish what is on the wire and in the pipeline, send nothing new.

    Scrapy's own graceful stop still downloads every request already queued in its
    downloader slots (up to CONCURRENT_REQUESTS); an archive being stopped should not.
    Those requests fail with STOPPING_MESSAGE (on a shared frontier they stay in-flight
    and another worker takes them over). A second signal stops at once.
    """
    import signal

    from scrapy.exceptions import IgnoreRequest
    from twisted.internet import reactor as _reactor
    from twisted.python.failure import Failure

    reactor: Any = _reactor

    state = {"signals": 0}

    def graceful() -> None:
        for crawler in list(process.crawlers):
            for slot in internals.download_slots(crawler):
                for _request, deferred in internals.drain_slot(slot):
                    deferred.errback(Failure(IgnoreRequest(STOPPING_MESSAGE)))  # type: ignore[no-untyped-call]
        process.stop()

    def force() -> None:
        if reactor.running:
            reactor.stop()

    def handler(signum: int, _frame: Any) -> None:
        state["signals"] += 1
        name = signal.Signals(signum).name
        if state["signals"] == 1:
            log.warning("%s: stopping after the pages in flight (again to stop at once)", name)
            reactor.callFromThread(graceful)
        else:
            log.warning("%s again: stopping now", name)
            reactor.callFromThread(force)

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def frontier_settings(redis_url: str) -> dict[str, Any]:
    """Scrapy settings for a shared, persistent frontier in Redis (scrapy-redis)."""
    return {
        "SCHEDULER": "crawler.frontier.FrontierScheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": "newsarchive:%(spider)s:requests",
        "SCHEDULER_DUPEFILTER_KEY": "newsarchive:%(spider)s:dupefilter",
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "REDIS_URL": redis_url,
        "NEWSARCHIVE_FRONTIER": redis_url,
        "DOWNLOAD_HANDLERS": {
            "http": "crawler.frontier.RateLimitedHTTPHandler",
            "https": "crawler.frontier.RateLimitedHTTPHandler",
        },
    }


def _tick(
    on_progress: Callable[[dict[str, RunCounters]], None],
    services: CrawlServices,
    stop: threading.Event,
) -> None:
    while not stop.wait(0.5):
        try:
            on_progress(services.stats)
        except Exception:  # a display problem must never stop the crawl
            log.debug("progress display failed", exc_info=True)


def format_summary(summaries: Sequence[RunSummary]) -> str:
    """Plain-text run summary: one line per site, then errors by kind."""
    lines = []
    for s in summaries:
        a = s.stats["articles"]
        errors = s.stats["errors"]
        err_total = sum(errors.values())
        lines.append(
            f"{s.site}: run {s.run_id} {s.status}: {s.stats['pages']} pages, "
            f"articles {a['new']} new / {a['changed']} changed / {a['unchanged']} unchanged"
            f" / {a['skipped']} skipped, {err_total} errors"
        )
        if errors:
            lines.append("  errors: " + ", ".join(f"{k}={v}" for k, v in errors.items()))
    return "\n".join(lines)
