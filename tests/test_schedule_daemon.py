"""`newsarchive schedule run | list` as real processes against the demo site.

Each test runs on SQLite and on the local PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import json
import re
import signal
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from schedules.lease import current_holder
from storage.db import Archive
from storage.models import Article, CrawlRun
from tests.schedule_support import (
    Daemon,
    add_slow_route,
    cli,
    demo_server,
    site_table,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow

LEASE = "3"  # seconds: a standby takes over within about this long
FIRE_LINE = r"(\S+) fire (\S+): run (\d+) starting"


def _runs(db_url: str) -> list[CrawlRun]:
    with Archive(db_url) as archive, archive.session() as s:
        return list(s.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def _articles(db_url: str) -> int:
    with Archive(db_url) as archive, archive.session() as s:
        return s.scalar(select(func.count()).select_from(Article)) or 0


def _ledger_config(tmp_path: Path, db_url: str, starts: list[str], every: str) -> Path:
    site = site_table("ledger", starts, schedule=every, time_limit="60s", revisit=[])
    return write_config(tmp_path, db_url, [site])


def test_scheduler_archives_the_demo_site_round_after_round(tmp_path: Path, db_url: str) -> None:
    with demo_server() as server:
        ledger = server.sites["ledger"]
        starts = [ledger.category_url(c) for c in ledger.categories]
        config = _ledger_config(tmp_path, db_url, starts, "every 2 seconds")
        daemon = Daemon(config, tmp_path / "daemon.log", "--lease-seconds", LEASE)
        try:
            daemon.wait_for(r"crawl:ledger fire \S+: run \d+ ok")
            after_first = _articles(db_url)
            server.advance()  # new articles on the site
            daemon.wait_for(r"crawl:ledger fire \S+: run \d+ ok", count=2)
            server.advance()
            daemon.wait_for(r"crawl:ledger fire \S+: run \d+ ok", count=3)
        finally:
            assert daemon.stop() == 0
    runs = [r for r in _runs(db_url) if r.status != "running"]
    assert len(runs) >= 3
    assert all(r.status == "ok" and r.trigger == "schedule" for r in runs)
    assert all(r.schedule_id == "crawl:ledger" for r in runs)
    fire_times = [r.fire_time for r in runs]
    assert fire_times == sorted(set(fire_times))  # one row per fire, in order
    assert all(t is not None and t.second % 2 == 0 and t.microsecond == 0 for t in fire_times)
    assert 0 < after_first < _articles(db_url)
    assert sum(r.stats["articles"]["new"] for r in runs if r.stats) == _articles(db_url)


def test_standby_takes_over_when_the_leader_is_killed_and_no_fire_runs_twice(
    tmp_path: Path, db_url: str
) -> None:
    with demo_server() as server:
        ledger = server.sites["ledger"]
        starts = [ledger.category_url(c) for c in ledger.categories]
        config = _ledger_config(tmp_path, db_url, starts, "every 2 seconds")
        leader = Daemon(config, tmp_path / "a.log", "--lease-seconds", LEASE)
        leader.wait_for("leader now")
        standby = Daemon(config, tmp_path / "b.log", "--lease-seconds", LEASE)
        try:
            standby.wait_for("starting")
            leader.wait_for(r"crawl:ledger fire \S+: run \d+ ok")
            assert "leader now" not in standby.text()
            assert not re.search(FIRE_LINE, standby.text())
            leader.kill()  # SIGKILL: no release, its lease has to expire
            killed_at = time.monotonic()
            standby.wait_for("leader now", timeout=30)
            took_over_after = time.monotonic() - killed_at
            standby.wait_for(r"crawl:ledger fire \S+: run \d+ ok", timeout=90)
            # A crawl the dead leader started lives on in its own session and records itself.
            wait_until(lambda: all(r.status != "running" for r in _runs(db_url)), timeout=60)
        finally:
            leader.kill()
            assert standby.stop() == 0
    # lease + one renewal interval + start-up (generous: Scrapy start-up on a loaded machine)
    assert took_over_after < float(LEASE) * 2 + 10
    fires = re.findall(FIRE_LINE, leader.text()) + re.findall(FIRE_LINE, standby.text())
    runs = _runs(db_url)
    # Every crawl that started has exactly one row and every row one crawl: no fire ran twice.
    assert sorted(int(run_id) for _job, _t, run_id in fires) == [r.id for r in runs]
    assert len({(r.schedule_id, r.fire_time) for r in runs}) == len(runs)
    assert all(r.status == "ok" for r in runs)


def test_restart_after_a_config_change_adds_and_removes_jobs(tmp_path: Path, db_url: str) -> None:
    never = "0 0 1 1 *"  # once a year: these jobs must not fire during the test
    url = "http://127.0.0.1:9/"  # nothing is crawled

    def run_with(*keys: str) -> dict[str, dict[str, object]]:
        sites = [site_table(k, [url + k], cron=never) for k in keys]
        config = write_config(tmp_path, db_url, sites)
        daemon = Daemon(config, tmp_path / "daemon.log", "--lease-seconds", LEASE,
                        "--revisit-every", "365d")  # fmt: skip
        try:
            daemon.wait_for("leader now")
        finally:
            assert daemon.stop() == 0
        listed = cli(config, "schedule", "list", "--format", "json")
        assert listed.returncode == 0, listed.stderr
        data = json.loads(listed.stdout)
        assert data["leader"] is None  # the stopped daemon released its lease
        return {job["job"]: job for job in data["jobs"]}

    first = run_with("alpha", "beta")
    assert sorted(first) == ["crawl:alpha", "crawl:beta", "revisit:alpha", "revisit:beta"]
    assert all(job["state"] == "scheduled" for job in first.values())
    assert first["crawl:alpha"]["schedule"] == "cron 0 0 1 1 * (UTC)"
    next_fire = datetime.fromisoformat(str(first["crawl:alpha"]["next_fire"]))
    assert (next_fire.month, next_fire.day, next_fire.hour) == (1, 1, 0)

    second = run_with("beta", "gamma")
    log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert "jobs added ['crawl:gamma', 'revisit:gamma']" in log
    assert "removed ['crawl:alpha', 'revisit:alpha']" in log
    assert sorted(second) == ["crawl:beta", "crawl:gamma", "revisit:beta", "revisit:gamma"]
    assert all(job["state"] == "scheduled" for job in second.values())
    table = cli(tmp_path / "newsarchive.toml", "schedule", "list")
    assert table.returncode == 0, table.stderr
    assert "crawl:gamma" in table.stdout and "crawl:alpha" not in table.stdout
    assert "leader: none" in table.stdout


def test_sigterm_stops_the_daemon_and_marks_the_unfinished_crawl_killed(
    tmp_path: Path, db_url: str
) -> None:
    with demo_server() as server:
        release = add_slow_route(server)
        slow = site_table("slow", [server.url["ledger"] + "/slow/news/"],
                         schedule="every 2 seconds", time_limit="60s")  # fmt: skip
        config = write_config(tmp_path, db_url, [{**slow, "revisit": []}])
        daemon = Daemon(config, tmp_path / "daemon.log", "--lease-seconds", LEASE,
                        "--stop-grace", "1", "--kill-grace", "1")  # fmt: skip
        try:
            daemon.wait_for(r"crawl:slow fire \S+: run \d+ starting")
            wait_until(lambda: any(r.pid for r in _runs(db_url)))  # the crawl is under way
            daemon.signal(signal.SIGTERM)
            started = time.monotonic()
            assert daemon.proc.wait(30) == 0
            stopped_in = time.monotonic() - started
        finally:
            release.set()
            daemon.stop()
    assert stopped_in < 1 + 1 + 10  # stop grace + kill grace + slack for a loaded machine
    assert re.search(r"received SIGTERM: stopping", daemon.text())
    assert re.search(r"scheduler \S+ stopped", daemon.text())
    (run,) = _runs(db_url)
    assert run.status == "killed"
    assert run.error == "scheduler stopped before the crawl finished"
    with Archive(db_url) as archive:
        assert current_holder(archive) is None  # lease released: a standby may start at once
