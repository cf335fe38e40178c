"""Several `crawl --worker` processes share one Redis frontier and one PostgreSQL archive."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.demo_site import DemoServer, DemoSite, make_sites, serve
from storage.db import Archive
from storage.models import Article, CaptureRow, Version
from storage.warc import WarcStore
from tests.configs import archive_table, write_config
from tests.crawling import REPO, run_cli

pytestmark = pytest.mark.slow


def _config(
    directory: Path,
    db_url: str,
    site: DemoSite,
    server: DemoServer,
    key: str,
    *,
    frontier: str | None,
    delay: float = 0.0,
) -> Path:
    archive = archive_table(
        directory, db_url, download_delay=delay, concurrency_per_domain=4, extraction_workers=1
    )
    if frontier:
        archive["frontier"] = frontier
    table = {
        "key": key,
        "start_urls": [site.category_url(c) for c in site.categories],
        "max_pages": 2,
        "allowed_domains": [server.url[site.key].split("://", 1)[1]],
        "auto_sources": False,
    }
    directory.mkdir(parents=True, exist_ok=True)
    return write_config(directory / f"{key}.toml", archive, [table])


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[DemoSite, DemoServer]]:
    ledger, _courier = make_sites(categories=2, articles_per_category=12, page_size=6)
    with serve(ledger) as server:
        yield ledger, server


def _workers(config: Path, key: str, n: int) -> list[subprocess.Popen[str]]:
    cmd = [sys.executable, "-m", "crawler", "--config", str(config), "crawl", key, "--worker"]
    return [
        subprocess.Popen(
            cmd,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "NEWSARCHIVE_WORKER_DEAD_AFTER": "5"},
        )
        for _ in range(n)
    ]


def _archive_view(db_url: str) -> dict[str, tuple[str | None, int]]:
    with Archive(db_url) as archive, archive.session() as s:
        return {a.canonical_url: (a.title, a.current_version) for a in s.scalars(select(Article))}


def test_three_workers_fetch_each_article_once_and_match_one_worker(
    shop: tuple[DemoSite, DemoServer], pg_database: str, redis_url: str, tmp_path: Path
) -> None:
    site, server = shop
    from tests.conftest import _reset_pg

    Archive(pg_database).close()
    _reset_pg(pg_database)
    key = f"ledger-{uuid.uuid4().hex[:8]}"
    config = _config(tmp_path, pg_database, site, server, key, frontier=redis_url)
    procs = _workers(config, key, 3)
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-3000:]
    article_paths = {a.path for a in site.articles()}
    fetched = Counter(r.path for r in server.requests() if r.path in article_paths)
    assert fetched, "the workers fetched articles"
    assert max(fetched.values()) == 1, f"fetched twice: {[p for p, n in fetched.items() if n > 1]}"
    assert sum(1 for out, _ in outs if "new" in out) == 3
    shared = _archive_view(pg_database)
    assert set(shared) == set(site.all_article_urls(2))

    # One worker, no frontier, its own SQLite archive: the same articles, titles, versions.
    single_db = f"sqlite:///{tmp_path / 'single.db'}"
    run_cli(
        "crawl",
        key,
        config=_config(tmp_path / "single", single_db, site, server, key, frontier=None),
    )
    assert _archive_view(single_db) == shared
    with Archive(pg_database) as archive, archive.session() as s:
        assert s.scalar(select(func.count()).select_from(Version)) == len(shared)


def test_killing_one_worker_loses_nothing(
    shop: tuple[DemoSite, DemoServer], pg_database: str, redis_url: str, tmp_path: Path
) -> None:
    site, server = shop
    from tests.conftest import _reset_pg

    Archive(pg_database).close()
    _reset_pg(pg_database)
    key = f"ledger-{uuid.uuid4().hex[:8]}"
    # A per-host interval makes the crawl take a few seconds, shared by the workers.
    config = _config(tmp_path, pg_database, site, server, key, frontier=redis_url, delay=0.15)
    procs = _workers(config, key, 3)
    deadline = time.monotonic() + 60
    with Archive(pg_database) as archive:
        while time.monotonic() < deadline:
            with archive.session() as s:
                if (s.scalar(select(func.count()).select_from(Article)) or 0) >= 3:
                    break
            time.sleep(0.1)
    procs[1].send_signal(signal.SIGKILL)
    for p in (procs[0], procs[2]):
        _out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-3000:]
    # The killed worker's extraction processes may hold its pipes a moment longer: just reap it.
    procs[1].wait(timeout=10)
    view = _archive_view(pg_database)
    assert set(view) == set(site.all_article_urls(2)), "the others finished its share"
    assert all(v == 1 for _t, v in view.values())
    store = WarcStore(tmp_path / "warc")
    with Archive(pg_database) as archive, archive.session() as s:
        for cap in s.scalars(select(CaptureRow)):
            assert store.read(cap.warc_file, cap.warc_offset).status == cap.status
    # The shared per-host interval held across workers. The server's clock sees requests
    # when its threads get to them, which on a loaded 2-core machine can bunch a few
    # together; so check the rate over any 3 s window, and the mean gap, not single gaps.
    # Without the shared limiter, 3 workers x 4 connections send hundreds a second.
    times = sorted(r.time for r in server.requests() if not r.path.startswith("/robots"))
    busiest = max(sum(1 for t in times if start <= t < start + 3.0) for start in times)
    assert busiest <= math.ceil(3 / 0.15) + 3, f"{busiest} requests within three seconds"
    mean_gap = (times[-1] - times[0]) / (len(times) - 1)
    assert mean_gap >= 0.15 * 0.95, f"mean gap {mean_gap:.3f}s under the host interval"
