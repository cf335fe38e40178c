"""Re-extraction throughput on all cores vs trafilatura alone over the same pages.

Run: ``python -m bench.bench_reextract [--repeat R] [--workers N]``. Stores the 181 pages of
the shared article-extraction benchmark (read in place, never copied into the repo) R times
into a WARC file via WarcStore, with a captures row each, in a fresh SQLite archive; then:

- trafilatura alone: ``trafilatura.bare_extraction`` with our options over the in-memory
  pages, in a process pool of the same size;
- extract() alone: our full extractor (trafilatura + metadata rules) the same way;
- reextract: ``crawler.reextract.reextract`` (WARC read in workers, extraction, archive
  writes, version building), end to end.

Writes bench/results/reextract.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

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


def pool_rate(fn: object, pages: list[tuple[str, bytes]], workers: int) -> float:
    """Pages per second of fn over pages in a pool (pool start-up excluded)."""
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(fn, pages[:workers], chunksize=1))  # warm the workers' imports
        start = time.perf_counter()
        list(pool.map(fn, pages, chunksize=4))  # type: ignore[arg-type]
        return len(pages) / (time.perf_counter() - start)


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
    args = parser.parse_args()
    from crawler.reextract import reextract
    from storage.db import Archive

    pages = load()
    docs = pages * args.repeat
    traf = pool_rate(_trafilatura, docs, args.workers)
    ours = pool_rate(_ours, docs, args.workers)
    with tempfile.TemporaryDirectory() as tmp:
        url = build_archive(Path(tmp), pages, args.repeat)
        with Archive(url) as archive:
            start = time.perf_counter()
            report = reextract(archive, Path(tmp) / "warc", workers=args.workers)
            elapsed = time.perf_counter() - start
    rate = report.processed / elapsed
    lines = [
        "# Re-extraction throughput",
        "",
        f"`python -m bench.bench_reextract --repeat {args.repeat}` on {platform.machine()}, "
        f"Python {platform.python_version()}, os.cpu_count() = {os.cpu_count()}, "
        f"{args.workers} workers; {len(docs)} captures ({len(pages)} benchmark pages x "
        f"{args.repeat}), measured {datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| what | docs/s | ratio to trafilatura alone |",
        "|---|---:|---:|",
        f"| trafilatura.bare_extraction alone (same options, pool) | {traf:.1f} | 1.00 |",
        f"| crawler.extraction.extract alone (pool) | {ours:.1f} | {ours / traf:.2f} |",
        f"| reextract end to end (WARC read, extract, DB, versions) | {rate:.1f} | "
        f"{rate / traf:.2f} |",
        "",
        f"reextract vs extract() alone: {rate / ours:.2f}. Report: {report.processed} processed, "
        f"{report.new_articles} new articles, {report.errors} extraction errors. "
        f"Load average during the run: {os.getloadavg()[0]:.1f} (the machine is shared).",
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
