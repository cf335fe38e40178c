"""The listing-pages dev set (21 real listing pages, labelled links), for the gate and bench."""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from courlan.urlutils import get_tldinfo

DATASET = "listing-pages"


@dataclass(frozen=True)
class ListingPage:
    """One labelled page: its bytes, URL and the article URLs a reader sees on it."""

    id: str
    url: str
    html: bytes
    links: tuple[str, ...]  # every <a href> resolved, in document order (defragmented)
    gold: frozenset[str]  # article URLs, without fragments


@dataclass(frozen=True)
class Score:
    """Precision and recall of one extractor on one page (sets of URLs without fragments)."""

    page: str
    precision: float
    recall: float
    found: int
    gold: int


def dataset_dir() -> Path | None:
    """$NEWSARCHIVE_DATASETS/listing-pages, else ../shared/datasets/listing-pages, else None."""
    roots = [
        os.environ.get("NEWSARCHIVE_DATASETS"),
        Path(__file__).parents[1].parent / "shared" / "datasets",
    ]
    for root in roots:
        if root and (Path(root) / DATASET / "pages.json").is_file():
            return Path(root) / DATASET
    return None


def load_pages(directory: Path) -> list[ListingPage]:
    """Every page of the dev set, with its gold article URLs."""
    out = []
    for meta in json.loads((directory / "pages.json").read_text()):
        html = gzip.decompress((directory / f"{meta['id']}.html.gz").read_bytes())
        with open(directory / f"{meta['id']}.links.tsv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        links = tuple(urldefrag(r["url_absolute"])[0] for r in rows)
        gold = frozenset(urldefrag(r["url_absolute"])[0] for r in rows if r["article_like"] == "1")
        out.append(ListingPage(meta["id"], meta["page_url"], html, links, gold))
    return out


def score(page: ListingPage, found: Iterable[str]) -> Score:
    """Precision/recall of the URLs `found` (fragments dropped) against the page's gold set."""
    got = {urldefrag(u)[0] for u in found}
    hits = len(got & page.gold)
    precision = hits / len(got) if got else (1.0 if not page.gold else 0.0)
    recall = hits / len(page.gold) if page.gold else 1.0
    return Score(page.id, precision, recall, len(got), len(page.gold))


_NAIVE_DATE = re.compile(r"/(?:19|20)\d{2}[/-]?(?:0[1-9]|1[0-2])")
_NAIVE_NUMBER = re.compile(r"\d{5,}")
_NAIVE_SLUG = re.compile(r"[^/]*-[^/]*-[^/]*-[^/]*")


def naive_rule(page: ListingPage) -> list[str]:
    """The baseline: same registered domain, and a date, a long number or a 3-hyphen slug."""
    domain = get_tldinfo(page.url, fast=True)[1]
    out = []
    for url in page.links:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        if get_tldinfo(url, fast=True)[1] != domain:
            continue
        path = parts.path + ("?" + parts.query if parts.query else "")
        if _NAIVE_DATE.search(path) or _NAIVE_NUMBER.search(path) or _NAIVE_SLUG.search(path):
            out.append(url)
    return out


def mean(scores: list[Score], attr: str) -> float:
    """The mean of one field over the pages."""
    return sum(getattr(s, attr) for s in scores) / len(scores)


def score_all(
    pages: list[ListingPage], extractor: Callable[[ListingPage], list[str]]
) -> list[Score]:
    """Score `extractor` on every page."""
    return [score(p, extractor(p)) for p in pages]
