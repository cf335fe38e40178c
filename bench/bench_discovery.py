"""Article-link discovery on the 21 labelled listing pages, next to the naive URL rule.

`python -m bench.bench_discovery` scores crawler.discovery.discover (zero config: no
article_pattern, no allowed_domains) and the naive rule ("same registered domain, and a
date or a long number or a 3-hyphen slug in the path") in the same run, page by page, and
writes bench/results/discovery.md. Sets of URLs without fragments are compared.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import courlan

from crawler.discovery import discover
from tests.listing_pages import Score, dataset_dir, load_pages, mean, naive_rule, score_all

RESULTS = Path(__file__).parent / "results" / "discovery.md"


def table(ours: list[Score], naive: list[Score]) -> list[str]:
    """The per-page Markdown table, means last."""
    lines = [
        "| page | articles | ours found | ours P | ours R | naive found | naive P | naive R |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for o, n in zip(ours, naive, strict=True):
        lines.append(
            f"| {o.page} | {o.gold} | {o.found} | {o.precision:.2f} | {o.recall:.2f} "
            f"| {n.found} | {n.precision:.2f} | {n.recall:.2f} |"
        )
    lines.append(
        f"| **mean** | | | **{mean(ours, 'precision'):.3f}** | **{mean(ours, 'recall'):.3f}** "
        f"| | **{mean(naive, 'precision'):.3f}** | **{mean(naive, 'recall'):.3f}** |"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    """Score both rules on every page and write bench/results/discovery.md."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="accepted; the run is short anyway")
    parser.parse_args(argv)
    directory = dataset_dir()
    if directory is None:
        raise SystemExit("listing-pages dataset not found (set NEWSARCHIVE_DATASETS)")
    pages = load_pages(directory)
    start = time.perf_counter()
    ours = score_all(pages, lambda p: discover(p.html, p.url).article_links)
    seconds = time.perf_counter() - start
    naive = score_all(pages, naive_rule)
    low = [s for s in ours if s.recall < 0.8]
    text = [
        "# Article-link discovery on real listing pages",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"courlan {courlan.__version__ if hasattr(courlan, '__version__') else '?'}; "
        f"dataset `listing-pages` ({len(pages)} pages, {sum(s.gold for s in ours)} distinct "
        "article URLs). Zero config: no `article_pattern`, no `allowed_domains`.",
        "",
        "P = precision, R = recall over distinct URLs without fragments; *naive* is the rule "
        '"same registered domain, and a date or a long number or a 3-hyphen slug in the path", '
        "measured in the same run.",
        "",
        *table(ours, naive),
        "",
        f"Pages under recall 0.80: {', '.join(f'{s.page} ({s.recall:.2f})' for s in low)}."
        if low
        else "Pages under recall 0.80: none.",
        f"Discovery time for all {len(pages)} pages: {seconds:.2f} s (one core, noisy machine).",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))


if __name__ == "__main__":
    main()
