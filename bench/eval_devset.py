"""The article-metadata dev set part of bench/results/metadata.md (see bench/eval_metadata.py)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import trafilatura

from crawler.extraction import EXTRACTOR_ID
from tests.metadata_devset import FIELDS, dataset_dir, evaluate, jobs, totals

_NAMES = {"title": "title (headline)", "authors": "every listed author found",
          "date": "publication day", "language": "language"}  # fmt: skip


def _cell(hits: int, n: int) -> str:
    return f"{hits}/{n} ({hits / n:.2f})" if n else "-"


def _by_language(rows: list[dict[str, Any]]) -> list[str]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["label"].get("language") or "none"].append(row)
    lines = [
        "| language | pages | title | authors | date | language |",
        "|---|---|---|---|---|---|",
    ]
    for lang, group in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
        ours, alone = totals(group, "ours"), totals(group, "alone")
        cells = []
        for field in FIELDS:
            (h, n), (a, _) = ours[field], alone[field]
            cells.append(f"{h / n:.2f} / {a / n:.2f}" if n else "-")
        lines.append(f"| {lang} | {len(group)} | " + " | ".join(cells) + " |")
    return lines


def _failures(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| field | source | pages missed |", "|---|---|---|"]
    for field in FIELDS:
        missed = Counter(r["label"]["source_repo"] for r in rows if r["ours_score"][field] is False)
        for source, n in missed.most_common():
            lines.append(f"| {field} | {source} | {n} |")
    return lines


def devset_section() -> list[str]:
    """Markdown lines for the dev set: side-by-side table, per language, failures, states."""
    directory = dataset_dir()
    if directory is None:
        raise SystemExit("article-metadata not found (set NEWSARCHIVE_DATASETS)")
    started = time.monotonic()
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(evaluate, jobs(directory, with_alone=True), chunksize=8))
    seconds = time.monotonic() - started
    ours, alone = totals(rows, "ours"), totals(rows, "alone")
    states = Counter(r["ours"].state for r in rows)
    lines = [
        "# Metadata accuracy",
        "",
        f"`python -m bench.eval_metadata` (both extractors on the same pages in one run, "
        f"{seconds:.0f} s on 2 shared cores: a noisy figure).",
        "",
        f"## Dev set: article-metadata ({len(rows)} pages, 17 languages)",
        "",
        "Scoring (tests/metadata_devset.py): `title` equals the labelled headline; every "
        "labelled author is among those found; the publication day matches in the page's "
        "time zone (a UTC-normalised label matches a local day in some zone when the page "
        "gave no offset); the language code matches. Titles and names compare by lower-cased "
        "word tokens. Title convention: the on-page headline. readability, goose3 and "
        "newspaper4k label the SEO `<title>`: for their pages `title` or `seo_title` may "
        "match, with a site name before or after allowed. trafilatura alone sets no "
        "language without a target language, hence its 0.",
        "",
        f"| field | newsarchive {EXTRACTOR_ID} | trafilatura {trafilatura.__version__} alone |",
        "|---|---|---|",
        *(f"| {_NAMES[f]} | {_cell(*ours[f])} | {_cell(*alone[f])} |" for f in FIELDS),
        "",
        "Page states (an article page should be `article`, or `paywalled` and still archived): "
        + ", ".join(f"{k} {v}" for k, v in states.most_common()),
        "",
        "### Per language (newsarchive / trafilatura alone)",
        "",
        *_by_language(rows),
        "",
        "### Misses by field and label source",
        "",
        *_failures(rows),
        "",
    ]
    return lines
