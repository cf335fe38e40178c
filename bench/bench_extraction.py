"""Extraction throughput: crawler.extraction.extract vs trafilatura's bare_extraction alone.

`python -m bench.bench_extraction [--repeat N]` runs both over the 181 benchmark pages in
this process on one core (both warmed first), interleaving repetitions to share machine
noise, and writes bench/results/extraction.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from crawler.extraction import EXTRACTOR_ID, TRAFILATURA_OPTIONS, extract
from tests.extraction_benchmark import FETCHED_AT, dataset_dir, ground_truth, page

RESULTS = Path(__file__).parent / "results" / "extraction.md"
Pages = list[tuple[bytes, str]]


def trafilatura_alone(html: bytes, url: str) -> object:
    """The baseline: what the crawl would run without our rules (metadata included)."""
    return trafilatura.bare_extraction(html, url=url, with_metadata=True, **TRAFILATURA_OPTIONS)


def ours(html: bytes, url: str) -> object:
    """The extractor the crawl runs."""
    return extract(html, url, FETCHED_AT)


def timed(function: Callable[[bytes, str], object], pages: Pages) -> float:
    """Seconds to run `function` over every page once."""
    start = time.perf_counter()
    for html, url in pages:
        function(html, url)
    return time.perf_counter() - start


def main() -> None:
    """Measure, print and write the results table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    directory = dataset_dir()
    if directory is None:
        raise SystemExit("article-extraction-benchmark not found (set NEWSARCHIVE_DATASETS)")
    pages = [(page(directory, pid), t["url"]) for pid, t in sorted(ground_truth(directory).items())]
    for function in (trafilatura_alone, ours):  # warm: imports, caches, lazy XPath compilation
        timed(function, pages[:20])
    runs: dict[str, list[float]] = {"trafilatura": [], "extract": []}
    for _ in range(args.repeat):
        runs["trafilatura"].append(timed(trafilatura_alone, pages))
        runs["extract"].append(timed(ours, pages))
    best = {name: min(times) for name, times in runs.items()}
    rate = {name: len(pages) / seconds for name, seconds in best.items()}
    overhead = best["extract"] / best["trafilatura"] - 1
    lines = [
        "# Extraction throughput",
        "",
        f"`python -m bench.bench_extraction --repeat {args.repeat}`: {len(pages)} pages of "
        "article-extraction-benchmark, one process, one core, both warmed, best of the "
        "interleaved repetitions.",
        "",
        "| extractor | best s | docs/s |",
        "|---|---|---|",
        f"| trafilatura {trafilatura.__version__} bare_extraction (with_metadata=True) "
        f"| {best['trafilatura']:.2f} | {rate['trafilatura']:.1f} |",
        f"| crawler.extraction.extract ({EXTRACTOR_ID}) | {best['extract']:.2f} "
        f"| {rate['extract']:.1f} |",
        "",
        f"- cost of extract() over trafilatura alone: {overhead:+.1%}",
        f"- all runs (s): trafilatura {[round(t, 2) for t in runs['trafilatura']]}, "
        f"extract {[round(t, 2) for t in runs['extract']]}",
        f"- os.cpu_count() = {os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.machine()}; the machine is shared, so absolute numbers are noisy.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
