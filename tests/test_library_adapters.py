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
