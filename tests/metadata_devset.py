"""The article-metadata dev set (624 labelled real pages) and its scoring, for the gate and bench.

Scoring (the issue's): `title` equals the label, every labelled author is found, the
publication day matches in the page's own time zone, the language code matches.
Titles and names compare by lower-cased word tokens.

Title convention: `title` is the on-page headline. trafilatura, postlight and mediacloud
label the headline; readability, goose3 and newspaper4k label what their extractor took,
often the SEO `<title>` with its site affix. For those three sources a page counts when
`title` or `seo_title` equals the label, with a site name before or after the label allowed
to differ (see `title_ok`).
"""

from __future__ import annotations

import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import trafilatura

DATASET = "article-metadata"
# The newest pages of the set are from 2024: later dates on them are not future dates.
FETCHED_AT = datetime(2025, 6, 1, tzinfo=UTC)
SEO_TITLE_SOURCES = {"mozilla/readability", "goose3/goose3", "AndyTheFactory/newspaper4k"}
FIELDS = ("title", "authors", "date", "language")
_TOKEN = re.compile(r"\w+")
_MAX_AFFIX_WORDS = 6


def dataset_dir() -> Path | None:
    """$NEWSARCHIVE_DATASETS/article-metadata, else ../shared/datasets/article-metadata."""
    roots = [
        os.environ.get("NEWSARCHIVE_DATASETS"),
        Path(__file__).parents[1].parent / "shared" / "datasets",
    ]
    for root in roots:
        if root and (Path(root) / DATASET / "labels.jsonl").is_file():
            return Path(root) / DATASET
    return None


def labels(directory: Path) -> list[dict[str, Any]]:
    """One dict per page, as labels.jsonl has them."""
    lines = (directory / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def page(directory: Path, page_id: str) -> bytes:
    """The stored HTML bytes of one page."""
    return gzip.decompress((directory / "html" / f"{page_id}.html.gz").read_bytes())


def norm(text: str | None) -> str:
    """Lower-cased word tokens joined by one space."""
    return " ".join(_TOKEN.findall((text or "").lower()))


@dataclass(slots=True)
class Found:
    """What one extractor gave for one page."""

    title: str | None
    authors: list[str]
    day: str | None  # yyyy-mm-dd in the page's time zone when known
    instant: datetime | None  # the UTC instant, when the extractor gave a time
    language: str | None
    offset: int | None = None  # the page's UTC offset in minutes, when it gave one
    seo_title: str | None = None
    state: str = "article"
    extra: dict[str, str] = field(default_factory=dict)


def _affix_only(longer: str, shorter: str) -> bool:
    # "Headline - Site" vs "Headline": the difference is a short site name before or after.
    if not shorter or shorter not in longer:
        return False
    rest = longer.replace(shorter, " ", 1).split()
    return len(rest) <= _MAX_AFFIX_WORDS


def title_ok(found: Found, label: dict[str, Any]) -> bool:
    """The title scoring described in the module docstring."""
    want = norm(label["title"])
    if norm(found.title) == want:
        return True
    if label["source_repo"] not in SEO_TITLE_SOURCES:
        return False
    for candidate in (norm(found.title), norm(found.seo_title)):
        if candidate and (_affix_only(want, candidate) or _affix_only(candidate, want)):
            return True
    return False


def authors_ok(found: Found, label: dict[str, Any]) -> bool:
    """Every labelled author is among the extractor's authors."""
    have = {norm(a) for a in found.authors}
    return all(norm(a) in have for a in label["authors"])


def date_ok(found: Found, label: dict[str, Any]) -> bool:
    """Same publication day in the page's time zone.

    A label with a time and zone (postlight normalises to UTC) is an instant: compared as
    an instant when the extractor knows the page's offset, else its local day must be the
    label's day in some time zone (UTC-12 to UTC+14), as the page's zone is unknown.
    """
    raw = label["published"]
    when = datetime.fromisoformat(raw.replace("Z", "+00:00")) if len(raw) > 10 else None
    if when is None or when.tzinfo is None:
        return found.day == raw[:10]
    if found.instant is not None and found.offset is not None:
        return found.instant.astimezone(when.tzinfo).date() == when.date()
    days = {(when + timedelta(hours=h)).date().isoformat() for h in range(-12, 15)}
    return found.day in days


def language_ok(found: Found, label: dict[str, Any]) -> bool:
    """Same ISO 639-1 code."""
    return (found.language or "").lower()[:2] == label["language"]


def score_page(found: Found, label: dict[str, Any]) -> dict[str, bool | None]:
    """{field: hit, or None when the page has no label for it}."""
    return {
        "title": title_ok(found, label),
        "authors": authors_ok(found, label) if label.get("authors") else None,
        "date": date_ok(found, label) if label.get("published") else None,
        "language": language_ok(found, label) if label.get("language") else None,
    }


def ours(html: bytes, url: str) -> Found:
    """crawler.extraction's answer."""
    from crawler.extraction import extract

    result = extract(html, url, FETCHED_AT)
    day = instant = None
    if result.published is not None:
        instant = result.published.value
        offset = timedelta(minutes=result.published.tz_offset_minutes or 0)
        day = (instant + offset).date().isoformat()
    return Found(
        title=result.title,
        seo_title=result.seo_title,
        authors=list(result.authors),
        day=day,
        instant=instant,
        offset=result.published.tz_offset_minutes if result.published else None,
        language=result.language,
        state=str(result.state),
        extra=dict(result.extra),
    )


def trafilatura_alone(html: bytes, url: str) -> Found:
    """trafilatura's own metadata (bare_extraction with metadata), as a baseline."""
    from crawler.extraction import TRAFILATURA_OPTIONS

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, **TRAFILATURA_OPTIONS)
    raw_date = getattr(doc, "date", None)
    day = None
    if raw_date:
        try:
            day = date.fromisoformat(raw_date[:10]).isoformat()
        except ValueError:
            day = None
    authors = [a.strip() for a in (getattr(doc, "author", None) or "").split(";") if a.strip()]
    return Found(
        title=getattr(doc, "title", None),
        authors=authors,
        day=day,
        instant=None,
        language=getattr(doc, "language", None),
    )


def evaluate(args: tuple[Path, dict[str, Any], bool]) -> dict[str, Any]:
    """Score one page with ours (and trafilatura alone when asked); picklable for a pool."""
    directory, label, with_alone = args
    html = page(directory, label["id"])
    url = label["url"] or f"https://example.org/{label['id']}"
    mine = ours(html, url)
    row: dict[str, Any] = {"id": label["id"], "label": label, "ours": mine}
    row["ours_score"] = score_page(mine, label)
    if with_alone:
        alone = trafilatura_alone(html, url)
        row["alone"], row["alone_score"] = alone, score_page(alone, label)
    return row


def jobs(directory: Path, with_alone: bool) -> Iterator[tuple[Path, dict[str, Any], bool]]:
    """One evaluate() argument per labelled page."""
    for label in labels(directory):
        yield directory, label, with_alone


def totals(rows: list[dict[str, Any]], which: str) -> dict[str, tuple[int, int]]:
    """{field: (hits, labelled pages)} over `rows` for "ours" or "alone"."""
    out: dict[str, tuple[int, int]] = {}
    for name in FIELDS:
        scored = [r[f"{which}_score"][name] for r in rows if r[f"{which}_score"][name] is not None]
        out[name] = (sum(scored), len(scored))
    return out
