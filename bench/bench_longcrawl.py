"""Memory over a long crawl (issue 5): does the crawl's RSS stay flat over 20,000+ pages?

Run: ``python -m bench.bench_longcrawl [--categories 10] [--per-category 2000] [--quick]``.

The bundled demo site (crawler/demo_site, one Daily Ledger with ``categories x per-category``
articles, ``page-size`` links per listing page) is served from threads in this process and
crawled by ``python -m crawler --config CFG crawl ledger --full`` in a subprocess, into a
fresh SQLite archive + WARC directory in a temporary folder. Every second the bench samples:

- the crawl process's VmRSS (/proc/PID/status) and the sum of VmRSS over its process tree
  (forkserver, extraction workers, resource tracker: found by parent pid in /proc/*/stat,
  since this kernel has no /proc/PID/task/TID/children);
- pages served by the demo server (its request log) and articles in the archive (a read-only
  SQLite connection; WAL readers never block the crawl's writer).

Writes bench/results/longcrawl.md: RSS after warm-up, in the middle and at the end, peaks,
the growth per 1,000 pages (least squares after warm-up), pages/s, and RSS every ~10%.
``--trace N`` also runs an N-page crawl in-process under tracemalloc (``crawler.runner
.run_crawl`` with an ``on_progress`` hook taking snapshots) and reports the allocation sites
that grew most between the warm-up and the end of that crawl.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from crawler.demo_site import DemoServer, DemoSite, make_sites, serve
from tests import configs

RESULTS = Path(__file__).parent / "results" / "longcrawl.md"
REPO = Path(__file__).resolve().parents[1]
# Ledger's six sections plus four more: the layout renders any section name.
CATEGORIES = (
    "politics", "business", "local", "sport", "culture",
    "science", "health", "world", "tech", "travel",
)  # fmt: skip
SITE_KEY = "ledger"


# -- environment: load, versions --------------------------------------------------------------


def wait_for_quiet(max_load: float = 2.0, tries: int = 10, pause: float = 60.0) -> list[float]:
    """Sleep while the 1-minute load is above max_load (at most `tries` times); loads seen."""
    seen = [os.getloadavg()[0]]
    while seen[-1] > max_load and len(seen) <= tries:
        print(f"load {seen[-1]:.2f} > {max_load}: waiting {pause:.0f}s", flush=True)
        time.sleep(pause)
        seen.append(os.getloadavg()[0])
    return seen


def environment_lines(loads: Sequence[float]) -> list[str]:
    """Markdown bullets: date, cores, load while waiting and now, library versions."""
    now = os.getloadavg()
    seen = ", ".join(f"{x:.1f}" for x in loads)
    waited = f" after waiting {len(loads) - 1} min (1-min loads {seen})"
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores"
        f" (`os.cpu_count()`), {platform.machine()}, shared with other engineers' work",
        f"- load average at start {loads[-1]:.2f}"
        + (waited if len(loads) > 1 else "")
        + f"; at the end {now[0]:.2f} / {now[1]:.2f} / {now[2]:.2f}",
        f"- Python {platform.python_version()}, Scrapy {version('scrapy')}, Twisted"
        f" {version('twisted')}, trafilatura {version('trafilatura')}, lxml {version('lxml')},"
        f" SQLAlchemy {version('sqlalchemy')}, warcio {version('warcio')}",
    ]


# -- /proc sampling ---------------------------------------------------------------------------


def vm_rss_kb(pid: int) -> int | None:
    """VmRSS of a live process in kB; None when it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def descendants(root: int) -> list[int]:
    """Every live descendant of root (by parent pid in /proc/*/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def tree_rss_kb(root: int) -> tuple[int, int, int]:
    """(root VmRSS, sum of VmRSS over root and its descendants, processes counted), kB."""
    own = vm_rss_kb(root) or 0
    total, count = own, 1 if own else 0
    for pid in descendants(root):
        kb = vm_rss_kb(pid)
        if kb:
            total, count = total + kb, count + 1
    return own, total, count


def count_articles(db: Path) -> int:
    """Articles in the SQLite archive so far (0 before the schema exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return 0


# -- the crawl --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One sampling instant of the crawl."""

    t: float  # seconds since the crawl process started
    pages: int  # requests served by the demo site
    articles: int  # articles in the archive
    rss_kb: int  # the crawl process
    tree_kb: int  # the crawl process and its descendants
    procs: int


@dataclass
class LongCrawl:
    """What the long crawl did, and its samples."""

    articles_on_site: int
    listing_pages: int
    seconds: float = 0.0
    exit_code: int = 0
    summary: str = ""
    articles: int = 0
    versions: int = 0
    captures: int = 0
    errors: int = 0
    warc_mb: float = 0.0
    samples: list[Sample] = field(default_factory=list)


def build_site(categories: int, per_category: int, page_size: int) -> DemoSite:
    """One Daily Ledger with `categories` sections of `per_category` articles each."""
    names = CATEGORIES[:categories] if categories <= len(CATEGORIES) else categories
    ledger, _courier = make_sites(
        categories=names, articles_per_category=per_category, page_size=page_size
    )
    return ledger


def write_config(
    directory: Path, db_url: str, site: DemoSite, server: DemoServer, key: str, *,
    max_pages: int, archive_extra: dict[str, Any] | None = None,
    site_extra: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """A newsarchive.toml crawling every section of `site` (served by `server`) as `key`."""
    archive = {
        "database_url": db_url,
        "warc_dir": (directory / "warc").as_posix(),
        "user_agent": "newsarchive-bench",
        "download_delay": 0,
        "autothrottle": False,
        "concurrency_per_domain": 8,
        **(archive_extra or {}),
    }
    table = {
        "key": key,
        "name": site.name,
        "start_urls": [site.category_url(c) for c in site.categories],
        "max_pages": max_pages,
        "allowed_domains": [server.url[site.key].split("://", 1)[1]],
        **(site_extra or {}),
    }
    directory.mkdir(parents=True, exist_ok=True)
    return configs.write_config(directory / f"{key}.toml", archive, [table])


def run_long_crawl(site: DemoSite, workdir: Path, *, timeout: float) -> LongCrawl:
    """Crawl the whole site in a subprocess, sampling memory and progress every second."""
    from sqlalchemy import func, select

    from storage.db import Archive
    from storage.models import Article, CaptureRow, Extraction, Version

    max_pages = max(site.page_count(c) for c in site.categories)
    result = LongCrawl(
        articles_on_site=len(site.articles()),
        listing_pages=sum(site.page_count(c) for c in site.categories),
    )
    db = workdir / "archive.db"
    with serve(site) as server:
        config = write_config(
            workdir, f"sqlite:///{db.as_posix()}", site, server, SITE_KEY, max_pages=max_pages
        )
        cmd = [sys.executable, "-m", "crawler", "--config", str(config), "crawl", SITE_KEY]
        out = (workdir / "crawl.log").open("w", encoding="utf-8")
        start = time.monotonic()
        proc = subprocess.Popen([*cmd, "--full"], cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        next_report = 0.0
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            if elapsed > timeout:
                print(f"timeout after {elapsed:.0f}s: stopping the crawl", flush=True)
                proc.terminate()
                proc.wait(60)
                break
            own, total, count = tree_rss_kb(proc.pid)
            pages = len(server.request_log)  # len() of a list: no lock needed
            if own:
                result.samples.append(Sample(elapsed, pages, count_articles(db), own, total, count))
            # Every page is fetched once, so the server's page cache only costs memory here.
            with site.lock:
                site.page_cache.clear()
            if elapsed >= next_report and result.samples:
                s = result.samples[-1]
                print(f"{elapsed:6.0f}s {s.pages:6d} pages {s.articles:6d} articles"
                      f" crawl {s.rss_kb / 1024:5.0f} MB tree {s.tree_kb / 1024:5.0f} MB",
                      flush=True)  # fmt: skip
                next_report = elapsed + 30
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start - elapsed)))
        result.seconds = time.monotonic() - start
        result.exit_code = proc.wait()
        out.close()
    lines = (workdir / "crawl.log").read_text(encoding="utf-8").strip().splitlines()
    summary = [ln for ln in lines if ln.startswith(f"{SITE_KEY}: run")]
    result.summary = summary[-1] if summary else (lines[-1] if lines else "(no output)")
    with (
        Archive(f"sqlite:///{db.as_posix()}", migrate=False) as archive,
        archive.session() as session,
    ):
        result.articles = session.scalar(select(func.count()).select_from(Article)) or 0
        result.versions = session.scalar(select(func.count()).select_from(Version)) or 0
        result.captures = session.scalar(select(func.count()).select_from(CaptureRow)) or 0
        result.errors = (
            session.scalar(
                select(func.count()).select_from(Extraction).where(Extraction.error.is_not(None))
            )
            or 0
        )
    result.warc_mb = sum(p.stat().st_size for p in (workdir / "warc").rglob("*")) / 2**20
    return result


# -- where memory goes: an in-process crawl under tracemalloc --------------------------------

# Runs in a child process (Twisted's reactor starts once per process): the crawl of CONFIG
# under tracemalloc, a snapshot when the stats pass WARMUP pages and one at FINAL pages,
# taken from run_crawl's on_progress hook (its ticker thread), then the top growth printed.
TRACE_HEADING = "## Allocation growth in the crawl process"
TRACE_CHILD = """
import gc, os, sys, tracemalloc
from crawler.config import load_config
from crawler.runner import run_crawl
config, warmup, final = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tracemalloc.start(4)
snaps = {}
def hook(stats):
    pages = sum(s.pages for s in stats.values())
    for name, at in (("warm", warmup), ("final", final)):
        if name not in snaps and pages >= at:
            gc.collect()
            snaps[name] = (pages, tracemalloc.take_snapshot(), len(gc.get_objects()))
run_crawl(load_config(config), incremental=False, on_progress=hook)
(p0, s0, o0), (p1, s1, o1) = snaps["warm"], snaps["final"]
def short(path):
    for cut in ("site-packages/", "lib/python3.11/", os.getcwd() + "/"):
        path = path.rsplit(cut, 1)[-1]
    return path
filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
s0, s1 = s0.filter_traces(filters), s1.filter_traces(filters)
total = sum(t.size for t in s1.traces) - sum(t.size for t in s0.traces)
print(f"TRACE pages {p0} -> {p1}: traced {total / 2**20:+.1f} MB, gc objects {o1 - o0:+d}")
for stat in s1.compare_to(s0, "traceback")[:12]:
    frames = " <- ".join(f"{short(f.filename)}:{f.lineno}"
                         for f in list(stat.traceback)[:4])
    print(f"TRACE {stat.size_diff / 1024:+.0f} KiB {stat.count_diff:+d} blocks: {frames}")
"""


def traced_crawl(site: DemoSite, workdir: Path, warmup: int) -> list[str]:
    """Crawl the site in a child under tracemalloc; markdown lines on what grew."""
    pages = len(site.articles()) + sum(site.page_count(c) for c in site.categories)
    db = workdir / "traced.db"
    with serve(site) as server:
        config = write_config(
            workdir / "traced", f"sqlite:///{db.as_posix()}", site, server, SITE_KEY,
            max_pages=max(site.page_count(c) for c in site.categories),
        )  # fmt: skip
        args = [str(config), str(warmup), str(int(pages * 0.95))]
        proc = subprocess.run(
            [sys.executable, "-c", TRACE_CHILD, *args],
            cwd=REPO, capture_output=True, text=True, check=False,
        )  # fmt: skip
    found = [ln.removeprefix("TRACE ") for ln in proc.stdout.splitlines() if ln.startswith("TRACE")]
    if not found:
        found = [f"traced crawl failed (exit {proc.returncode}): {proc.stderr[-500:]}"]
    return [
        f"{TRACE_HEADING} (tracemalloc, {pages} pages, in-process)",
        "",
        f"`python -m bench.bench_longcrawl --trace {len(site.articles())} --warmup {warmup}"
        " --only-trace`: from the first snapshot (after warm-up) to the second (95% of the"
        " pages), 4 frames, the 12 largest changes:",
        "",
        "```",
        *found,
        "```",
    ]


# -- analysis and report ----------------------------------------------------------------------


def slope_per_1000(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x, times 1000 (MB per 1,000 pages); 0 for < 2 points."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    var = sum((x - mx) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    return 1000 * sum((x - mx) * (y - my) for x, y in points) / var


def at_pages(samples: Sequence[Sample], pages: float) -> Sample:
    """The first sample at or past `pages` (the last one if none is)."""
    return next((s for s in samples if s.pages >= pages), samples[-1])


def _mb(kb: float) -> str:
    return f"{kb / 1024:.0f}"


def report(
    crawl: LongCrawl, argv: str, loads: Sequence[float], warmup: int, trace: list[str]
) -> list[str]:
    """The markdown of bench/results/longcrawl.md."""
    samples = crawl.samples
    final_pages = samples[-1].pages
    first = next((s for s in samples if s.pages > 0), samples[0])
    warm = at_pages(samples, warmup)
    mid = at_pages(samples, final_pages / 2)
    # The last page served, while every process still runs (at exit the workers go first).
    end = at_pages(samples, final_pages)
    after = [s for s in samples if s.pages >= warmup]
    crawl_slope = slope_per_1000([(s.pages, s.rss_kb / 1024) for s in after])
    tree_slope = slope_per_1000([(s.pages, s.tree_kb / 1024) for s in after])
    peak = max(samples, key=lambda s: s.rss_kb)
    peak_tree = max(samples, key=lambda s: s.tree_kb)
    fetch_secs = end.t - first.t
    steady = (end.pages - warm.pages) / max(end.t - warm.t, 1e-9)
    growth = (end.rss_kb - warm.rss_kb) / 1024
    flat = abs(crawl_slope) * final_pages / 1000 < max(0.1 * warm.rss_kb / 1024, 20)
    lines = [
        "# Long crawl: memory over 20,000+ pages (issue 5)",
        "",
        f"Run by `python -m bench.bench_longcrawl {argv}`.".replace(" `.", "` (defaults)."),
        "",
        *environment_lines(loads),
        f"- site: the demo Daily Ledger (crawler/demo_site) on 127.0.0.1, served by threads of"
        f" the bench process: {crawl.articles_on_site} articles in {crawl.listing_pages}"
        " listing pages",
        "- crawl: `python -m crawler --config CFG crawl ledger --full` (max_pages = every"
        " listing page), fresh SQLite archive + WARC in a temp dir, download_delay 0, no"
        " AutoThrottle, 8 requests per domain, extraction pool of os.cpu_count() workers",
        f"- result: exit {crawl.exit_code} after {crawl.seconds:.0f} s; `{crawl.summary}`;"
        f" {crawl.articles} articles archived, {crawl.versions} versions, {crawl.captures}"
        f" captures, {crawl.errors} extraction errors, WARC {crawl.warc_mb:.0f} MB",
        f"- sampling: every 1 s from /proc, {len(samples)} samples; 'tree' is the sum of VmRSS"
        f" over the crawl process and its descendants ({max(s.procs for s in samples)}"
        " processes at most: forkserver, extraction workers, resource tracker)",
        "",
        "| | pages served | seconds | crawl RSS MB | tree RSS MB |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| start (after warm-up, {warmup} pages) | {warm.pages} | {warm.t:.0f} |"
        f" {_mb(warm.rss_kb)} | {_mb(warm.tree_kb)} |",
        f"| middle | {mid.pages} | {mid.t:.0f} | {_mb(mid.rss_kb)} | {_mb(mid.tree_kb)} |",
        f"| end (last page served) | {end.pages} | {end.t:.0f} | {_mb(end.rss_kb)} |"
        f" {_mb(end.tree_kb)} |",
        f"| peak crawl RSS | {peak.pages} | {peak.t:.0f} | {_mb(peak.rss_kb)} |"
        f" {_mb(peak.tree_kb)} |",
        f"| peak tree RSS | {peak_tree.pages} | {peak_tree.t:.0f} | {_mb(peak_tree.rss_kb)} |"
        f" {_mb(peak_tree.tree_kb)} |",
        "",
        f"- growth after warm-up (least squares over {len(after)} samples): crawl process"
        f" {crawl_slope:+.2f} MB per 1,000 pages, tree {tree_slope:+.2f} MB per 1,000 pages;"
        f" end minus start {growth:+.0f} MB for the crawl process",
        f"- **verdict: {'flat' if flat else 'grows'}** (flat = the fitted growth over the"
        " whole crawl is under 10% of the warm-up RSS or 20 MB, whichever is larger)",
        f"- rate: {final_pages / max(fetch_secs, 1e-9):.1f} pages/s from the first request to"
        f" the last page served ({fetch_secs:.0f} s), {steady:.1f} pages/s after warm-up;"
        f" {crawl.articles / crawl.seconds:.1f} articles archived/s end to end"
        f" (process start to exit, {crawl.seconds:.0f} s)",
        "",
        "RSS over the crawl (the first sample past every 10% of the pages served):",
        "",
        "| % | seconds | pages served | articles archived | pages/s in step | crawl RSS MB |"
        " tree RSS MB | processes |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    prev, shown = first, set()
    for pct in range(0, 101, 10):
        s = at_pages(samples, max(1, final_pages * pct / 100))
        if s.t in shown:
            continue  # two steps within one sampling second
        shown.add(s.t)
        rate = (s.pages - prev.pages) / (s.t - prev.t) if s.t > prev.t else math.nan
        lines.append(
            f"| {pct} | {s.t:.0f} | {s.pages} | {s.articles} | {rate:.1f} | {_mb(s.rss_kb)} |"
            f" {_mb(s.tree_kb)} | {s.procs} |"
        )
        prev = s
    if trace:
        lines += ["", *trace]
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Run the long crawl, print progress, write bench/results/longcrawl.md."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--categories", type=int, default=10)
    parser.add_argument("--per-category", type=int, default=2000)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=1000, help="pages before 'start'")
    parser.add_argument("--timeout", type=float, default=3600, help="stop the crawl after")
    parser.add_argument("--trace", type=int, default=0, help="then a tracemalloc crawl of N")
    parser.add_argument("--only-trace", action="store_true", help="skip the long crawl")
    parser.add_argument("--no-wait", action="store_true", help="do not wait for a low load")
    parser.add_argument("--quick", action="store_true", help="3 x 200 articles")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.categories, args.per_category, args.warmup = 3, 200, 100
    loads = [os.getloadavg()[0]] if args.no_wait else wait_for_quiet()
    trace: list[str] = []
    if args.trace:
        small = build_site(args.categories, args.trace // args.categories, args.page_size)
        with tempfile.TemporaryDirectory(prefix="bench-longcrawl-trace-") as tmp:
            trace = traced_crawl(small, Path(tmp), min(args.warmup, args.trace // 4))
        print("\n".join(trace), flush=True)
    if args.only_trace:
        # Keep the long crawl's figures; replace only the allocation section.
        old = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        text = old.split(TRACE_HEADING, 1)[0].rstrip("\n") + "\n\n" + "\n".join(trace) + "\n"
        args.output.write_text(text.lstrip("\n"), encoding="utf-8")
        print(f"wrote {args.output}")
        return
    started = time.perf_counter()
    site = build_site(args.categories, args.per_category, args.page_size)
    print(f"site built in {time.perf_counter() - started:.0f}s", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-longcrawl-") as tmp:
        crawl = run_long_crawl(site, Path(tmp), timeout=args.timeout)
    shown = " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join(report(crawl, shown, loads, args.warmup, trace)) + "\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
