"""Pins for the few library internals newsarchive cannot avoid.

Each private hook is used in exactly one small adapter; these tests fail loudly (naming the
adapter) when a library upgrade moves the hook, instead of a scheduler or crawl misbehaving.
"""

from __future__ import annotations

import inspect

from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from schedules.scheduler import FireTimeExecutor, _Scheduler


def test_apscheduler_submits_jobs_through_do_submit_job() -> None:
    # schedules.scheduler.FireTimeExecutor: the only way to see a fire's planned run time.
    params = list(inspect.signature(BaseExecutor._do_submit_job).parameters)
    assert params == ["self", "job", "run_times"]
    assert "_do_submit_job" in inspect.getsource(BaseExecutor.submit_job)
    assert FireTimeExecutor._do_submit_job is not BaseExecutor._do_submit_job


def test_apscheduler_wakeups_run_process_jobs() -> None:
    # schedules.scheduler._Scheduler: no job submitted once shutdown has begun.
    assert list(inspect.signature(BaseScheduler._process_jobs).parameters) == ["self"]
    assert "self._process_jobs()" in inspect.getsource(BlockingScheduler._main_loop)
    assert _Scheduler._process_jobs is not BaseScheduler._process_jobs


def test_scrapy_downloader_slots_are_where_crawler_internals_looks() -> None:
    # crawler.internals: download_slot, raise_slot_delay, hold_slot_until, drain_slot.
    from scrapy.core.downloader import Downloader, Slot

    init = inspect.getsource(Downloader.__init__)
    assert "self.slots" in init
    assert "self.per_slot_settings" in init
    assert "self.middleware" in init
    slot = Slot(concurrency=1, delay=0.5)
    assert hasattr(slot, "queue") and hasattr(slot, "lastseen") and hasattr(slot, "delay")
    # The downloader sends a slot's next request at lastseen + delay, from slot.queue.
    source = inspect.getsource(Downloader)
    assert "slot.lastseen" in source and "slot.queue.popleft()" in source


def test_scrapy_robots_middleware_keeps_parsers_by_netloc() -> None:
    # crawler.internals.robots_parser (the Crawl-delay of a parsed robots.txt).
    from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware

    assert "self._parsers" in inspect.getsource(RobotsTxtMiddleware.__init__)
    assert "self._parsers[netloc]" in inspect.getsource(RobotsTxtMiddleware)


def test_process_pool_keeps_its_processes() -> None:
    # crawler.internals.terminate_workers: the only way to end a hung worker.
    from concurrent.futures import ProcessPoolExecutor

    from crawler import internals

    pool = ProcessPoolExecutor(max_workers=1)
    try:
        assert pool.submit(abs, -1).result(timeout=30) == 1
        procs = list(pool._processes.values())  # type: ignore[attr-defined]
        assert procs and all(p.is_alive() for p in procs)
        internals.terminate_workers(pool)
        for p in procs:
            p.join(10)
        assert not any(p.is_alive() for p in procs)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
