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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import trafilatura
from sqlalchemy import func, select

from bench.benchsite import BenchSite, load_pages, serve
from crawler.extraction import TRAFILATURA_OPTIONS, extract
from storage.db import Archive
from storage.models import Article, Capture, CrawlRun, Extraction, Version

RESULTS = Path(__file__).parent / "results" / "crawl.md"
_CLK_TCK = os.sysconf("SC_CLK_TCK")
FETCHED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CONFIG = """\
# Written by bench/bench_crawl.py: a loopback site, so no delay and no throttle.
[archive]
database_url = "sqlite:///{db}"
warc_dir = "{warc}"
user_agent = "newsarchive-bench (+http://127.0.0.1/)"
download_delay = 0
autothrottle = false
concurrency_per_domain = 16

[[sites]]
key = "bench"
name = "Bench News"
start_urls = ["{start}"]
max_pages = {max_pages}
"""


# -- the ceiling: extraction alone on all cores ----------------------------------------------


def _bare(job: tuple[bytes, str]) -> int:
    """trafilatura alone, as crawler.extraction calls it for the body; words extracted."""
    body, url = job
    doc = trafilatura.bare_extraction(
        body, url=url, with_metadata=False, output_format="python", **TRAFILATURA_OPTIONS
    )
    text = getattr(doc, "text", None) or ""
    return len(text.split())


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


# -- the crawl in a subprocess, with its memory sampled --------------------------------------


@dataclass
class TreeMemory:
    """Peak memory of a process tree, sampled from /proc (kB)."""

    peak_sum_rss: int = 0  # largest sum of VmRSS over the tree at one sampling instant
    hwm: dict[int, tuple[str, int]] = field(default_factory=dict)  # pid -> (name, VmHWM)
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> user + system CPU seconds
    samples: int = 0

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds (own threads only, last sample) summed per role."""
        out: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            role = self.hwm[pid][0]
            out[role] = out.get(role, 0.0) + seconds
        return out

    @property
    def root_hwm(self) -> int:
        """VmHWM of the sampled tree's first (root) process."""
        return next(iter(self.hwm.values()), ("", 0))[1]

    @property
    def largest_child_hwm(self) -> int:
        """The largest VmHWM among the root's descendants."""
        return max((kb for _, kb in list(self.hwm.values())[1:]), default=0)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process's own threads (not its children)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _status(pid: int) -> tuple[str, int, int] | None:
    """(name, VmRSS kB, VmHWM kB) of a live process, None when it is gone."""
    fields: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return None
    if "VmRSS" not in fields:  # a zombie
        return None
    return fields["Name"], int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _role(pid: int, parent_role: str) -> str:
    """What a descendant of the crawl is: forkserver, extraction worker, resource tracker."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "other"
    if parent_role == "forkserver":
        return "extraction worker"
    for marker, role in (("forkserver", "forkserver"), ("resource_tracker", "resource tracker")):
        if marker in cmdline:
            return role
    return "other"


def sample_tree(root: int, memory: TreeMemory, stop: threading.Event, every: float = 0.2) -> None:
    """Until stop is set: walk root's process tree and keep the peaks in ``memory``."""
    while not stop.is_set():
        children = _children_map()
        todo, total = [(root, "crawl")], 0
        while todo:
            pid, role = todo.pop()
            todo += [(c, _role(c, role)) for c in children.get(pid, [])]
            status = _status(pid)
            if status is None:
                continue
            _name, rss, hwm = status
            total += rss
            memory.hwm[pid] = (role, max(hwm, memory.hwm.get(pid, ("", 0))[1]))
            cpu = _cpu_seconds(pid)
            if cpu is not None:
                memory.cpu[pid] = max(cpu, memory.cpu.get(pid, 0.0))
        memory.peak_sum_rss = max(memory.peak_sum_rss, total)
        memory.samples += 1
        stop.wait(every)


@dataclass
class CrawlResult:
    """What one crawl run did and cost."""

    seconds: float
    exit_code: int
    articles: int
    versions: int
    article_captures: int
    extraction_errors: int
    window: float  # first capture to last extraction row, seconds (the crawl proper)
    summary: str
    memory: TreeMemory
    children_maxrss_kb: int
    cpu: float  # user + system CPU seconds of the crawl's whole process tree (sampled)


def run_crawl(site: BenchSite, workdir: Path) -> CrawlResult:
    """Serve the site, crawl it in a subprocess, and read back what the archive holds."""
    db = workdir / "archive.db"
    with serve(site) as running:
        config = workdir / "newsarchive.toml"
        config.write_text(
            CONFIG.format(
                db=db.as_posix(),
                warc=(workdir / "warc").as_posix(),
                start=running.start_url,
                max_pages=site.page_count + 1,
            ),
            encoding="utf-8",
        )
        cmd = [sys.executable, "-m", "crawler", "--config", str(config), "crawl", "--full"]
        memory, stop = TreeMemory(), threading.Event()
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=workdir
        )
        sampler = threading.Thread(target=sample_tree, args=(proc.pid, memory, stop))
        sampler.start()
        output, _ = proc.communicate(timeout=900)
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
        served = running.requests_served
    children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(output.strip()[-2000:], flush=True)
    print(f"crawl: {seconds:.1f}s, {served} requests served", flush=True)
    with Archive(f"sqlite:///{db.as_posix()}", migrate=False) as archive, archive.session() as s:
        first = s.scalar(select(func.min(Capture.fetched_at)))
        last = s.scalar(select(func.max(Extraction.created_at)))
        window = (last - first).total_seconds() if first and last else float("nan")
        run_stats = s.scalar(select(CrawlRun.stats).order_by(CrawlRun.id.desc()).limit(1))
        result = CrawlResult(
            seconds=seconds,
            exit_code=proc.returncode,
            articles=s.scalar(select(func.count()).select_from(Article)) or 0,
            versions=s.scalar(select(func.count()).select_from(Version)) or 0,
            article_captures=s.scalar(
                select(func.count()).select_from(Capture).where(Capture.page_kind == "article")
            )
            or 0,
            extraction_errors=s.scalar(
                select(func.count()).select_from(Extraction).where(Extraction.error.is_not(None))
            )
            or 0,
            window=window,
            summary=output.strip().splitlines()[-1] if output.strip() else f"{run_stats}",
            memory=memory,
            children_maxrss_kb=children_maxrss,
            cpu=sum(memory.cpu.values()),
        )
    return result


# -- report ----------------------------------------------------------------------------------


def _mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


NOTES_MARKER = "<!-- hand-written notes below are kept when the bench rewrites this file -->"


def write_report(
    site: BenchSite,
    bare: tuple[float, float],
    full: tuple[float, float],
    crawl: CrawlResult,
    load: tuple[float, float, float],
    argv: str,
) -> None:
    """bench/results/crawl.md: figures, ceilings, ratios, CPU, memory; notes kept."""
    n = site.article_count
    pages = crawl.article_captures
    full_rate, bare_rate = n / full[0], n / bare[0]
    crawl_rate = pages / crawl.seconds
    window_rate = pages / crawl.window if crawl.window > 0 else float("nan")
    rows = [
        ("trafilatura alone (bare_extraction, same options), all cores", n / bare[0], bare[0],
         f"{1000 * bare[1] / n:.0f}"),
        ("crawler.extraction.extract, all cores", full_rate, full[0], f"{1000 * full[1] / n:.0f}"),
        ("crawl end to end (`crawl --full` process, start to exit)", crawl_rate, crawl.seconds,
         f"{1000 * crawl.cpu / max(pages, 1):.0f}"),
        ("crawl, first capture to last extraction row", window_rate, crawl.window, ""),
    ]  # fmt: skip
    cpu_bound = (full[1] / n) / max(crawl.cpu / max(pages, 1), 1e-9)
    mem = crawl.memory
    by_role: dict[str, int] = {}
    counts: dict[str, int] = {}
    for role, kb in list(mem.hwm.values())[1:]:
        by_role[role] = max(by_role.get(role, 0), kb)
        counts[role] = counts.get(role, 0) + 1
    lines = [
        "# Crawl throughput: the whole pipeline vs extraction alone",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m bench.bench_crawl {argv}`.",
        "",
        f"- machine: {os.cpu_count()} cores (`os.cpu_count()`), {platform.machine()}; shared"
        f" with other engineers' builds and tests while this ran (load average"
        f" {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start), so wall-clock figures are"
        " noisy; CPU-seconds per page are steadier",
        f"- Python {platform.python_version()}, Scrapy {version('scrapy')}, Twisted"
        f" {version('twisted')}, trafilatura {trafilatura.__version__}, lxml {version('lxml')},"
        f" SQLAlchemy {version('sqlalchemy')}",
        f"- site: bench/benchsite.py on 127.0.0.1 (threads in the bench process), the 181"
        f" article-extraction benchmark pages x {site.copies} = {n} articles under distinct"
        f" paths, {site.per_page} links per category page, {site.page_count} category pages",
        "- crawl: `python -m crawler --config CFG crawl --full`, fresh SQLite archive + WARC,"
        " download_delay 0, no AutoThrottle, 16 requests per domain, extraction pool of"
        " os.cpu_count() workers",
        f"- crawl result: exit {crawl.exit_code}; `{crawl.summary}`; {crawl.articles} articles,"
        f" {crawl.versions} versions, {pages} article captures,"
        f" {crawl.extraction_errors} extraction rows with an error",
        "- ceilings: a warm ProcessPoolExecutor of os.cpu_count() workers over the same pages"
        " (bytes in memory, chunksize 2)",
        "",
        "| what | article pages/s | seconds | CPU ms per page (all processes) |"
        " vs extract() ceiling | vs trafilatura alone |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rate, seconds, cpu_ms in rows:
        lines.append(
            f"| {name} | {rate:.1f} | {seconds:.1f} | {cpu_ms} | {rate / full_rate:.2f} |"
            f" {rate / bare_rate:.2f} |"
        )
    lines += [
        "",
        "Rates are article pages per second on both sides (the crawl's article captures, each"
        " extracted and recorded; the ceiling's pages), so pages the extractor classes as"
        " not-an-article count the same on both. The crawl's CPU is its whole process tree"
        " (Scrapy process, forkserver, extraction workers) summed from /proc/PID/stat samples;"
        " the ceilings' CPU is their pool workers' from getrusage(RUSAGE_CHILDREN).",
        "",
        "CPU of the crawl by process, ms per article page: "
        + ", ".join(
            f"{role} {1000 * cpu / max(pages, 1):.0f}"
            for role, cpu in sorted(mem.cpu_by_role().items(), key=lambda kv: -kv[1])
        )
        + ". With every process CPU-bound on the same cores, the ratio tends to extract()'s"
        f" CPU per page over the crawl's: {cpu_bound:.2f}.",
        "",
        f"**Ratio crawl / ceiling: {crawl_rate / full_rate:.2f}** end to end against"
        f" `extract()` on all cores ({crawl_rate / bare_rate:.2f} against trafilatura alone).",
        "",
        "Peak memory of the crawl's process tree (sampled every 0.2 s from /proc,"
        f" {mem.samples} samples):",
        "",
        f"- crawl process (Scrapy, archive writer thread, SQLite): VmHWM {_mb(mem.root_hwm)}",
        f"- largest descendant: VmHWM {_mb(mem.largest_child_hwm)}; largest by role: "
        + ", ".join(f"{k} (x{counts[k]}) {_mb(v)}" for k, v in sorted(by_role.items())),
        f"- whole tree at once (sum of VmRSS, peak over samples): {_mb(mem.peak_sum_rss)}",
        f"- `getrusage(RUSAGE_CHILDREN).ru_maxrss` (largest reaped descendant):"
        f" {_mb(crawl.children_maxrss_kb)}",
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
    """Measure the ceilings and the crawl, print them, write bench/results/crawl.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3, help="the 181 pages repeated K times")
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="one copy (181 articles)")
    args = parser.parse_args(argv)
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
    bare = ceiling(_bare, jobs)
    full = ceiling(_full, jobs)
    shown = " ".join(argv if argv is not None else sys.argv[1:]) or f"--copies {copies}"
    write_report(site, bare, full, crawl, load, shown)


if __name__ == "__main__":
    main()
