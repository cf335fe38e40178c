"""Scale-out (issue 8): articles/s with 1, 2 and 3 crawl workers on one Redis frontier.

Run: ``python -m bench.bench_workers [--workers 1,2,3] [--delay 0.05] [--quick]``.

One demo Daily Ledger (crawler/demo_site, ``categories x per-category`` articles) is served
from threads in this process. For each worker count N, N processes of
``python -m crawler --config CFG crawl KEY --worker`` share a Redis frontier
(``[archive] frontier``) and a fresh PostgreSQL archive (a temporary database, dropped after
the run; a unique site key per run so Redis keys never collide). Each configuration runs
twice: with no per-host limit (``download_delay = 0``) and with ``download_delay = DELAY``,
which the shared Redis limiter turns into one interval per host across all workers.

Per run: wall time from the first worker's start to the last one's exit, articles in the
archive, CPU seconds of every process started (getrusage of reaped children: the workers and
their extraction pools), and the request rate the server saw for the host (mean over the run
and the busiest 1-second window). Writes bench/results/workers.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.bench_longcrawl import REPO, build_site, environment_lines, wait_for_quiet, write_config
from crawler.demo_site import DemoServer, DemoSite, render_page, serve

RESULTS = Path(__file__).parent / "results" / "workers.md"
PG_ADMIN_URL = os.environ.get(
    "NEWSARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("NEWSARCHIVE_TEST_REDIS", "redis://127.0.0.1:6379/0")


@contextmanager
def temporary_database() -> Iterator[str]:
    """A fresh PostgreSQL database (migrated), dropped on exit; yields its URL."""
    from sqlalchemy import create_engine, text

    from storage.db import Archive

    name = f"na_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        # Migrate once here, so N workers starting together do not race on the schema.
        Archive(url).close()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def forget_frontier(key: str) -> int:
    """Delete the Redis keys of one run's spider (newsarchive:news:KEY:*); how many."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"newsarchive:news:{key}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    finally:
        client.close()


def prerender(site: DemoSite) -> int:
    """Fill the server's page cache, so no run pays for first renders; pages rendered."""
    paths: set[tuple[str, str]] = {("/robots.txt", "")}
    for category in site.categories:
        for page in range(1, site.page_count(category) + 1):
            listing = site.listing(category, page)
            paths.add(("/" + listing.url.split("/", 3)[3], ""))
            for href in listing.hrefs:
                path, _, query = ("/" + href.split("/", 3)[3]).split("#")[0].partition("?")
                paths.update({(path, query), (path, "")})
    for path, query in paths:
        render_page(site, path, query)
    return len(paths)


@dataclass(frozen=True)
class Run:
    """One crawl by N workers."""

    workers: int
    delay: float
    seconds: float
    articles: int
    cpu: float  # user + system seconds of every process started for the run
    requests: int
    span: float  # first to last request at the server, seconds
    max_per_second: int  # busiest 1-second window at the server
    min_gap_ms: float  # smallest gap between two requests to the host (robots.txt aside)
    short_gaps: float  # share of those gaps under half the interval (delay runs)
    fetched_twice: int  # article paths requested more than once
    exit_codes: tuple[int, ...]

    @property
    def rate(self) -> float:
        """Articles archived per second of wall time."""
        return self.articles / self.seconds

    @property
    def mean_per_second(self) -> float:
        """Requests per second at the server, first to last request."""
        return self.requests / self.span if self.span > 0 else float("nan")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busiest_second(times: Sequence[float]) -> int:
    """Most requests in any 1-second window starting at a request (sliding, not bucketed)."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while times[lo] <= t - 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def crawl_with(
    n: int, delay: float, site: DemoSite, server: DemoServer, workdir: Path, extraction: int
) -> Run:
    """N workers crawl the whole site into a fresh archive; what the run did and cost."""
    from sqlalchemy import func, select

    from storage.db import Archive
    from storage.models import Article

    key = f"ledger-{uuid.uuid4().hex[:8]}"
    max_pages = max(site.page_count(c) for c in site.categories)
    with temporary_database() as db_url:
        archive_extra: dict[str, Any] = {"frontier": REDIS_URL, "download_delay": delay}
        if extraction:
            archive_extra["extraction_workers"] = extraction
        config = write_config(
            workdir / key, db_url, site, server, key, max_pages=max_pages,
            archive_extra=archive_extra,
        )  # fmt: skip
        cmd = [sys.executable, "-m", "crawler", "--config", str(config), "crawl", key, "--worker"]
        server.clear_log()
        cpu_before, start = _children_cpu(), time.monotonic()
        logs = [(workdir / key / f"worker-{i}.log").open("w") for i in range(n)]
        procs = [
            subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT) for log in logs
        ]
        codes = tuple(p.wait(timeout=1800) for p in procs)
        seconds = time.monotonic() - start
        cpu = _children_cpu() - cpu_before
        for log in logs:
            log.close()
        with Archive(db_url, migrate=False) as archive, archive.session() as session:
            articles = session.scalar(select(func.count()).select_from(Article)) or 0
    forget_frontier(key)
    for i, code in enumerate(codes):
        if code != 0:
            tail = (workdir / key / f"worker-{i}.log").read_text(encoding="utf-8")[-2000:]
            print(f"worker {i} of {n} exited {code}:\n{tail}", flush=True)
    requests = server.requests(site.key)
    times = sorted(r.time for r in requests)
    # robots.txt is fetched by each worker before the limiter sees the host.
    gaps = [b - a for a, b in pairwise(sorted(r.time for r in requests if r.path != "/robots.txt"))]
    article_paths = {a.path for a in site.articles()}
    fetched = Counter(r.path for r in requests if r.path in article_paths)
    return Run(
        workers=n,
        delay=delay,
        seconds=seconds,
        articles=articles,
        cpu=cpu,
        requests=len(times),
        span=times[-1] - times[0] if times else 0.0,
        max_per_second=busiest_second(times),
        min_gap_ms=1000 * min(gaps, default=float("nan")),
        short_gaps=sum(1 for g in gaps if g < delay / 2) / max(len(gaps), 1) if delay else 0.0,
        fetched_twice=sum(1 for c in fetched.values() if c > 1),
        exit_codes=codes,
    )


def report(
    runs: Sequence[Run], site: DemoSite, argv: str, loads: Sequence[float], extraction: int
) -> list[str]:
    """The markdown of bench/results/workers.md."""
    cores = os.cpu_count() or 1
    pool = f"{extraction} per worker" if extraction else f"os.cpu_count() = {cores} per worker"
    lines = [
        "# Scale-out: articles/s with 1, 2 and 3 crawl workers (issue 8)",
        "",
        f"Run by `python -m bench.bench_workers {argv}`.".replace(" `.", "` (defaults)."),
        "",
        *environment_lines(loads),
        f"- site: the demo Daily Ledger on 127.0.0.1 (threads of the bench process, pages"
        f" rendered before the runs): {len(site.articles())} articles in"
        f" {sum(site.page_count(c) for c in site.categories)} listing pages",
        "- each run: N x `python -m crawler --config CFG crawl KEY --worker`, one Redis"
        " frontier, a fresh PostgreSQL database (created before, dropped after), a new site"
        f" key; concurrency_per_domain 8 per worker, no AutoThrottle, extraction pool {pool}",
        "- seconds: first worker started to last worker exited (start-up included);"
        " CPU: user + system of every process of the run (workers and extraction pools);"
        " requests/s: all requests the server logged for the host",
        "",
        "| download_delay | workers | seconds | articles | articles/s | speed-up vs 1 |"
        " CPU ms/article | requests | req/s mean | req/s max (1 s) | min gap ms |"
        " gaps < interval/2 |"
        " fetched twice | exit codes |",
        "|" + " ---: |" * 13 + " --- |",
    ]
    for delay in sorted({r.delay for r in runs}):
        group = [r for r in runs if r.delay == delay]
        base = next((r for r in group if r.workers == 1), group[0])
        for r in group:
            lines.append(
                f"| {delay:g} | {r.workers} | {r.seconds:.1f} | {r.articles} | {r.rate:.1f} |"
                f" {r.rate / base.rate:.2f} | {1000 * r.cpu / max(r.articles, 1):.0f} |"
                f" {r.requests} | {r.mean_per_second:.1f} | {r.max_per_second} |"
                f" {r.min_gap_ms:.0f} | {f'{100 * r.short_gaps:.1f}%' if r.delay else ''} |"
                f" {r.fetched_twice} |"
                f" {' '.join(map(str, r.exit_codes))} |"
            )
    lines += [
        "",
        f"This machine has {cores} cores. Every worker is a Scrapy process plus its extraction"
        " pool, all CPU-bound on the same cores, so once the cores are busy more workers add"
        " processes, not throughput"
        + (f": with {cores} cores, 3 workers cannot scale much beyond 2." if cores <= 2 else ".")
        + " The scale-out pays on several machines (or more cores), where each worker brings"
        " its own CPU; what this run shows on one machine is that the workers share the"
        " frontier without duplicates and keep the per-host limit together.",
    ]
    limited = [r for r in runs if r.delay > 0]
    if limited:
        delay = limited[0].delay
        free = [r for r in runs if r.delay == 0]
        lines += [
            "",
            f"With download_delay = {delay:g} the limit is one request per {delay:g} s per host"
            f" = {1 / delay:.0f} requests/s, shared by all workers through Redis: the mean rate"
            " at the server was "
            + ", ".join(f"{r.mean_per_second:.1f}" for r in limited)
            + f" requests/s with {', '.join(str(r.workers) for r in limited)} workers, and the"
            " busiest 1-second window (sliding, from any request) held "
            + ", ".join(str(r.max_per_second) for r in limited)
            + " requests"
            + (
                f", against {', '.join(str(r.max_per_second) for r in free)} without the limit."
                if free
                else "."
            ),
        ]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Run every worker count with and without a per-host limit; write workers.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--categories", type=int, default=6)
    parser.add_argument("--per-category", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--workers", default="1,2,3", help="worker counts, comma-separated")
    parser.add_argument("--delay", type=float, default=0.05, help="the per-host limit run")
    parser.add_argument("--extraction-workers", type=int, default=0, help="0 = one per CPU")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a low load")
    parser.add_argument("--quick", action="store_true", help="2 x 20 articles")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.categories, args.per_category = 2, 20
    counts = [int(x) for x in args.workers.split(",")]
    loads = [os.getloadavg()[0]] if args.no_wait else wait_for_quiet()
    site = build_site(args.categories, args.per_category, args.page_size)
    runs: list[Run] = []
    with serve(site) as server, tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        print(f"pre-rendered {prerender(site)} pages", flush=True)
        for delay in (0.0, args.delay):
            for n in counts:
                run = crawl_with(n, delay, site, server, Path(tmp), args.extraction_workers)
                print(
                    f"delay {delay:g}, {n} workers: {run.articles} articles in"
                    f" {run.seconds:.1f}s = {run.rate:.1f}/s; {run.requests} requests,"
                    f" max {run.max_per_second}/s, min gap {run.min_gap_ms:.0f} ms",
                    flush=True,
                )
                runs.append(run)
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join(report(runs, site, shown, loads, args.extraction_workers)) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
