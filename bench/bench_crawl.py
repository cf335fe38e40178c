"""Crawl throughput of the whole pipeline next to the extraction ceiling on the same pages.

Run: ``python -m bench.bench_crawl [--copies K] [--quick]``.

1. Ceiling: the bench site's pages (181 x K) extracted on all cores with a
   ProcessPoolExecutor of ``os.cpu_count()`` workers, twice: trafilatura alone
   (``bare_extraction`` with crawler.extraction's options) and ``crawler.extraction.extract``.
2. Crawl: ``python -m crawler --config CFG crawl --full`` in a subprocess against the local
   bench site (bench/benchsite.py), into a fresh SQLite archive and WARC directory, timed end
   to end, while the memory of its process tree (the crawl, the forkserver, the extraction
   workers) is sampled from /proc.

Writes bench/results/crawl.md with the ratio crawl / ceiling in articles per second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import trafilatura
from sqlalchemy import func, select

from bench.benchsite import BenchSite, RunningSite, load_pages, serve
from bench.peer_spider import OPTIONS as PEER_OPTIONS
from bench.proctree import TreeMemory, sample_tree
from crawler.extraction import TRAFILATURA_OPTIONS, extract
from storage.db import Archive
from storage.models import Article, CaptureRow, CrawlRun, Extraction, Version
from tests import configs

RESULTS = Path(__file__).parent / "results" / "crawl.md"
PEER_SPIDER = Path(__file__).parent / "peer_spider.py"
PER_HOST = 8  # requests in flight per host, for the crawl and the peer alike
FETCHED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# -- the ceiling: extraction alone on all cores ----------------------------------------------


def _trafilatura_words(job: tuple[bytes, str], *, with_metadata: bool) -> int:
    body, url = job
    doc = trafilatura.bare_extraction(
        body, url=url, with_metadata=with_metadata, output_format="python", **TRAFILATURA_OPTIONS
    )
    return len((getattr(doc, "text", None) or "").split())


def _bare(job: tuple[bytes, str]) -> int:
    """trafilatura alone, as crawler.extraction calls it for the body; words extracted."""
    return _trafilatura_words(job, with_metadata=False)


def _meta(job: tuple[bytes, str]) -> int:
    """trafilatura with its own metadata (title, author, date...), as the peer runs it; words."""
    return _trafilatura_words(job, with_metadata=True)


def _full(job: tuple[bytes, str]) -> int:
    """crawler.extraction.extract, everything the crawl's pool runs per page; words."""
    body, url = job
    result = extract(body, url, FETCHED_AT, content_type="text/html; charset=utf-8")
    return len((result.text or "").split())


def _children_cpu() -> float:
    """User + system CPU seconds of every reaped descendant of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def ceiling(
    fn: Callable[[tuple[bytes, str]], int], jobs: Sequence[tuple[bytes, str]]
) -> tuple[float, float]:
    """Wall seconds to run fn over every job on os.cpu_count() workers (warm pool), and the
    workers' CPU seconds (warm-up included)."""
    workers = os.cpu_count() or 1
    cpu_before = _children_cpu()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # Warm each worker first (imports, trafilatura's lazy set-up): a crawl pays this once.
        list(pool.map(fn, jobs[:workers]))
        start = time.perf_counter()
        words = sum(pool.map(fn, jobs, chunksize=2))
        seconds = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    print(f"{fn.__name__}: {len(jobs)} pages in {seconds:.1f}s, {cpu:.1f} CPU-s ({words} words)")
    return seconds, cpu


# -- the crawl in a subprocess, with its CPU and memory sampled ---------------------------


@dataclass
class TreeRun:
    """One process tree run against the bench site: time, exit, output, CPU and memory."""

    seconds: float
    exit_code: int
    output: str
    memory: TreeMemory
    first_request: float  # seconds from process start to the site's first request
    served: int

    @property
    def cpu(self) -> float:
        """User + system CPU seconds of the whole process tree (sampled)."""
        return sum(self.memory.cpu.values())


def run_tree(cmd: list[str], cwd: Path, running: RunningSite) -> TreeRun:
    """Run cmd against the started site, sampling its process tree's CPU and memory."""
    memory, stop = TreeMemory(), threading.Event()
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd
    )
    sampler = threading.Thread(target=sample_tree, args=(proc.pid, memory, stop))
    sampler.start()
    output, _ = proc.communicate(timeout=900)
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    first = running.first_request_at
    return TreeRun(
        seconds=seconds,
        exit_code=proc.returncode,
        output=output,
        memory=memory,
        first_request=(first - start) if first is not None else float("nan"),
        served=running.requests_served,
    )


@dataclass
class CrawlResult:
    """What one crawl run did and cost."""

    run: TreeRun
    articles: int
    versions: int
    article_captures: int
    extraction_errors: int
    window: float  # first capture to last extraction row, seconds (the crawl proper)
    summary: str
    children_maxrss_kb: int

    @property
    def seconds(self) -> float:
        """Wall seconds from process start to exit."""
        return self.run.seconds

    @property
    def cpu(self) -> float:
        """CPU seconds of the crawl's process tree."""
        return self.run.cpu


def crawl_command(site: BenchSite, workdir: Path, running: RunningSite) -> list[str]:
    """Write the crawl's config into workdir; the `newsarchive crawl` command line."""
    # A loopback site: no delay and no throttle.
    archive = {
        "database_url": f"sqlite:///{(workdir / 'archive.db').as_posix()}",
        "warc_dir": (workdir / "warc").as_posix(),
        "user_agent": "newsarchive-bench (+http://127.0.0.1/)",
        "download_delay": 0,
        "autothrottle": False,
        "concurrency_per_domain": PER_HOST,
    }
    bench_site = {
        "key": "bench",
        "name": "Bench News",
        "start_urls": [running.start_url],
        "max_pages": site.page_count + 1,
    }
    config = configs.write_config(workdir / "newsarchive.toml", archive, [bench_site])
    return [sys.executable, "-m", "crawler", "--config", str(config), "crawl", "--full"]


def run_crawl(site: BenchSite, workdir: Path) -> CrawlResult:
    """Serve the site, crawl it in a subprocess, and read back what the archive holds."""
    db = workdir / "archive.db"
    with serve(site) as running:
        run = run_tree(crawl_command(site, workdir, running), workdir, running)
    children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    output = run.output
    print(output.strip()[-2000:], flush=True)
    print(
        f"crawl: {run.seconds:.1f}s, {run.served} requests served, first after"
        f" {run.first_request:.2f}s",
        flush=True,
    )
    with Archive(f"sqlite:///{db.as_posix()}", migrate=False) as archive, archive.session() as s:
        first = s.scalar(select(func.min(CaptureRow.fetched_at)))
        last = s.scalar(select(func.max(Extraction.created_at)))
        window = (last - first).total_seconds() if first and last else float("nan")
        run_stats = s.scalar(select(CrawlRun.stats).order_by(CrawlRun.id.desc()).limit(1))
        result = CrawlResult(
            run=run,
            articles=s.scalar(select(func.count()).select_from(Article)) or 0,
            versions=s.scalar(select(func.count()).select_from(Version)) or 0,
            article_captures=s.scalar(
                select(func.count())
                .select_from(CaptureRow)
                .where(CaptureRow.page_kind == "article")
            )
            or 0,
            extraction_errors=s.scalar(
                select(func.count()).select_from(Extraction).where(Extraction.error.is_not(None))
            )
            or 0,
            window=window,
            summary=output.strip().splitlines()[-1] if output.strip() else f"{run_stats}",
            children_maxrss_kb=children_maxrss,
        )
    return result


# -- the peer: the spider a user would write by hand -----------------------------------------


@dataclass
class PeerResult:
    """The hand-written spider's run: its process tree and the JSON lines it wrote."""

    run: TreeRun
    articles: int  # JSON lines written (one per article page)
    with_text: int  # of which trafilatura found a body


def run_peer(site: BenchSite, workdir: Path) -> PeerResult:
    """`scrapy runspider bench/peer_spider.py` on the same site, politeness lifted as the
    crawl's (8 requests per host, no delay, no AutoThrottle, robots.txt obeyed)."""
    out = workdir / "peer.jsonl"
    with serve(site) as running:
        settings = {
            "USER_AGENT": "newsarchive-bench-peer (+http://127.0.0.1/)",
            "ROBOTSTXT_OBEY": "True",
            "CONCURRENT_REQUESTS": "32",
            "CONCURRENT_REQUESTS_PER_DOMAIN": str(PER_HOST),
            "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_ENABLED": "False",
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": "False",
            "FEED_EXPORT_ENCODING": "utf-8",
        }
        cmd = [sys.executable, "-m", "scrapy", "runspider", str(PEER_SPIDER), "-O", str(out)]
        cmd += ["-a", f"start_url={running.start_url}"]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        run = run_tree(cmd, workdir, running)
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    with_text = sum(1 for line in lines if json.loads(line).get("text"))
    print(
        f"peer: exit {run.exit_code}, {len(lines)} articles ({with_text} with text) in"
        f" {run.seconds:.1f}s, first request after {run.first_request:.2f}s",
        flush=True,
    )
    if run.exit_code != 0 or run.output.strip():
        print(run.output.strip()[-2000:], flush=True)
    return PeerResult(run, len(lines), with_text)


# -- report ----------------------------------------------------------------------------------


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


NOTES_MARKER = "<!-- hand-written notes below are kept when the bench rewrites this file -->"


def _first_request_note(name: str, run: TreeRun) -> str:
    return f"{name} {run.first_request:.2f} s"


def write_report(
    site: BenchSite,
    bare: tuple[float, float],
    meta: tuple[float, float],
    full: tuple[float, float],
    peer: PeerResult,
    crawl: CrawlResult,
    load: tuple[float, float, float],
    argv: str,
) -> None:
    """bench/results/crawl.md: the four-way table with ratios, CPU, memory; notes kept."""
    n = site.article_count
    pages = crawl.article_captures
    full_rate, bare_rate = n / full[0], n / bare[0]
    crawl_rate = pages / crawl.seconds
    peer_rate = peer.articles / peer.run.seconds
    window_rate = pages / crawl.window if crawl.window > 0 else float("nan")
    rows = [
        ("trafilatura alone (bare_extraction, same options), all cores", bare_rate, bare[0],
         f"{1000 * bare[1] / n:.0f}"),
        ("trafilatura with its metadata (with_metadata=True, as the peer), all cores",
         n / meta[0], meta[0], f"{1000 * meta[1] / n:.0f}"),
        ("crawler.extraction.extract, all cores", full_rate, full[0], f"{1000 * full[1] / n:.0f}"),
        ("hand-written Scrapy spider (bench/peer_spider.py), start to exit", peer_rate,
         peer.run.seconds, f"{1000 * peer.run.cpu / max(peer.articles, 1):.0f}"),
        ("`newsarchive crawl --full`, start to exit", crawl_rate, crawl.seconds,
         f"{1000 * crawl.cpu / max(pages, 1):.0f}"),
        ("crawl, first capture to last extraction row", window_rate, crawl.window, ""),
    ]  # fmt: skip
    cpu_bound = (full[1] / n) / max(crawl.cpu / max(pages, 1), 1e-9)
    mem = crawl.run.memory
    by_role: dict[str, int] = {}
    counts: dict[str, int] = {}
    for role, kb in list(mem.hwm.values())[1:]:
        by_role[role] = max(by_role.get(role, 0), kb)
        counts[role] = counts.get(role, 0) + 1
    lines = [
        "# Crawl throughput: newsarchive, a hand-written spider and extraction alone",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.bench_crawl {argv}`.",
        "",
        f"- machine: {os.cpu_count()} cores (`os.cpu_count()`), {platform.machine()}; shared"
        f" with other engineers' builds and tests while this ran (load average"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start), so wall-clock figures are"
        " noisy; CPU ms per page and the ratios within this run are steadier",
        f"- Python {platform.python_version()}, Scrapy {version('scrapy')}, Twisted"
        f" {version('twisted')}, trafilatura {trafilatura.__version__}, lxml {version('lxml')},"
        f" SQLAlchemy {version('sqlalchemy')}",
        f"- site: bench/benchsite.py on 127.0.0.1 (threads in the bench process), the 181"
        f" article-extraction benchmark pages x {site.copies} = {n} articles under distinct"
        f" paths, {site.per_page} links per category page, {site.page_count} category pages",
        "- crawl: `python -m crawler --config CFG crawl --full`, fresh SQLite archive + WARC,"
        f" download_delay 0, no AutoThrottle, {PER_HOST} requests per host, robots.txt obeyed,"
        " extraction pool as configured by default",
        f"- crawl result: exit {crawl.run.exit_code}; `{crawl.summary}`; {crawl.articles}"
        f" articles, {crawl.versions} versions, {pages} article captures,"
        f" {crawl.extraction_errors} extraction rows with an error",
        "- peer: `scrapy runspider bench/peer_spider.py`: category links followed,"
        " `trafilatura.bare_extraction(response.text, with_metadata=True, same options)` inline"
        f" in the callback, a JSON lines feed; same politeness ({PER_HOST} per host, no delay,"
        f" no AutoThrottle, robots.txt obeyed); exit {peer.run.exit_code}, {peer.articles}"
        f" JSON lines ({peer.with_text} with a text)",
        "- ceilings: a warm ProcessPoolExecutor of os.cpu_count() workers over the same pages"
        " (bytes in memory, chunksize 2): trafilatura body only (with_metadata=False, the"
        " baseline of every 'vs trafilatura alone' ratio), trafilatura with its metadata, and"
        " extract() (body and our metadata rules)",
        "",
        "| what | articles/s | seconds | CPU ms per article (whole process tree) |"
        " vs trafilatura alone | vs extract() |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rate, seconds, cpu_ms in rows:
        lines.append(
            f"| {name} | {rate:.1f} | {seconds:.1f} | {cpu_ms} | {rate / bare_rate:.2f} |"
            f" {rate / full_rate:.2f} |"
        )
    lines += [
        "",
        f"**Crawl / peer: {crawl_rate / peer_rate:.2f}**; crawl / trafilatura alone:"
        f" {crawl_rate / bare_rate:.2f}; extract() CPU / trafilatura alone CPU:"
        f" {full[1] / max(bare[1], 1e-9):.2f} (vs trafilatura with its metadata:"
        f" {full[1] / max(meta[1], 1e-9):.2f}).",
        "",
        "Time from process start to the bench site's first request (robots.txt): "
        + ", ".join(
            (_first_request_note("crawl", crawl.run), _first_request_note("peer", peer.run))
        )
        + ".",
        "",
        "Rates are article pages per second (the crawl's article captures, each extracted and"
        " recorded; the peer's JSON lines; the ceilings' pages), so pages the extractor classes"
        " as not-an-article count the same everywhere. The crawl's and the peer's CPU is their"
        " whole process tree (Scrapy process, forkserver, extraction workers) summed from"
        " /proc/PID/stat samples every 0.2 s; the ceilings' CPU is their pool workers' from"
        " getrusage(RUSAGE_CHILDREN).",
        "",
        "CPU of the crawl by process, ms per article page: "
        + ", ".join(
            f"{role} {1000 * cpu / max(pages, 1):.1f}"
            for role, cpu in sorted(mem.cpu_by_role().items(), key=lambda kv: -kv[1])
        )
        + ". With every process CPU-bound on the same cores, the ratio to extract() tends to"
        f" extract()'s CPU per page over the crawl's: {cpu_bound:.2f}.",
        "",
        "Peak memory of the crawl's process tree (sampled every 0.2 s from /proc,"
        f" {mem.samples} samples):",
        "",
        f"- crawl process (Scrapy, archive writer thread, SQLite): VmHWM {_mb(mem.root_hwm)}",
        f"- largest descendant: VmHWM {_mb(mem.largest_child_hwm)}; largest by role: "
        + ", ".join(f"{k} (x{counts[k]}) {_mb(v)}" for k, v in sorted(by_role.items())),
        f"- whole tree at once (sum of VmRSS, peak over samples): {_mb(mem.peak_sum_rss)}",
        f"- the peer's process: VmHWM {_mb(peer.run.memory.root_hwm)}",
        "",
        NOTES_MARKER,
    ]
    notes = ""
    if RESULTS.exists():
        old = RESULTS.read_text(encoding="utf-8")
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + (notes or "\n"), encoding="utf-8")
    print(f"wrote {RESULTS}")


def main(argv: Sequence[str] | None = None) -> None:
    """Measure the ceilings, the peer and the crawl, print them, write bench/results/crawl.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3, help="the 181 pages repeated K times")
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="one copy (181 articles)")
    args = parser.parse_args(argv)
    if PEER_OPTIONS != TRAFILATURA_OPTIONS:
        raise SystemExit("bench/peer_spider.py OPTIONS differ from crawler.extraction's")
    copies = 1 if args.quick else args.copies
    load = os.getloadavg()
    site = BenchSite(load_pages(), copies=copies, per_page=args.per_page)
    jobs: list[Any] = []
    for n in range(site.article_count):
        page = site.pages[n % len(site.pages)]
        jobs.append((page.body, f"http://127.0.0.1:8000{site.article_path(n)}"))
    # The crawl first: RUSAGE_CHILDREN then covers its process tree alone, not the pools below.
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        crawl = run_crawl(site, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        peer = run_peer(site, Path(tmp))
    bare = ceiling(_bare, jobs)
    meta = ceiling(_meta, jobs)
    full = ceiling(_full, jobs)
    shown = " ".join(argv if argv is not None else sys.argv[1:]) or f"--copies {copies}"
    write_report(site, bare, meta, full, peer, crawl, load, shown)


if __name__ == "__main__":
    main()
