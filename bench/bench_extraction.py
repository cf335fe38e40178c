"""Extraction CPU: crawler.extraction.extract vs trafilatura's bare_extraction alone.

`python -m bench.bench_extraction [--repeat N]` runs, over the 181 benchmark pages in this
process on one core (all warmed first), in turn and in a rotating order each repetition:

- trafilatura alone, body only (`bare_extraction(..., with_metadata=False)`, our options):
  the baseline, as in bench_crawl; every ratio is against it unless it says otherwise;
- trafilatura with its metadata (`with_metadata=True`): what a user's own spider runs;
- `extract()`: body and our metadata rules;
- the extraction worker's job as the crawl runs it: the pickled call unpickled,
  `extract_with_fingerprints` (extract, content hash, simhash), the result pickled.

CPU time (time.process_time), not wall time: the machine is shared. Ratios are taken
within each repetition and the median reported. Writes bench/results/extraction.md.
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from crawler.extraction import EXTRACTOR_ID, TRAFILATURA_OPTIONS, extract
from crawler.pool import extract_with_fingerprints
from tests.extraction_benchmark import FETCHED_AT, dataset_dir, ground_truth, page

RESULTS = Path(__file__).parent / "results" / "extraction.md"
Pages = list[tuple[bytes, str]]


def body_only(html: bytes, url: str) -> object:
    """The baseline: trafilatura's body extraction with our options, no metadata."""
    return trafilatura.bare_extraction(
        html, url=url, with_metadata=False, output_format="python", **TRAFILATURA_OPTIONS
    )


def with_metadata(html: bytes, url: str) -> object:
    """trafilatura with its own metadata (title, author, date, ...), same options."""
    return trafilatura.bare_extraction(
        html, url=url, with_metadata=True, output_format="python", **TRAFILATURA_OPTIONS
    )


def ours(html: bytes, url: str) -> object:
    """The extractor the crawl runs."""
    return extract(html, url, FETCHED_AT)


def pool_job(html: bytes, url: str) -> object:
    """The worker's side of one crawl job: unpickle the call, run it, pickle the result."""
    call = pickle.dumps((html, url, FETCHED_AT, {"status": 200, "content_type": "text/html"}))
    body, page_url, fetched_at, kwargs = pickle.loads(call)
    return pickle.dumps(extract_with_fingerprints(body, page_url, fetched_at, **kwargs))


RUNS: dict[str, Callable[[bytes, str], object]] = {
    "body": body_only,
    "metadata": with_metadata,
    "extract": ours,
    "job": pool_job,
}
LABELS = {
    "body": f"trafilatura {trafilatura.__version__} bare_extraction, body only "
    "(with_metadata=False): the baseline",
    "metadata": "trafilatura bare_extraction with_metadata=True",
    "extract": f"crawler.extraction.extract ({EXTRACTOR_ID})",
    "job": "extraction worker job: unpickle, extract_with_fingerprints, pickle",
}


def cpu_ms_per_page(function: Callable[[bytes, str], object], pages: Pages) -> float:
    """CPU milliseconds per page to run `function` over every page once."""
    start = time.process_time()
    for html, url in pages:
        function(html, url)
    return (time.process_time() - start) * 1000 / len(pages)


def main() -> None:
    """Measure, print and write the results table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    directory = dataset_dir()
    if directory is None:
        raise SystemExit("article-extraction-benchmark not found (set NEWSARCHIVE_DATASETS)")
    pages = [(page(directory, pid), t["url"]) for pid, t in sorted(ground_truth(directory).items())]
    for function in RUNS.values():  # warm: imports, caches, lazy XPath and table builds
        cpu_ms_per_page(function, pages)
    names = list(RUNS)
    runs: dict[str, list[float]] = {name: [] for name in names}
    load = os.getloadavg()
    for i in range(args.repeat):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            runs[name].append(cpu_ms_per_page(RUNS[name], pages))
    median = {name: statistics.median(times) for name, times in runs.items()}

    def ratio(name: str, base: str) -> float:
        return statistics.median(a / b for a, b in zip(runs[name], runs[base], strict=True))

    rows = [
        f"| {LABELS[name]} | {median[name]:.1f} | {min(runs[name]):.1f} "
        f"| {ratio(name, 'body'):.2f} | {ratio(name, 'metadata'):.2f} |"
        for name in names
    ]
    lines = [
        "# Extraction CPU",
        "",
        f"`python -m bench.bench_extraction --repeat {args.repeat}`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {len(pages)} pages of "
        "article-extraction-benchmark, one process, all four warmed, then each over every page "
        "in turn, in a rotating order, per repetition. CPU time (time.process_time); ratios "
        "are the median of the ratios within each repetition.",
        "",
        "| what | CPU ms per page (median) | best | vs body only | vs with metadata |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"- **extract() / trafilatura body only: {ratio('extract', 'body'):.2f}**; "
        f"extract() / trafilatura with metadata: {ratio('extract', 'metadata'):.2f}; "
        f"worker job / body only: {ratio('job', 'body'):.2f}",
        "- all runs (CPU ms per page): "
        + "; ".join(f"{name} {[round(t, 1) for t in runs[name]]}" for name in names),
        f"- os.cpu_count() = {os.cpu_count()}, load average at start "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, Python {platform.python_version()}, "
        f"{platform.machine()}; the machine is shared, so absolute numbers are noisy.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
