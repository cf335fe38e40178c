"""Metadata accuracy: crawler.extraction vs trafilatura's own metadata, in the same run.

`python -m bench.eval_metadata` scores title, authors, published date and language on the
624-page article-metadata dev set (tests/metadata_devset.py, per field and per language)
and title, authors and date on the 31 held-out benchmark pages of
tests/data/metadata_labels.json, and writes bench/results/metadata.md.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import trafilatura

from bench.eval_devset import devset_section
from crawler.extraction import EXTRACTOR_ID, TRAFILATURA_OPTIONS, extract
from tests.extraction_benchmark import FETCHED_AT, dataset_dir, ground_truth, page

LABELS = Path(__file__).parents[1] / "tests" / "data" / "metadata_labels.json"
RESULTS = Path(__file__).parent / "results" / "metadata.md"
_TOKEN = re.compile(r"\w+")


def norm(text: str | None) -> str:
    """Compare titles and names by their lower-cased word tokens only."""
    return " ".join(_TOKEN.findall((text or "").lower()))


def same_day(found: str | None, label: str, slack: int = 0) -> bool:
    """True when the found yyyy-mm-dd is within `slack` days of the label."""
    if not found:
        return False
    delta = date.fromisoformat(found[:10]) - date.fromisoformat(label)
    return abs(delta) <= timedelta(days=slack)


def predictions(html: bytes, url: str) -> dict[str, tuple[str | None, list[str], str | None]]:
    """(title, authors, published yyyy-mm-dd) from both extractors."""
    ours = extract(html, url, FETCHED_AT)
    alone = trafilatura.bare_extraction(html, url=url, with_metadata=True, **TRAFILATURA_OPTIONS)
    authors = [a.strip() for a in (getattr(alone, "author", None) or "").split(";") if a.strip()]
    return {
        "extract": (
            ours.title,
            list(ours.authors),
            ours.published.value.date().isoformat() if ours.published else None,
        ),
        "trafilatura": (getattr(alone, "title", None), authors, getattr(alone, "date", None)),
    }


def main() -> None:
    """Score both extractors on both sets and write the results page."""
    dev = devset_section()
    directory = dataset_dir()
    if directory is None:
        raise SystemExit("article-extraction-benchmark not found (set NEWSARCHIVE_DATASETS)")
    labels = json.loads(LABELS.read_text())["pages"]
    urls = {pid: t["url"] for pid, t in ground_truth(directory).items()}
    fields = ("title", "authors", "found", "date", "date1")
    score = {name: dict.fromkeys(fields, 0) for name in ("extract", "trafilatura")}
    misses: list[str] = []
    for pid, label in labels.items():
        found = predictions(page(directory, pid), urls[pid])
        for name, (title, authors, published) in found.items():
            ok = {
                "title": norm(title) == norm(label["title"]),
                "authors": sorted(map(norm, authors)) == sorted(map(norm, label["authors"])),
                "found": set(map(norm, label["authors"])) <= set(map(norm, authors)),
                "date": same_day(published, label["published"]),
                "date1": same_day(published, label["published"], slack=1),
            }
            for field, good in ok.items():
                score[name][field] += good
            if name == "extract" and not all(ok.values()):
                wrong = ", ".join(
                    f for f, good in ok.items() if not good and f not in ("date1", "found")
                )
                misses.append(
                    f"| {urls[pid][:60]} | {wrong} | {title!r} / {authors} / {published} "
                    f"| {label['title']!r} / {label['authors']} / {label['published']} |"
                )
    n = len(labels)
    lines = [
        *dev,
        "## Held-out pages (31, article-extraction-benchmark)",
        "",
        f"`python -m bench.eval_metadata`: {n} pages of article-extraction-benchmark set aside "
        "before any rule was written (every 6th page id by name), labelled by hand afterwards "
        "(tests/data/metadata_labels.json says how). Titles and names compare by lower-cased "
        "word tokens; authors must match as a set (an outlet or agency credited instead of a "
        "person counts as wrong when the label is empty); dates compare the UTC calendar day.",
        "",
        "| field | extract() " + EXTRACTOR_ID + " | trafilatura " + trafilatura.__version__ + " |",
        "|---|---|---|",
    ]
    for field, title in (
        ("title", "title"),
        ("authors", "authors (exact set)"),
        ("found", "authors (every listed author found)"),
        ("date", "published (same day)"),
        ("date1", "published (within 1 day)"),
    ):
        ours, alone = score["extract"][field], score["trafilatura"][field]
        lines.append(f"| {title} | {ours}/{n} ({ours / n:.0%}) | {alone}/{n} ({alone / n:.0%}) |")
    lines += [
        "",
        "The exact-set row follows these labels' convention (an agency or desk credited "
        "counts as wrong); since na-3 the archive keeps agency and desk credits ('Associated "
        "Press', 'IGN Staff', 'PTI') as the issue asks, which this row counts against it. "
        "The 'every listed author found' row is the dev set's scoring.",
        "",
        "Caveats: 31 pages is a small sample (one page is about 3 points); the labels are one "
        "person's reading and a few are judgement calls (marked low confidence in the labels "
        "file). The rules were developed on the other 150 pages of the same benchmark, so "
        "these pages share publishers and the November 2019 crawl with the development set.",
        "",
        "### Pages where extract() misses a field",
        "",
        "| url | wrong | extract(): title / authors / date | label |",
        "|---|---|---|---|",
        *misses,
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
