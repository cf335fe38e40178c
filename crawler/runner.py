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
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from crawler.config import Config, ConfigError, SiteConfig
from crawler.services import CrawlServices, RunCounters
from crawler.services import register as register_services
from crawler.settings import settings_for
from storage.archive import ensure_site
from storage.db import Archive
from storage.errors import StorageError
from storage.models import CrawlRun

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """The result of one site's crawl run."""

    site: str
    run_id: int
    status: str
    stats: dict[str, Any]
    reason: str


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _settle_previous_runs(archive: Archive, sites: Sequence[SiteConfig]) -> dict[str, bool]:
    """Mark runs whose process died (SIGKILL, power loss) as killed; report per site
    whether its last run completed, since only then may this run stop early."""
    host = socket.gethostname()
    complete: dict[str, bool] = {}
    with archive.session() as s:
        stale = s.scalars(
            select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.host == host)
        ).all()
        for run in stale:
            if run.pid is not None and run.pid != os.getpid() and not _pid_alive(run.pid):
                run.status = "killed"
                run.finished_at = datetime.now(UTC)
                run.error = f"process {run.pid} died before finishing"
        for site in sites:
            last = s.scalars(
                select(CrawlRun)
                .where(
                    CrawlRun.site == site.key,
                    CrawlRun.status != "running",
                    CrawlRun.trigger != "revisit",
                )
                .order_by(CrawlRun.id.desc())
                .limit(1)
            ).first()
            complete[site.key] = last is not None and last.status == "ok"
    return complete


def _open_runs(
    archive: Archive,
    sites: Sequence[SiteConfig],
    *,
    trigger: str,
    schedule_id: str | None,
    fire_time: datetime | None,
    run_id: int | None,
) -> dict[str, int]:
    ids: dict[str, int] = {}
    with archive.session() as s:
        for site in sites:
            ensure_site(s, site.key, site.name, site.model_dump(mode="json"))
            if run_id is not None and len(sites) == 1:
                # The scheduler made the row (unique per fire); this process takes it over.
                s.execute(
                    update(CrawlRun)
                    .where(CrawlRun.id == run_id)
                    .values(status="running", host=socket.gethostname(), pid=os.getpid())
                )
                ids[site.key] = run_id
                continue
            row = CrawlRun(
                site=site.key,
                trigger=trigger,
                schedule_id=schedule_id,
                fire_time=fire_time,
                status="running",
                host=socket.gethostname(),
                pid=os.getpid(),
            )
            s.add(row)
            s.flush()
            ids[site.key] = row.id
    return ids


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
) -> list[RunSummary]:
    """Crawl the named sites (all configured ones when none are named); blocks until done."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.news import NewsSpider

    if not config.sites:
        raise ConfigError(f"{config.source or 'config'}: no [[sites]] configured to crawl")
    sites = [config.site(k) for k in site_keys] if site_keys else list(config.sites)
    archive = Archive(config.archive.database_url)
    complete = _settle_previous_runs(archive, sites)
    run_ids = _open_runs(
        archive,
        sites,
        trigger=trigger,
        schedule_id=schedule_id,
        fire_time=fire_time,
        run_id=run_id,
    )
    try:
        services = CrawlServices(config, run_ids=run_ids)
    except Exception as exc:  # e.g. a WARC folder that cannot be created
        _fail_runs(archive, run_ids, f"could not start: {type(exc).__name__}: {exc}")
        archive.close()
        raise StorageError(f"cannot start the crawl: {exc}") from None
    settings = settings_for(config.archive)
    settings["NEWSARCHIVE_SERVICES"] = register_services(services)
    slots: dict[str, dict[str, Any]] = {}
    for site in sites:
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
    settings["LOG_INSTALL_ROOT_HANDLER"] = False
    process = CrawlerProcess(settings)
    reasons: dict[str, str] = {}
    for site in sites:
        crawler = process.create_crawler(NewsSpider)

        def closed(spider: Any, reason: str, _key: str = site.key) -> None:
            reasons[_key] = reason

        crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
        process.crawl(
            crawler,
            site=site,
            services=services,
            max_pages=max_pages,
            # Stop early only when the last run finished: after a crash, finish its work.
            incremental=incremental and complete[site.key],
            revisits=revisits,
            categories=categories,
        )
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
        process.start(install_signal_handlers=False)
    except Exception as exc:  # a crash of the crawl machinery itself: record it
        error = f"{type(exc).__name__}: {exc}"
        log.exception("crawl failed")
    finally:
        stop_progress.set()
        services.close()
    if ticker is not None:
        ticker.join(1)
        on_progress(services.stats) if on_progress else None
    summaries = []
    with archive.session() as s:
        for site in sites:
            reason = reasons.get(site.key, "not started")
            stats = services.site_stats(site.key).as_dict()
            # Pages fetched but not archived make the run failed, never "ok": the next run
            # then does not stop early, and fetches them again.
            lost = stats["errors"].get("archive_write", 0)
            site_error = error or (
                f"{lost} pages fetched but not archived (archive_write)" if lost else None
            )
            status = "failed" if site_error else "ok" if reason == "finished" else "killed"
            s.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_ids[site.key])
                .values(
                    status=status,
                    finished_at=datetime.now(UTC),
                    stats=stats,
                    error=site_error or (None if reason == "finished" else f"stopped: {reason}"),
                )
            )
            summaries.append(RunSummary(site.key, run_ids[site.key], status, stats, reason))
    archive.close()
    return summaries


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
            engine = crawler.engine
            downloader = getattr(engine, "downloader", None)
            for slot in list(getattr(downloader, "slots", {}).values()):
                while slot.queue:
                    _request, deferred = slot.queue.popleft()
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


def _fail_runs(archive: Archive, run_ids: dict[str, int], error: str) -> None:
    with archive.session() as s:
        s.execute(
            update(CrawlRun)
            .where(CrawlRun.id.in_(list(run_ids.values())))
            .values(status="failed", finished_at=datetime.now(UTC), error=error)
        )


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


def is_tty() -> bool:
    """True when stdout is a terminal (rich progress) rather than a pipe or file."""
    return sys.stdout.isatty()
