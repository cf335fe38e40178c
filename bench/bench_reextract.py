"""Re-extraction throughput on all cores vs trafilatura alone over the same pages.

Run: ``python -m bench.bench_reextract [--repeat R] [--workers N] [--no-ceilings]
[--keep DIR] [--profile PREFIX]``. Stores the 181 pages of the shared article-extraction
benchmark (read in place, never copied into the repo) R times into a WARC file via
WarcStore, with a captures row each, in a fresh SQLite archive; then:

- trafilatura alone: ``trafilatura.bare_extraction`` with our options over the in-memory
  pages, in a process pool of the same size;
- extract() alone: our full extractor (trafilatura + metadata rules) the same way;
- reextract: ``crawler.reextract.reextract`` (WARC read in workers, extraction, archive
  writes, version building), end to end;
- reextract again with one option changed (``include_comments``): the path of a new extractor
  over an archive that has articles (old extractions compared, versions rebuilt).

Each reextract run also gives the main process's own CPU per capture (time.process_time:
all its threads, the pool's feeder and result threads included) and the workers' (their
CPU as the forkserver, their parent, collects it when it reaps them): on 2 cores the two
compete. ``--no-ceilings`` skips the two pool rows while iterating (no results file then);
``--keep DIR`` copies each run's archive and report there (to compare the rows two
versions of the code make); ``--profile PREFIX`` runs each reextract under cProfile (the
main process only; its CPU figures then include the profiler's) and writes
PREFIX-first.prof and PREFIX-again.prof.

Writes bench/results/reextract.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DATASET = (
    Path(os.environ.get("NEWSARCHIVE_DATASETS", "/work/shared/datasets"))
    / "article-extraction-benchmark"
)
RESULTS = Path(__file__).parent / "results" / "reextract.md"
FETCHED = datetime(2026, 11, 1, tzinfo=UTC)


def load() -> list[tuple[str, bytes]]:
    """(url, html) for every page of the data set."""
    truth = json.loads((DATASET / "ground-truth.json").read_text())
    pages = []
    for path in sorted((DATASET / "html").glob("*.html.gz")):
        key = path.name.removesuffix(".html.gz")
        pages.append((truth[key]["url"], gzip.decompress(path.read_bytes())))
    return pages


def _trafilatura(page: tuple[str, bytes]) -> int:
    import trafilatura

    from crawler.extraction import TRAFILATURA_OPTIONS

    doc = trafilatura.bare_extraction(page[1], url=page[0], **TRAFILATURA_OPTIONS)
    return len(getattr(doc, "text", "") or "")


def _ours(page: tuple[str, bytes]) -> int:
    from crawler.extraction import extract

    return len(extract(page[1], page[0], FETCHED).text or "")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pool_rate(
    fn: Callable[[tuple[str, bytes]], int], pages: list[tuple[str, bytes]], workers: int
) -> tuple[float, float]:
    """Pages per second of fn over pages in a pool (pool start-up excluded), and the
    workers' CPU seconds per page (their warm-up call included: getrusage counts a worker
    once the pool has reaped it)."""
    cpu = _children_cpu()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(fn, pages[:workers], chunksize=1))  # warm the workers' imports
        start = time.perf_counter()
        list(pool.map(fn, pages, chunksize=4))
        rate = len(pages) / (time.perf_counter() - start)
    return rate, (_children_cpu() - cpu) / len(pages)


def _forkserver_children_cpu() -> float:
    """CPU seconds of the forkserver's reaped children (our pool workers) so far."""
    from multiprocessing import forkserver

    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    if pid is None:
        return 0.0
    # /proc/PID/stat: fields after the parenthesised name; cutime and cstime are 16 and 17.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def timed_reextract(
    url: str, warc: Path, workers: int, options: dict[str, Any] | None, profile: str | None
) -> tuple[Any, float, float, float]:
    """One reextract run: (report, wall s, main-process CPU s, workers' CPU s)."""
    from crawler.reextract import reextract
    from storage.db import Archive

    with Archive(url) as archive:
        workers_before = _forkserver_children_cpu()
        profiler = cProfile.Profile() if profile else None
        cpu, start = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        report = reextract(archive, warc, workers=workers, options=options)
        if profiler and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return report, elapsed, cpu, _forkserver_children_cpu() - workers_before


def build_archive(directory: Path, pages: list[tuple[str, bytes]], repeat: int) -> str:
    """A SQLite archive whose captures point at the pages in a real WARC file."""
    from storage.db import Archive
    from storage.ingest import add_capture
    from storage.records import Capture
    from storage.warc import WarcStore

    url = f"sqlite:///{directory / 'archive.db'}"
    store = WarcStore(directory / "warc")
    with Archive(url) as archive, archive.session() as s:
        for r in range(repeat):
            for page_url, body in pages:
                u = page_url if r == 0 else f"{page_url}?copy={r}"
                w = store.write_exchange(
                    url=u,
                    request_headers=[("User-Agent", "bench")],
                    status=200,
                    response_headers=[("Content-Type", "text/html")],
                    body=body,
                    fetched_at=FETCHED,
                )
                capture = Capture(u, 200, FETCHED, w.warc_file, w.offset, w.length)
                add_capture(s, replace(capture, content_type="text/html", site="bench"))
    store.close()
    return url


def main() -> None:
    """Measure and write the results table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-ceilings", action="store_true", help="skip the two pool rows")
    parser.add_argument("--keep", type=Path, help="copy each run's archive into this folder")
    parser.add_argument("--profile", help="cProfile each reextract's main process")
    args = parser.parse_args()

    pages = load()
    docs = pages * args.repeat
    load_before = os.getloadavg()[0]
    traf = ours = traf_cpu = ours_cpu = 0.0
    if not args.no_ceilings:
        traf, traf_cpu = pool_rate(_trafilatura, docs, args.workers)
        ours, ours_cpu = pool_rate(_ours, docs, args.workers)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        url = build_archive(Path(tmp), pages, args.repeat)
        for name, options in (("first", None), ("again", {"include_comments": True})):
            profile = f"{args.profile}-{name}.prof" if args.profile else None
            runs.append(timed_reextract(url, Path(tmp) / "warc", args.workers, options, profile))
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(tmp) / "archive.db", args.keep / f"{name}.db")
                report_json = json.dumps(runs[-1][0].as_dict(), indent=1, sort_keys=True)
                (args.keep / f"{name}.json").write_text(report_json)
    cpu_lines = []
    for label, (rep, elapsed, main_cpu, workers_cpu) in zip(("first", "again"), runs, strict=True):
        n = max(rep.processed, 1)
        cpu_lines.append(
            f"- reextract {label}: {rep.processed} captures in {elapsed:.2f} s "
            f"({rep.processed / elapsed:.1f}/s); CPU ms per capture: main process "
            f"{1000 * main_cpu / n:.1f}, workers {1000 * workers_cpu / n:.1f}"
        )
    load_after = os.getloadavg()[0]
    print("\n".join(cpu_lines))
    print(f"load average: {load_before:.1f} before, {load_after:.1f} after")
    if args.no_ceilings:
        return
    report, elapsed = runs[0][0], runs[0][1]
    again, again_elapsed = runs[1][0], runs[1][1]
    rate = report.processed / elapsed
    rate_again = again.processed / again_elapsed
    # CPU per capture of the whole re-extraction (main process and workers): on a shared
    # machine steadier than docs/s, and what bounds docs/s when every core is busy.
    cpu_first = (runs[0][2] + runs[0][3]) / max(report.processed, 1)
    cpu_again = (runs[1][2] + runs[1][3]) / max(again.processed, 1)
    lines = [
        "# Re-extraction throughput",
        "",
        f"`python -m bench.bench_reextract --repeat {args.repeat}` on {platform.machine()}, "
        f"Python {platform.python_version()}, os.cpu_count() = {os.cpu_count()}, "
        f"{args.workers} workers; {len(docs)} captures ({len(pages)} benchmark pages x "
        f"{args.repeat}), measured {datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| what | docs/s | ratio to trafilatura alone | CPU ms per doc | trafilatura alone's"
        " CPU / this CPU |",
        "|---|---:|---:|---:|---:|",
        f"| trafilatura.bare_extraction alone (same options, pool) | {traf:.1f} | 1.00 | "
        f"{1000 * traf_cpu:.1f} | 1.00 |",
        f"| crawler.extraction.extract alone (pool) | {ours:.1f} | {ours / traf:.2f} | "
        f"{1000 * ours_cpu:.1f} | {traf_cpu / ours_cpu:.2f} |",
        f"| reextract end to end (WARC read, extract, DB, versions) | {rate:.1f} | "
        f"{rate / traf:.2f} | {1000 * cpu_first:.1f} | {traf_cpu / cpu_first:.2f} |",
        f"| reextract again, one option changed (old extractions compared, versions rebuilt) | "
        f"{rate_again:.1f} | {rate_again / traf:.2f} | {1000 * cpu_again:.1f} | "
        f"{traf_cpu / cpu_again:.2f} |",
        "",
        f"reextract vs extract() alone: {rate / ours:.2f} (again: {rate_again / ours:.2f}). "
        f"Report: {report.processed} processed, "
        f"{report.new_articles} new articles, {report.errors} extraction errors. "
        f"Load average: {load_before:.1f} at the start, {load_after:.1f} at the end (the "
        "machine is shared).",
        "",
        *cpu_lines,
        "",
        "The pool rows exclude pool start-up and the workers' first (import-warming) call;",
        "reextract includes them, plus reading each record back from WARC and, in the main",
        "process, storing the extraction (simhash included) and building articles/versions.",
        "On 2 cores that main-process work competes with the 2 extraction workers.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
